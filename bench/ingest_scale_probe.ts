/**
 * The full-MPD part of the ingest_vs_python benchmark. At the size of the whole MPD, it measures the
 * memory that ingestion keeps for the whole run (the track dictionary and the pid index). It also measures
 * the time and peak memory of writing the final tables from 1,000 parts.
 *
 * The dictionary is filled through `TrackDictionary.resolve`, as ingestion fills it, with made-up tracks
 * whose field lengths are given on the command line (measured on the generated slices by the caller). The
 * 1,000 parts contain made-up rows with the full MPD's row counts, written as `writePart` writes them.
 *
 * Usage:
 *   deno run -A --v8-flags=--expose-gc bench/ingest_scale_probe.ts WORK_DIR TRACKS PLAYLISTS OCCURRENCES \
 *     PARTS LENGTHS_JSON
 * Prints one JSON object with the measurements, sizes in MiB and times in seconds.
 * @module
 */

import pl from "nodejs-polars";
import { join } from "node:path";
import { sinkPartTables, trackFrame, writeParquet } from "../lib/data/ingest_parts.ts";
import { TrackDictionary } from "../lib/data/track_dictionary.ts";
import { TRACK_TEXT_FIELDS, type TrackTextField, type TrackView } from "../lib/mpd/scan.ts";

const [workDir, tracksArg, playlistsArg, occurrencesArg, partsArg, lengthsArg] = Deno.args;
if (lengthsArg === undefined) {
  console.error(
    "Usage: deno run -A bench/ingest_scale_probe.ts WORK_DIR TRACKS PLAYLISTS OCCURRENCES PARTS LENGTHS_JSON",
  );
  Deno.exit(2);
}
const trackCount = Number(tracksArg);
const playlistCount = Number(playlistsArg);
const occurrenceCount = Number(occurrencesArg);
const partCount = Number(partsArg);
/** Mean length of each text field, such as {"track_name": 18, ...}. */
const lengths = JSON.parse(lengthsArg) as Record<TrackTextField, number>;

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const encoder = new TextEncoder();

/**
 * Returns a distinct string of `length` characters for `index`. It is built from character codes in one
 * step, so it is a flat string like those the scanner decodes, not a chain of concatenations.
 */
function madeUpText(prefix: string, index: number, length: number): string {
  const codes: number[] = [];
  for (let k = 0; k < prefix.length && k < length; k++) codes.push(prefix.charCodeAt(k));
  let rest = index;
  while (codes.length < length) {
    codes.push(BASE62.charCodeAt(rest % 62));
    rest = Math.floor(rest / 62) + codes.length;
  }
  return String.fromCharCode.apply(null, codes);
}

/** One made-up track occurrence, as the byte scanner hands it to the dictionary. */
class MadeUpTrack implements TrackView {
  uri = "";
  uriBytes: Uint8Array | undefined = undefined;
  uriStart = 0;
  uriEnd = 0;
  pos = undefined;
  durationMs: number | undefined = 200_000;
  present = 0b1111110;
  // Made-up text is handed over as strings, which the dictionary encodes, as it does non-ASCII text.
  textBytes = undefined;
  textStarts = new Int32Array(0);
  textEnds = new Int32Array(0);
  textForms = new Uint8Array(0);
  #index = 0;

  setIndex(index: number): void {
    this.#index = index;
    this.uri = madeUpText("spotify:track:", index, 36);
    this.uriBytes = encoder.encode(this.uri);
    this.uriEnd = this.uriBytes.length;
  }

  text(field: TrackTextField): string {
    // A new string per field and track, as decoding each first occurrence makes.
    return madeUpText(field, this.#index, Math.max(1, Math.round(lengths[field])));
  }
}

const base = residentMiB();

// The dictionary and the pid index at full size.
const dictionary = new TrackDictionary();
const track = new MadeUpTrack();
const fillStarted = performance.now();
for (let index = 0; index < trackCount; index++) {
  track.setIndex(index);
  dictionary.resolve(track);
}
const fileOfPid = new Map<number, number>();
for (let pid = 0; pid < playlistCount; pid++) fileOfPid.set(pid, Math.floor(pid / 1000));
const fillSeconds = (performance.now() - fillStarted) / 1000;
const filled = residentMiB();

// Parts with the full MPD's rows, written as ingestion writes them.
const partsStarted = performance.now();
const playlistsPerPart = Math.ceil(playlistCount / partCount);
const occurrencesPerPart = Math.ceil(occurrenceCount / partCount);
const partDirs: string[] = [];
for (let part = 0; part < partCount; part++) {
  const dir = join(workDir, `part${String(part).padStart(4, "0")}`);
  await Deno.mkdir(dir, { recursive: true });
  const firstPid = part * playlistsPerPart;
  const pids = Int32Array.from({ length: playlistsPerPart }, (_, k) => firstPid + k);
  const names = Array.from(pids, (pid) => madeUpText("title ", pid, 12));
  writePartTable(
    pl.DataFrame([
      pl.Series("pid", pids),
      pl.Series("name", names, pl.Utf8),
      pl.Series("description", Array.from(pids, () => null), pl.Utf8),
      pl.Series("modified_at", Array.from(pids, (pid) => 1_400_000_000 + pid), pl.Int64),
      pl.Series("num_tracks", Array.from(pids, () => 66), pl.Int64).cast(pl.Int32),
      pl.Series("num_followers", Array.from(pids, () => 1), pl.Int64).cast(pl.Int32),
      pl.Series("num_edits", Array.from(pids, () => 3), pl.Int64).cast(pl.Int32),
      pl.Series("collaborative", Array.from(pids, () => false), pl.Bool),
      pl.Series("slice", Array.from(pids, () => `mpd.slice.${part}.json`), pl.Utf8),
    ]),
    join(dir, "playlists.parquet"),
  );
  const rows = occurrencesPerPart;
  const perPlaylist = Math.ceil(rows / playlistsPerPart);
  writePartTable(
    pl.DataFrame([
      pl.Series("pid", Int32Array.from({ length: rows }, (_, k) => firstPid + Math.floor(k / perPlaylist))),
      pl.Series("pos", Int32Array.from({ length: rows }, (_, k) => k % perPlaylist)),
      pl.Series(
        "track_id",
        Int32Array.from({ length: rows }, (_, k) => (k * 2_654_435_761 + part) % trackCount),
      ),
    ]),
    join(dir, "playlist_tracks.parquet"),
  );
  partDirs.push(dir);
}
const partsSeconds = (performance.now() - partsStarted) / 1000;
const beforeWrite = residentMiB();

// The final tables, as ingestMpd writes them: both concatenations and the tracks table at once.
const writeStarted = performance.now();
await Promise.all([
  sinkPartTables(partDirs, "playlists.parquet", join(workDir, "playlists.parquet")),
  sinkPartTables(partDirs, "playlist_tracks.parquet", join(workDir, "playlist_tracks.parquet")),
  writeParquet(trackFrame(dictionary), join(workDir, "tracks.parquet")),
]);
const writeSeconds = (performance.now() - writeStarted) / 1000;

console.log(JSON.stringify({
  tracks: dictionary.size,
  playlists: fileOfPid.size,
  occurrences: occurrencesPerPart * partCount,
  parts: partCount,
  text_fields: TRACK_TEXT_FIELDS.length,
  base_rss_mb: base,
  filled_rss_mb: filled,
  dictionary_and_pids_mb: filled - base,
  fill_seconds: fillSeconds,
  parts_seconds: partsSeconds,
  before_write_rss_mb: beforeWrite,
  write_seconds: writeSeconds,
  peak_rss_mb: peakResidentMiB(),
}));

/** Writes a part's table as `writePart` does. */
function writePartTable(frame: pl.DataFrame, path: string): void {
  frame.writeParquet(path, { compression: "lz4" });
}

/** Returns the resident memory in MiB after a full garbage collection, when `--expose-gc` allows one. */
function residentMiB(): number {
  (globalThis as { gc?: () => void }).gc?.();
  const status = Deno.readTextFileSync("/proc/self/status");
  return Number(status.match(/^VmRSS:\s+(\d+) kB/m)?.[1]) / 1024;
}

function peakResidentMiB(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  return Number(status.match(/^VmHWM:\s+(\d+) kB/m)?.[1]) / 1024;
}
