import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import pl from "nodejs-polars";
import { INGEST_FILES, ingestMpd, type IngestProgress } from "../lib/data/ingest.ts";
import { PART_FILES, PARTS_DIR } from "../lib/data/ingest_parts.ts";
import { loadCorpus } from "../lib/data/load.ts";
import { generateSyntheticMpd } from "../lib/mpd/generate.ts";
import type { MpdPlaylist, MpdSlice } from "../lib/mpd/schema.ts";

async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Writes generated playlists as slice files of `perSlice` playlists and returns the file names. */
async function writeSlices(dir: string, playlists: MpdPlaylist[], perSlice: number): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true });
  const names: string[] = [];
  for (let start = 0; start < playlists.length; start += perSlice) {
    const chunk = playlists.slice(start, start + perSlice);
    const name = `mpd.slice.${chunk[0].pid}-${chunk[chunk.length - 1].pid}.json`;
    const slice: MpdSlice = {
      info: { generated_on: "2018-01-01", slice: name, version: "test", synthetic: true },
      playlists: chunk,
    };
    await Deno.writeTextFile(join(dir, name), JSON.stringify(slice));
    names.push(name);
  }
  return names;
}

function generatedPlaylists(count: number): MpdPlaylist[] {
  return [...generateSyntheticMpd({ playlists: count, seed: 7 })].flatMap((slice) => slice.playlists);
}

/**
 * Checks that two ingestions wrote the same tables and report. A difference fails on the first differing
 * row, since a diff of whole tables takes minutes.
 */
function assertSameOutputs(actualDir: string, expectedDir: string): void {
  for (const name of [INGEST_FILES.playlists, INGEST_FILES.playlistTracks, INGEST_FILES.tracks]) {
    const actual = pl.readParquet(join(actualDir, name)).toRecords();
    const expected = pl.readParquet(join(expectedDir, name)).toRecords();
    strictEqual(actual.length, expected.length, `${name}: row count`);
    const differs = actual.findIndex((row, index) => JSON.stringify(row) !== JSON.stringify(expected[index]));
    if (differs >= 0) deepStrictEqual(actual[differs], expected[differs], `${name}: row ${differs}`);
  }
  const report = (dir: string) => JSON.parse(Deno.readTextFileSync(join(dir, INGEST_FILES.report)));
  deepStrictEqual(report(actualDir), report(expectedDir));
}

/** Lists the entries of the output folder and of its parts folder. */
function listOutput(dir: string): { top: string[]; parts: string[] } {
  const names = (path: string) => {
    try {
      return [...Deno.readDirSync(path)].map((entry) => entry.name).sort();
    } catch {
      return [];
    }
  };
  return { top: names(dir), parts: names(join(dir, PARTS_DIR)) };
}

Deno.test("ingestMpd resumes after an abort", async () => {
  await withTempDir(async (dir) => {
    const names = await writeSlices(join(dir, "mpd"), generatedPlaylists(400), 100);
    const out = join(dir, "out");
    const controller = new AbortController();
    await rejects(
      ingestMpd(join(dir, "mpd"), out, {
        signal: controller.signal,
        onProgress: (progress) => {
          if (progress.filesDone === 2) controller.abort();
        },
      }),
      (error: Error) => error.name === "AbortError",
    );

    const stopped = listOutput(out);
    deepStrictEqual(stopped.top, [PARTS_DIR]);
    deepStrictEqual(stopped.parts, names.slice(0, 2));
    const firstManifest = await Deno.readTextFile(join(out, PARTS_DIR, names[0], PART_FILES.manifest));

    const events: IngestProgress[] = [];
    const report = await ingestMpd(join(dir, "mpd"), out, { onProgress: (event) => events.push(event) });
    const reads = events.filter((event) => event.stage === "read");
    deepStrictEqual(reads.map((event) => event.reused), [true, true, false, false]);
    deepStrictEqual(reads.map((event) => event.filesDone), [1, 2, 3, 4]);
    deepStrictEqual(reads.map((event) => event.filePlaylists), [100, 100, 100, 100]);
    deepStrictEqual(reads.map((event) => event.playlists), [100, 200, 300, 400]);
    strictEqual(events.at(-1)?.stage, "write");
    strictEqual(await Deno.readTextFile(join(out, PARTS_DIR, names[0], PART_FILES.manifest)), firstManifest);

    await ingestMpd(join(dir, "mpd"), join(dir, "fresh"));
    assertSameOutputs(out, join(dir, "fresh"));
    strictEqual(report.playlists, 400);
    strictEqual(loadCorpus(out).playlists.length, 400);
  });
});

Deno.test("ingestMpd resumes after a failed slice", async () => {
  await withTempDir(async (dir) => {
    const input = join(dir, "mpd");
    const names = await writeSlices(input, generatedPlaylists(300), 100);
    const good = await Deno.readTextFile(join(input, names[2]));
    await Deno.writeTextFile(join(input, names[2]), good.slice(0, good.length / 2));
    const out = join(dir, "out");

    await rejects(ingestMpd(input, out), (error: Error) => {
      ok(error instanceof SyntaxError, error.message);
      ok(error.message.includes(names[2]), error.message);
      return true;
    });
    const stopped = listOutput(out);
    deepStrictEqual(stopped.top, [PARTS_DIR]);
    deepStrictEqual(stopped.parts, names.slice(0, 2));

    await Deno.writeTextFile(join(input, names[2]), good);
    const events: IngestProgress[] = [];
    await ingestMpd(input, out, { onProgress: (event) => events.push(event) });
    const reads = events.filter((event) => event.stage === "read");
    deepStrictEqual(reads.map((event) => event.reused), [true, true, false]);

    await ingestMpd(input, join(dir, "fresh"));
    assertSameOutputs(out, join(dir, "fresh"));
  });
});

Deno.test("ingestMpd rereads from a changed slice on", async () => {
  await withTempDir(async (dir) => {
    const input = join(dir, "mpd");
    const playlists = generatedPlaylists(300);
    const names = await writeSlices(input, playlists, 100);
    const out = join(dir, "out");
    await ingestMpd(input, out);

    // A new track in the second slice shifts the ids of the tracks that the third slice adds.
    playlists[150].tracks[0].track_uri = "spotify:track:changed000000000000000";
    await writeSlices(input, playlists, 100);
    const events: IngestProgress[] = [];
    await ingestMpd(input, out, { onProgress: (event) => events.push(event) });
    const reads = events.filter((event) => event.stage === "read");
    deepStrictEqual(reads.map((event) => event.reused), [false, false, false]);

    // Only a rewritten file counts as changed; rewriting the later two keeps the first part.
    await Deno.writeTextFile(join(input, names[1]), await Deno.readTextFile(join(input, names[1])) + " ");
    events.length = 0;
    await ingestMpd(input, out, { onProgress: (event) => events.push(event) });
    deepStrictEqual(events.filter((event) => event.stage === "read").map((event) => event.reused), [
      true,
      false,
      false,
    ]);

    await ingestMpd(input, join(dir, "fresh"));
    assertSameOutputs(out, join(dir, "fresh"));
    const corpus = loadCorpus(out);
    ok(corpus.tracks.uri.includes("spotify:track:changed000000000000000"));
  });
});

Deno.test("ingestMpd sorts overlapping pid ranges", async () => {
  await withTempDir(async (dir) => {
    const track = (letter: string) => ({ track_uri: `spotify:track:${letter.repeat(22)}` });
    const slice = (pids: number[]): MpdSlice => ({
      info: { generated_on: "2018-01-01", slice: "test", version: "test" },
      playlists: pids.map((pid) => ({ pid, tracks: [track(String.fromCharCode(65 + pid)), track("Z")] })),
    });
    await Deno.mkdir(join(dir, "mpd"));
    await Deno.writeTextFile(join(dir, "mpd", "mpd.slice.0-4.json"), JSON.stringify(slice([4, 0, 2])));
    await Deno.writeTextFile(join(dir, "mpd", "mpd.slice.1-3.json"), JSON.stringify(slice([3, 1])));
    await ingestMpd(join(dir, "mpd"), join(dir, "out"));

    const pids = pl.readParquet(join(dir, "out", INGEST_FILES.playlists)).getColumn("pid").toArray();
    deepStrictEqual(pids, [0, 1, 2, 3, 4]);
    const rows = pl.readParquet(join(dir, "out", INGEST_FILES.playlistTracks)).toRecords();
    deepStrictEqual(rows.map((row) => row.pid), [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
    deepStrictEqual(rows.map((row) => row.pos), [0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
  });
});

Deno.test("ingestMpd removes leftovers of a killed run", async () => {
  await withTempDir(async (dir) => {
    const input = join(dir, "mpd");
    await writeSlices(input, generatedPlaylists(100), 50);
    const out = join(dir, "out");
    await Deno.mkdir(join(out, PARTS_DIR, ".mpd.slice.50-99.json.tmp-1234abcd"), { recursive: true });
    await Deno.mkdir(join(out, PARTS_DIR, "mpd.slice.0-0.json"));
    await Deno.writeTextFile(join(out, `${INGEST_FILES.playlists}.99.tmp`), "partial");

    await ingestMpd(input, out);
    const left = listOutput(out);
    deepStrictEqual(left.top, [...Object.values(INGEST_FILES), PARTS_DIR].sort());
    deepStrictEqual(left.parts, ["mpd.slice.0-49.json", "mpd.slice.50-99.json"]);
  });
});
