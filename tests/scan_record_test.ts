import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import { join } from "node:path";
import { SliceColumns } from "../lib/data/slice_columns.ts";
import { TrackDictionary } from "../lib/data/track_dictionary.ts";
import { generateSyntheticMpd } from "../lib/mpd/generate.ts";
import { scanSlice } from "../lib/mpd/scan.ts";
import { replaySlice, SliceRecorder } from "../lib/mpd/scan_record.ts";
import { sliceSnapshot } from "./helpers/slice_snapshot.ts";

const FIXTURES = new URL("./fixtures/mpd/", import.meta.url).pathname;
const encoder = new TextEncoder();

/** Reads a slice with the scanner into the columns, and again by replaying a record as the worker does. */
function readBothWays(bytes: Uint8Array) {
  const direct = new TrackDictionary();
  const directColumns = new SliceColumns(direct);
  const header = scanSlice(bytes, directColumns, "slice.json");

  const recorder = new SliceRecorder(new Int32Array(8));
  const recordedHeader = scanSlice(bytes, recorder, "slice.json");
  // The worker sends the playlists as JSON and the rows in shared memory.
  const record = recorder.record();
  const sent = { ...record, playlists: JSON.parse(JSON.stringify(record.playlists)) };
  const replayed = new TrackDictionary();
  const replayedColumns = new SliceColumns(replayed);
  replaySlice(sent, bytes, replayedColumns);
  return {
    header,
    recordedHeader,
    direct: sliceSnapshot(directColumns, direct),
    replayed: sliceSnapshot(replayedColumns, replayed),
  };
}

Deno.test("replaySlice matches the scan on generated slices", () => {
  const [slice] = generateSyntheticMpd({ playlists: 200, seed: 5 });
  const { header, recordedHeader, direct, replayed } = readBothWays(encoder.encode(JSON.stringify(slice)));
  strictEqual(header === null, false);
  deepStrictEqual(recordedHeader, header);
  strictEqual(direct.pid.length, 200);
  deepStrictEqual(replayed, direct);
});

Deno.test("replaySlice matches the scan on fixtures", async () => {
  const files = [
    "mpd_style/mpd.slice.0-1.json",
    "cut_down/mpd.slice.0-2.json",
    "pos_order/mpd.slice.0-0.json",
    "all_fields_missing/mpd.slice.0-1.json",
    "repeats_and_empty/mpd.slice.0-3.json",
    "null_fields.json",
  ];
  for (const file of files) {
    const { header, direct, replayed } = readBothWays(await Deno.readFile(join(FIXTURES, file)));
    strictEqual(header === null, false, `${file}: the scanner falls back`);
    deepStrictEqual(replayed, direct, `${file}: the replay differs from the scan`);
  }
});

Deno.test("replaySlice keeps escaped and non-ASCII text", () => {
  const text = '{"playlists":[{"pid":7,"name":"lone \\ud800 \\"q\\" été","tracks":[' +
    '{"track_uri":"spotify:track:\\u0061","track_name":"tab\\tx","pos":0},' +
    '{"track_uri":"spotify:track:é","artist_name":"Björk","duration_ms":5}]}]}';
  const { header, direct, replayed } = readBothWays(encoder.encode(text));
  strictEqual(header === null, false);
  deepStrictEqual(direct.name, ['lone \ud800 "q" été']);
  deepStrictEqual(replayed, direct);
});

Deno.test("SliceRecorder rejects parsed tracks", () => {
  const recorder = new SliceRecorder();
  throws(
    () => recorder.track({ uri: "x" } as unknown as Parameters<SliceRecorder["track"]>[0]),
    /records only the tracks of scanSlice/,
  );
});
