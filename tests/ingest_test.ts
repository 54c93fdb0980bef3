import { deepStrictEqual, ok, rejects, strictEqual, throws } from "node:assert/strict";
import { join } from "node:path";
import pl from "nodejs-polars";
import { INGEST_FILES, ingestMpd, type IngestReport } from "../lib/data/ingest.ts";
import { PARTS_DIR } from "../lib/data/ingest_parts.ts";
import { loadCorpus } from "../lib/data/load.ts";
import { generateSyntheticMpd, generateSyntheticMpdJson, writeSyntheticMpd } from "../lib/mpd/generate.ts";
import { listSliceFiles, parseSlice, readSlice } from "../lib/mpd/read.ts";

const FIXTURES = new URL("./fixtures/mpd/", import.meta.url).pathname;

async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Ingests `input` into a fresh folder, expects a failure, and checks that no table, report or temporary
 * file was written. Returns the names of the finished parts that the failed run kept for a rerun.
 */
async function rejectsIngestion(
  input: string,
  errorClass: new (message?: string) => Error,
  parts: string[],
): Promise<string[]> {
  let kept: string[] = [];
  await withTempDir(async (dir) => {
    const out = join(dir, "out");
    await rejects(ingestMpd(input, out), (error: Error) => {
      ok(error instanceof errorClass, `expected ${errorClass.name}, got ${error.name}: ${error.message}`);
      for (const part of parts) ok(error.message.includes(part), `"${part}" not in: ${error.message}`);
      return true;
    });
    const left = await Array.fromAsync(Deno.readDir(out)).catch(() => []);
    deepStrictEqual(
      left.filter((entry) => entry.name !== PARTS_DIR),
      [],
      "a failed ingestion left files behind",
    );
    kept = (await Array.fromAsync(Deno.readDir(join(out, PARTS_DIR))).catch(() => [])).map((entry) =>
      entry.name
    );
    deepStrictEqual(
      kept.filter((name) => name.startsWith(".")),
      [],
      "a failed ingestion left a temporary part",
    );
  });
  return kept;
}

Deno.test("ingestMpd round-trips generated playlists", async () => {
  await withTempDir(async (dir) => {
    const options = { playlists: 1500, seed: 11 };
    await writeSyntheticMpd(join(dir, "mpd"), options);
    const report = await ingestMpd(join(dir, "mpd"), join(dir, "out"));
    const corpus = loadCorpus(join(dir, "out"));
    const expected = [...generateSyntheticMpd(options)].flatMap((slice) => slice.playlists);

    strictEqual(corpus.synthetic, true);
    strictEqual(report.synthetic, true);
    strictEqual(corpus.source, join(dir, "mpd"));
    deepStrictEqual(report.files, ["mpd.slice.0-999.json", "mpd.slice.1000-1499.json"]);
    strictEqual(report.playlists, 1500);
    strictEqual(
      report.track_occurrences,
      expected.reduce((sum, playlist) => sum + playlist.tracks.length, 0),
    );
    strictEqual(report.unique_tracks, corpus.tracks.uri.length);
    strictEqual(report.missing.playlist.name, 0);
    strictEqual(report.missing.track.pos, 0);

    strictEqual(corpus.playlists.length, expected.length);
    for (const [index, playlist] of expected.entries()) {
      const loaded = corpus.playlists[index];
      strictEqual(loaded.pid, playlist.pid);
      strictEqual(loaded.name, playlist.name);
      strictEqual(loaded.modifiedAt, playlist.modified_at);
      deepStrictEqual(
        Array.from(loaded.tracks, (id) => corpus.tracks.uri[id]),
        playlist.tracks.map((track) => track.track_uri),
      );
      for (const [pos, track] of playlist.tracks.entries()) {
        const id = loaded.tracks[pos];
        strictEqual(corpus.tracks.name[id], track.track_name);
        strictEqual(corpus.tracks.artistUri[id], track.artist_uri);
        strictEqual(corpus.tracks.artistName[id], track.artist_name);
        strictEqual(corpus.tracks.albumUri[id], track.album_uri);
      }
    }
  });
});

Deno.test("ingestMpd writes the documented Parquet schema", async () => {
  await withTempDir(async (dir) => {
    await ingestMpd(join(FIXTURES, "cut_down"), dir);
    const schema = (name: string) =>
      Object.fromEntries(
        pl.readParquet(join(dir, name)).getColumns().map((column) => [column.name, column.dtype.variant]),
      );

    deepStrictEqual(schema(INGEST_FILES.playlists), {
      pid: "Int32",
      name: "String",
      description: "String",
      modified_at: "Int64",
      num_tracks: "Int32",
      num_followers: "Int32",
      num_edits: "Int32",
      collaborative: "Bool",
      slice: "String",
    });
    deepStrictEqual(schema(INGEST_FILES.playlistTracks), { pid: "Int32", pos: "Int32", track_id: "Int32" });
    deepStrictEqual(schema(INGEST_FILES.tracks), {
      track_id: "Int32",
      track_uri: "String",
      track_name: "String",
      artist_uri: "String",
      artist_name: "String",
      album_uri: "String",
      album_name: "String",
      duration_ms: "Int32",
    });
    const leftovers = [...Deno.readDirSync(dir)].filter((entry) => entry.name.endsWith(".tmp"));
    deepStrictEqual(leftovers, []);
  });
});

Deno.test("ingestMpd accepts a cut-down slice", async () => {
  await withTempDir(async (dir) => {
    const report = await ingestMpd(join(FIXTURES, "cut_down", "mpd.slice.0-2.json"), dir);

    strictEqual(report.synthetic, false);
    strictEqual(report.playlists, 2);
    deepStrictEqual(report.skipped.empty_playlists, [2]);
    strictEqual(report.track_occurrences, 6);
    strictEqual(report.unique_tracks, 4);
    deepStrictEqual(report.repeated_tracks, { playlists: 1, occurrences: 1 });
    strictEqual(report.missing.playlist.modified_at, 3);
    strictEqual(report.missing.playlist.name, 2);
    strictEqual(report.missing.playlist.collaborative, 2);
    strictEqual(report.missing.track.pos, 6);
    strictEqual(report.missing.track.artist_uri, 6);
    strictEqual(report.missing.track.album_uri, 6);
    strictEqual(report.missing.track.track_name, 4);
    // Pid 2 has num_tracks 5 and no tracks, so it counts as skipped, not as a mismatch.
    strictEqual(report.num_tracks_mismatches, 0);
    deepStrictEqual(JSON.parse(await Deno.readTextFile(join(dir, INGEST_FILES.report))), report);

    const corpus = loadCorpus(dir);
    strictEqual(corpus.synthetic, false);
    deepStrictEqual(corpus.playlists.map((playlist) => playlist.pid), [0, 1]);
    deepStrictEqual(corpus.playlists.map((playlist) => playlist.modifiedAt), [null, null]);
    deepStrictEqual(corpus.playlists.map((playlist) => playlist.name), ["road trip", ""]);
    deepStrictEqual(Array.from(corpus.playlists[0].tracks), [0, 1, 2]);
    deepStrictEqual(Array.from(corpus.playlists[1].tracks), [1, 3, 1]);
    deepStrictEqual(corpus.tracks.artistUri, ["", "", "", ""]);
    deepStrictEqual(corpus.tracks.albumUri, ["", "", "", ""]);
    deepStrictEqual(corpus.tracks.name, ["First", "Second", "", ""]);
    deepStrictEqual(corpus.tracks.artistName, ["", "Nobody", "", ""]);

    const positions = pl.readParquet(join(dir, INGEST_FILES.playlistTracks)).getColumn("pos").toArray();
    deepStrictEqual(positions, [0, 1, 2, 0, 1, 2]);
    const collaborative = pl.readParquet(join(dir, INGEST_FILES.playlists)).getColumn("collaborative")
      .toArray();
    deepStrictEqual(collaborative, [null, null]);
    const durations = pl.readParquet(join(dir, INGEST_FILES.tracks)).getColumn("duration_ms").toArray();
    deepStrictEqual(durations, [null, null, null, 200000]);
  });
});

Deno.test("ingestMpd orders tracks by pos", async () => {
  await withTempDir(async (dir) => {
    await ingestMpd(join(FIXTURES, "pos_order"), dir);
    const corpus = loadCorpus(dir);
    deepStrictEqual(
      Array.from(corpus.playlists[0].tracks, (id) => corpus.tracks.uri[id]),
      ["A", "B", "C"].map((letter) => `spotify:track:${letter}${"0".repeat(21)}`),
    );
  });
});

Deno.test("ingestMpd reads slices in start order", async () => {
  await withTempDir(async (dir) => {
    const report = await ingestMpd(join(FIXTURES, "two_slices"), dir);
    deepStrictEqual(report.files, ["mpd.slice.2-3.json", "mpd.slice.10-11.json"]);

    const corpus = loadCorpus(dir);
    deepStrictEqual(corpus.playlists.map((playlist) => playlist.pid), [2, 3, 10, 11]);
    deepStrictEqual(corpus.playlists.map((playlist) => playlist.name), ["two", "three", "ten", "eleven"]);
    // Track A occurs in pid 2 and pid 10 and keeps one id.
    strictEqual(corpus.playlists[0].tracks[0], corpus.playlists[2].tracks[0]);
    strictEqual(corpus.tracks.uri.length, 3);
    const slices = pl.readParquet(join(dir, INGEST_FILES.playlists)).getColumn("slice").toArray();
    deepStrictEqual(slices, [
      "mpd.slice.2-3.json",
      "mpd.slice.2-3.json",
      "mpd.slice.10-11.json",
      "mpd.slice.10-11.json",
    ]);
  });
});

Deno.test("ingestMpd replaces an earlier ingestion", async () => {
  await withTempDir(async (dir) => {
    await ingestMpd(join(FIXTURES, "two_slices"), dir);
    await ingestMpd(join(FIXTURES, "pos_order"), dir);
    const corpus = loadCorpus(dir);
    strictEqual(corpus.playlists.length, 1);
    strictEqual(corpus.source, join(FIXTURES, "pos_order"));
  });
});

Deno.test("readSlice treats null fields as missing", async () => {
  const slice = await readSlice(join(FIXTURES, "null_fields.json"));
  const playlist = slice.playlists[0];
  strictEqual("info" in slice, false);
  strictEqual("description" in playlist, false);
  strictEqual("modified_at" in playlist, false);
  strictEqual("collaborative" in playlist, false);
  strictEqual("pos" in playlist.tracks[0], false);
  strictEqual("artist_uri" in playlist.tracks[0], false);
});

Deno.test("parseSlice rejects invalid fields", () => {
  const playlist = (fields: string, track = '{"track_uri":"spotify:track:A"}') =>
    `{"playlists":[{"pid":4,${fields}"tracks":[${track}]}]}`;
  const cases: [string, new (message?: string) => Error, string][] = [
    [playlist('"name":7,'), TypeError, 'pid 4 (index 0): field "name" must be a string, got number'],
    [playlist('"num_followers":"12",'), TypeError, 'field "num_followers" must be an integer, got string'],
    [playlist('"modified_at":1.5,'), RangeError, 'field "modified_at" must be an integer from 0 to'],
    [
      playlist('"collaborative":true,'),
      TypeError,
      'field "collaborative" must be the string "true" or "false"',
    ],
    [playlist("", '{"track_uri":"spotify:track:A","pos":-1}'), RangeError, 'field "tracks[0].pos" must be'],
    [playlist("", '{"track_uri":"spotify:track:A","album_uri":[]}'), TypeError, '"tracks[0].album_uri"'],
    [playlist("", '{"track_name":"no uri"}'), TypeError, 'field "tracks[0].track_uri" is missing'],
    [playlist("", '"spotify:track:A"'), TypeError, 'field "tracks[0]" must be an object, got string'],
    ['{"playlists":[{"tracks":[]}]}', TypeError, 'playlist index 0: field "pid" is missing'],
    ['{"playlists":[{"pid":-3,"tracks":[]}]}', RangeError, 'field "pid" must be an integer from 0 to'],
    ['{"playlists":[{"pid":3}]}', TypeError, 'pid 3 (index 0): field "tracks" is missing'],
    ['{"playlists":[{"pid":3,"tracks":[]},{"pid":3,"tracks":[]}]}', Error, "pid 3 appears twice"],
    ['{"info":{"synthetic":"yes"},"playlists":[]}', TypeError, 'field "info.synthetic" must be a boolean'],
    ["[1, 2]", TypeError, "is not an MPD slice"],
  ];
  for (const [text, errorClass, part] of cases) {
    throws(() => parseSlice(text, "inline.json"), (error: Error) => {
      ok(error instanceof errorClass, `${text}: expected ${errorClass.name}, got ${error.name}`);
      ok(error.message.startsWith("inline.json"), error.message);
      ok(error.message.includes(part), `"${part}" not in: ${error.message}`);
      return true;
    });
  }
});

Deno.test("listSliceFiles accepts a folder or a file", async () => {
  deepStrictEqual(await listSliceFiles(join(FIXTURES, "two_slices")), [
    join(FIXTURES, "two_slices", "mpd.slice.2-3.json"),
    join(FIXTURES, "two_slices", "mpd.slice.10-11.json"),
  ]);
  deepStrictEqual(await listSliceFiles(join(FIXTURES, "null_fields.json")), [
    join(FIXTURES, "null_fields.json"),
  ]);
});

Deno.test("ingestMpd rejects malformed JSON", async () => {
  const file = join(FIXTURES, "malformed.txt");
  await rejectsIngestion(file, SyntaxError, [file, "is not valid JSON", "re-download or remove it"]);
});

Deno.test("ingestMpd rejects a truncated slice", async () => {
  await withTempDir(async (dir) => {
    // The truncated fixture is stored as .txt so that formatters skip it; here it gets a slice name.
    await Deno.copyFile(join(FIXTURES, "truncated.txt"), join(dir, "mpd.slice.0-999.json"));
    await rejectsIngestion(dir, SyntaxError, [
      join(dir, "mpd.slice.0-999.json"),
      "is not valid JSON",
      "the file may be truncated",
    ]);
  });
});

Deno.test("parseSlice calls every cut slice truncated", () => {
  const [generated] = generateSyntheticMpdJson({ playlists: 3 });
  const bytes = generated.json;
  const decoder = new TextDecoder();
  let cuts = 0;
  for (let end = 0; end < bytes.length; end += 997) {
    const text = decoder.decode(bytes.subarray(0, end));
    throws(() => parseSlice(text, `cut at ${end}`), (error: Error) => {
      ok(error instanceof SyntaxError, `cut at ${end}: ${error.name}`);
      ok(error.message.includes("the file may be truncated"), `cut at ${end}: ${error.message}`);
      return true;
    });
    cuts++;
  }
  ok(cuts >= 50, `only ${cuts} cuts`);
});

Deno.test("parseSlice calls inner damage not truncated", () => {
  const cases = [
    '{"playlists":[{"pid":1,"tracks":[]} {"pid":2,"tracks":[]}]}',
    '{"playlists":[]}}',
    '{"playlists":[]} x',
    '{"playlists":[]}\u00a0',
    "pid,track_uri\n1,spotify:track:A\n",
  ];
  for (const text of cases) {
    throws(() => parseSlice(text, "damaged.json"), (error: Error) => {
      ok(
        error.message.includes("the file is damaged or not JSON"),
        `${JSON.stringify(text)}: ${error.message}`,
      );
      return true;
    });
  }
});

Deno.test("ingestMpd rejects a field of the wrong type", async () => {
  const file = join(FIXTURES, "wrong_type", "mpd.slice.15-17.json");
  await rejectsIngestion(file, TypeError, [
    `${file}, playlist pid 17 (index 2): field "tracks[3].track_uri" must be a string, got number`,
  ]);
});

Deno.test("ingestMpd rejects JSON that is not a slice", async () => {
  const file = join(FIXTURES, "not_a_slice.json");
  await rejectsIngestion(file, TypeError, [
    file,
    'is not an MPD slice: expected a JSON object with a "playlists"',
  ]);
});

Deno.test("ingestMpd rejects a challenge set", async () => {
  const file = join(FIXTURES, "challenge_like.json");
  await rejectsIngestion(file, TypeError, [file, "is not an MPD slice", "num_holdouts"]);
});

Deno.test("ingestMpd rejects a repeated pos", async () => {
  const file = join(FIXTURES, "repeated_pos.json");
  await rejectsIngestion(file, RangeError, [file, "pid 8 (index 0)", '"tracks[1].pos" repeats position 0']);
});

Deno.test("ingestMpd rejects a folder without slices", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "notes.json"), "{}");
    await rejectsIngestion(dir, Deno.errors.NotFound, [`No MPD slice files in ${dir}`, "deno task generate"]);
  });
});

Deno.test("ingestMpd rejects a missing path", async () => {
  const missing = join(FIXTURES, "no_such_folder");
  await rejectsIngestion(missing, Deno.errors.NotFound, [missing, "does not exist"]);
});

Deno.test("ingestMpd rejects a pid in two files", async () => {
  const kept = await rejectsIngestion(join(FIXTURES, "duplicate_pid"), Error, [
    "pid 1 appears in both",
    join(FIXTURES, "duplicate_pid", "mpd.slice.0-1.json"),
    join(FIXTURES, "duplicate_pid", "mpd.slice.1-2.json"),
    "a rerun resumes here",
  ]);
  deepStrictEqual(kept, ["mpd.slice.0-1.json"]);
});

Deno.test("ingestMpd failure keeps earlier outputs whole", async () => {
  await withTempDir(async (dir) => {
    const first: IngestReport = await ingestMpd(join(FIXTURES, "two_slices"), dir);
    await rejects(ingestMpd(join(FIXTURES, "duplicate_pid"), dir));

    deepStrictEqual(JSON.parse(await Deno.readTextFile(join(dir, INGEST_FILES.report))), first);
    strictEqual(loadCorpus(dir).playlists.length, 4);
    const names = [...Deno.readDirSync(dir)].map((entry) => entry.name).sort();
    deepStrictEqual(names, [...Object.values(INGEST_FILES), PARTS_DIR].sort());
  });
});

Deno.test("loadCorpus rejects a folder without a report", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(join(dir, INGEST_FILES.tracks), "");
    throws(() => loadCorpus(dir), (error: Error) => {
      ok(error instanceof Deno.errors.NotFound);
      ok(error.message.includes(INGEST_FILES.report), error.message);
      ok(error.message.includes("deno task ingest"), error.message);
      return true;
    });
  });
});

Deno.test("ingest task prints per-file counts", async () => {
  await withTempDir(async (dir) => {
    await writeSyntheticMpd(join(dir, "mpd"), { playlists: 1200, seed: 7 });
    const task = new URL("../tasks/ingest.ts", import.meta.url).pathname;
    const args = ["run", "-A", task, "--input", join(dir, "mpd"), "--out", join(dir, "out")];
    const { code, stderr } = await new Deno.Command(Deno.execPath(), { args, stdout: "piped" }).output();
    const output = new TextDecoder().decode(stderr);
    strictEqual(code, 0, output);
    ok(
      /read 1\/2 mpd\.slice\.0-999\.json: 1000 playlists, \d+ track occurrences \(1000 playlists so far,/
        .test(output),
      output,
    );
    ok(
      /read 2\/2 mpd\.slice\.1000-1199\.json: 200 playlists, \d+ track occurrences \(1200 playlists so far,/
        .test(output),
      output,
    );
  });
});
