import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import pl from "nodejs-polars";
import {
  INGEST_FILES,
  ingestMpd,
  OPTIONAL_PLAYLIST_FIELDS,
  OPTIONAL_TRACK_FIELDS,
} from "../lib/data/ingest.ts";
import { describeIngestReport, findPidGaps } from "../lib/data/ingest_summary.ts";
import { loadCorpus } from "../lib/data/load.ts";
import { readPlaylistFile } from "../lib/mpd/read.ts";

const FIXTURES = new URL("./fixtures/mpd/", import.meta.url).pathname;

async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("ingestMpd keeps and counts repeated tracks", async () => {
  await withTempDir(async (dir) => {
    const report = await ingestMpd(join(FIXTURES, "repeats_and_empty"), dir);
    deepStrictEqual(report.repeated_tracks, { playlists: 1, occurrences: 2 });

    const corpus = loadCorpus(dir);
    const uris = Array.from(corpus.playlists[0].tracks, (id) => corpus.tracks.uri[id].slice(14, 15));
    deepStrictEqual(uris, ["A", "B", "A", "C", "A"]);
  });
});

Deno.test("ingestMpd skips and lists empty playlists", async () => {
  await withTempDir(async (dir) => {
    const report = await ingestMpd(join(FIXTURES, "repeats_and_empty"), dir);
    deepStrictEqual(report.skipped.empty_playlists, [1, 3]);
    strictEqual(report.playlists, 2);
    strictEqual(report.num_tracks_mismatches, 0);
    // Missing fields are counted over every playlist read, the skipped ones included.
    strictEqual(report.missing.playlist.num_tracks, 1);

    deepStrictEqual(loadCorpus(dir).playlists.map((playlist) => playlist.pid), [0, 2]);
    const saved = JSON.parse(await Deno.readTextFile(join(dir, INGEST_FILES.report)));
    deepStrictEqual(saved.skipped, { empty_playlists: [1, 3] });
  });
});

Deno.test("ingestMpd counts empty playlist once", async () => {
  await withTempDir(async (dir) => {
    const slice = {
      playlists: [
        { pid: 0, num_tracks: 5, tracks: [] },
        { pid: 1, num_tracks: 3, tracks: [{ track_uri: "spotify:track:A" }] },
      ],
    };
    const input = join(dir, "mpd.slice.0-1.json");
    await Deno.writeTextFile(input, JSON.stringify(slice));
    const report = await ingestMpd(input, join(dir, "out"));
    deepStrictEqual(report.skipped.empty_playlists, [0]);
    // Only pid 1, which is kept, counts as a mismatch.
    strictEqual(report.num_tracks_mismatches, 1);
  });
});

Deno.test("ingestMpd accepts every optional field missing", async () => {
  await withTempDir(async (dir) => {
    const report = await ingestMpd(join(FIXTURES, "all_fields_missing"), dir);
    strictEqual(report.playlists, 2);
    strictEqual(report.track_occurrences, 3);
    for (const field of OPTIONAL_PLAYLIST_FIELDS) strictEqual(report.missing.playlist[field], 2, field);
    for (const field of OPTIONAL_TRACK_FIELDS) strictEqual(report.missing.track[field], 3, field);

    const playlists = pl.readParquet(join(dir, INGEST_FILES.playlists));
    for (const column of ["name", "description", "modified_at", "num_tracks", "collaborative"]) {
      deepStrictEqual(playlists.getColumn(column).toArray(), [null, null], column);
    }
    const tracks = pl.readParquet(join(dir, INGEST_FILES.tracks));
    for (const column of ["track_name", "artist_uri", "album_uri", "duration_ms"]) {
      deepStrictEqual(tracks.getColumn(column).toArray(), [null, null], column);
    }
    const positions = pl.readParquet(join(dir, INGEST_FILES.playlistTracks)).getColumn("pos").toArray();
    deepStrictEqual(positions, [0, 1, 0]);

    const corpus = loadCorpus(dir);
    deepStrictEqual(corpus.playlists.map((playlist) => playlist.name), ["", ""]);
    deepStrictEqual(corpus.playlists.map((playlist) => playlist.modifiedAt), [null, null]);
    deepStrictEqual(corpus.tracks.artistUri, ["", ""]);
  });
});

Deno.test("ingestMpd rejects an empty folder", async () => {
  await withTempDir(async (dir) => {
    await rejects(ingestMpd(dir, join(dir, "out")), (error: Error) => {
      ok(error instanceof Deno.errors.NotFound, error.name);
      ok(error.message.includes(`No MPD slice files in ${dir}`), error.message);
      ok(error.message.includes("deno task generate"), error.message);
      return true;
    });
  });
});

Deno.test("ingestMpd lists files that are not slices", async () => {
  await withTempDir(async (dir) => {
    const input = join(dir, "mpd");
    await Deno.mkdir(join(input, "extra"), { recursive: true });
    await Deno.copyFile(
      join(FIXTURES, "repeats_and_empty", "mpd.slice.0-3.json"),
      join(input, "mpd.slice.0-3.json"),
    );
    const strays = ["README.md", "mpd.slice.0-3.json.bak", "notes.txt", "stats.json", "z.json"];
    for (const name of strays) await Deno.writeTextFile(join(input, name), "{}");

    const report = await ingestMpd(input, join(dir, "out"));
    deepStrictEqual(report.files, ["mpd.slice.0-3.json"]);
    deepStrictEqual(report.ignored_files, [
      "README.md",
      "extra/",
      "mpd.slice.0-3.json.bak",
      "notes.txt",
      "stats.json",
      "z.json",
    ]);
    const saved = JSON.parse(await Deno.readTextFile(join(dir, "out", INGEST_FILES.report)));
    deepStrictEqual(saved.ignored_files, report.ignored_files);

    const line = describeIngestReport(report).find((text) => text.startsWith("ignored "));
    strictEqual(
      line,
      "ignored 6 entries of the input folder that are not slice files (mpd.slice.<start>-<end>.json): " +
        "README.md, extra/, mpd.slice.0-3.json.bak, notes.txt, stats.json and 1 more " +
        "(all names under ignored_files in the report)",
    );
  });
});

Deno.test("ingestMpd lists no ignored file for one file", async () => {
  await withTempDir(async (dir) => {
    const report = await ingestMpd(join(FIXTURES, "repeats_and_empty", "mpd.slice.0-3.json"), dir);
    deepStrictEqual(report.ignored_files, []);
    ok(!describeIngestReport(report).some((line) => line.startsWith("ignored ")));
  });
});

Deno.test("ingestMpd names the files of a folder without slices", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "stats.json"), "{}");
    await rejects(ingestMpd(dir, join(dir, "out")), (error: Error) => {
      ok(error instanceof Deno.errors.NotFound, error.name);
      ok(error.message.includes(`No MPD slice files in ${dir} (it contains only stats.json)`), error.message);
      return true;
    });
  });
});

Deno.test("ingestMpd rejects each invalid field", async () => {
  // The byte scanner reads these files first: each must still fail with the validator's message.
  const playlist = (fields: string, track = '{"track_uri":"spotify:track:A"}') =>
    `{"playlists":[{"pid":4,${fields}"tracks":[${track}]}]}`;
  const cases: [string, new (message?: string) => Error, string][] = [
    [playlist('"name":7,'), TypeError, 'field "name" must be a string, got number'],
    [playlist('"num_edits":"3",'), TypeError, 'field "num_edits" must be an integer, got string'],
    [playlist('"num_tracks":-1,'), RangeError, 'field "num_tracks" must be an integer from 0 to'],
    [playlist('"modified_at":1.5,'), RangeError, 'field "modified_at" must be an integer from 0 to'],
    [playlist('"collaborative":"yes",'), TypeError, 'field "collaborative" must be the string "true"'],
    [playlist("", '{"track_uri":""}'), TypeError, 'field "tracks[0].track_uri" is empty'],
    [playlist("", '{"track_uri":null}'), TypeError, 'field "tracks[0].track_uri" is missing'],
    [playlist("", '{"track_uri":"spotify:track:A","duration_ms":"1"}'), TypeError, "tracks[0].duration_ms"],
    [
      playlist("", '{"track_uri":"spotify:track:A","pos":1},{"track_uri":"B","pos":1}'),
      RangeError,
      "repeats",
    ],
    ['{"playlists":[{"pid":4,"tracks":{}}]}', TypeError, 'field "tracks" must be an array, got object'],
    ['{"playlists":[{"pid":"4","tracks":[]}]}', TypeError, 'field "pid" must be an integer, got string'],
    ['{"playlists":[{"pid":3,"tracks":[]},{"pid":3,"tracks":[]}]}', Error, "pid 3 appears twice"],
    ['{"info":{"version":2},"playlists":[]}', TypeError, 'field "info.version" must be a string'],
    ['{"playlists":[]} {}', SyntaxError, "is not valid JSON"],
    ['{"playlists":["x"]}', TypeError, "playlist index 0: must be an object, got string"],
  ];
  await withTempDir(async (dir) => {
    for (const [index, [text, errorClass, part]] of cases.entries()) {
      const file = join(dir, `case${index}.json`);
      await Deno.writeTextFile(file, text);
      await rejects(ingestMpd(file, join(dir, `out${index}`)), (error: Error) => {
        ok(error instanceof errorClass, `${text}: expected ${errorClass.name}, got ${error.name}`);
        ok(error.message.includes(file), `${text}: no file name in ${error.message}`);
        ok(error.message.includes(part), `${text}: "${part}" not in ${error.message}`);
        return true;
      }, text);
    }
  });
});

Deno.test("describeIngestReport names what was skipped", async () => {
  await withTempDir(async (dir) => {
    const lines = describeIngestReport(await ingestMpd(join(FIXTURES, "repeats_and_empty"), dir));
    ok(lines[0].startsWith("1 file: 2 playlists, 7 track occurrences, 3 unique tracks"), lines[0]);
    ok(lines.some((line) => line.startsWith("skipped 2 playlists with an empty tracks array: pids 1, 3")));
    ok(lines.some((line) => line === "kept 1 playlist that repeats a track, with 2 repeated occurrences"));
    ok(lines.some((line) => line.startsWith("missing fields: playlist description: 4,")));
  });
});

Deno.test("findPidGaps finds uncovered pid ranges", () => {
  const slice = (first: number, last: number) => `mpd.slice.${first}-${last}.json`;
  deepStrictEqual(findPidGaps([slice(0, 999), slice(2000, 2999)]), [{ first: 1000, last: 1999 }]);
  deepStrictEqual(findPidGaps([join("data", slice(1000, 1999))]), [{ first: 0, last: 999 }]);
  deepStrictEqual(findPidGaps([slice(1000, 1999), slice(0, 999), slice(2000, 2000)]), []);
  // Overlapping names are the duplicate-pid check's concern; they leave no gap here.
  deepStrictEqual(findPidGaps([slice(0, 10), slice(5, 20), slice(22, 30)]), [{ first: 21, last: 21 }]);
  deepStrictEqual(findPidGaps(["playlists.json"]), []);
});

Deno.test("describeIngestReport notes missing pid ranges", async () => {
  await withTempDir(async (dir) => {
    // The fixture's files cover pids 2-3 and 10-11.
    const lines = describeIngestReport(await ingestMpd(join(FIXTURES, "two_slices"), dir));
    const note = lines.find((line) => line.startsWith("note: no slice file name covers"));
    strictEqual(
      note,
      "note: no slice file name covers 8 pids in 2 ranges: pids 0-1, pids 4-9; " +
        "if a slice file is missing, add it and ingest again",
    );
  });
});

Deno.test("describeIngestReport gives no gap note for contiguous slices", async () => {
  await withTempDir(async (dir) => {
    const lines = describeIngestReport(await ingestMpd(join(FIXTURES, "repeats_and_empty"), dir));
    ok(!lines.some((line) => line.startsWith("note: no slice file name covers")), lines.join("\n"));
  });
});

Deno.test("readPlaylistFile names file without pid", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "mine.json");
    await Deno.writeTextFile(file, JSON.stringify({ name: "road trip", tracks: [{ track_name: "x" }] }));
    await rejects(readPlaylistFile(file), (error: Error) => {
      ok(error instanceof TypeError, error.name);
      strictEqual(
        error.message,
        `${file}: field "tracks[0].track_uri" is missing; every track needs a track_uri`,
      );
      return true;
    });

    await Deno.writeTextFile(file, JSON.stringify({ pid: 7, tracks: [{ track_uri: 3 }] }));
    await rejects(readPlaylistFile(file), (error: Error) => {
      ok(error.message.startsWith(`${file}, playlist pid 7: field "tracks[0].track_uri"`), error.message);
      return true;
    });

    await Deno.writeTextFile(file, JSON.stringify({ tracks: [{ track_uri: "spotify:track:A" }] }));
    strictEqual((await readPlaylistFile(file)).pid, 0);
  });
});
