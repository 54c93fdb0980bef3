/**
 * Per-slice parts of an ingestion: each slice file's rows in a folder `parts/<slice file name>/` beside the
 * final tables, so an interrupted ingestion resumes after the last finished slice.
 *
 * A part folder contains `playlists.parquet`, `playlist_tracks.parquet` (both with the schema of the final
 * tables, sorted by pid and then pos), `tracks.csv` (the rows of the tracks that the slice added or whose
 * missing fields it filled in, with their state after the slice, as `TrackDictionary.csv` writes them) and
 * `part.json`, a
 * {@linkcode PartManifest}. It is written under a temporary name and renamed into place when complete, so
 * a part folder under its final name is always whole.
 * @module
 */

import pl from "nodejs-polars";
import { join } from "node:path";
import { TRACK_TEXT_FIELDS, type TrackTextField } from "../mpd/scan.ts";
import type { SliceCounts, SliceRows } from "./slice_columns.ts";
import { type TrackDictionary, type TrackRow, trackTable } from "./track_dictionary.ts";

/** The folder of the parts, inside the ingestion's output folder. */
export const PARTS_DIR = "parts";

/**
 * The version of the part layout and of its counts; parts of another version are read again from their
 * slice. Version 3 no longer counts a skipped empty playlist as a `num_tracks` mismatch.
 */
export const PART_FORMAT = 3;

/** File names inside a part folder. */
export const PART_FILES = {
  playlists: "playlists.parquet",
  playlistTracks: "playlist_tracks.parquet",
  tracks: "tracks.csv",
  manifest: "part.json",
} as const;

/** The content of a part's `part.json`. */
export interface PartManifest {
  format: number;
  /** Absolute path of the ingested folder or file. */
  source: string;
  /** The slice file's name, which is also the part folder's name. */
  file: string;
  /** Size in bytes and modification time of the slice file when it was read. */
  size: number;
  mtime_ms: number;
  /** Position of the file in ingestion order. */
  index: number;
  /** Dictionary size before and after the slice, which added ids `tracks_before` to `tracks_after - 1`. */
  tracks_before: number;
  tracks_after: number;
  /** Smallest and largest pid of the part's playlists, or null when it has none. */
  min_pid: number | null;
  max_pid: number | null;
  /** True when the file has `info.synthetic: true`. */
  synthetic: boolean;
  counts: SliceCounts;
}

/** Identifies a slice file's content, so a changed file is read again. */
export interface SliceFileStamp {
  file: string;
  size: number;
  mtime_ms: number;
}

/** Returns true when `manifest` is a finished part of the file `stamp` at position `index`. */
export function isPartFresh(
  manifest: PartManifest,
  stamp: SliceFileStamp,
  index: number,
  source: string,
): boolean {
  return manifest.format === PART_FORMAT && manifest.source === source && manifest.file === stamp.file &&
    manifest.size === stamp.size && manifest.mtime_ms === stamp.mtime_ms && manifest.index === index;
}

/** Reads a part's manifest, or returns undefined when the folder has none or it is unreadable. */
export async function readPartManifest(partDir: string): Promise<PartManifest | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(join(partDir, PART_FILES.manifest))) as PartManifest;
  } catch (error) {
    const unreadable = error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory ||
      error instanceof SyntaxError;
    if (unreadable) return undefined;
    throw error;
  }
}

/**
 * Writes one slice's part folder under a temporary name and renames it into place.
 *
 * The part's tables are written synchronously with lz4: they are only read back to build the final tables,
 * and on 2 cores this took about a third of the CPU time of zstd through nodejs-polars' streaming sink. The
 * track rows are written as the dictionary's CSV bytes, with no DataFrame.
 *
 * @param partsDir The parts folder, created if needed.
 * @param manifest The part's manifest.
 * @param columns The slice's columns.
 * @param dictionary The dictionary, marked before the slice was read.
 */
export function writePart(
  partsDir: string,
  manifest: PartManifest,
  columns: SliceRows,
  dictionary: TrackDictionary,
): void {
  Deno.mkdirSync(partsDir, { recursive: true });
  const target = join(partsDir, manifest.file);
  const staging = join(partsDir, `.${manifest.file}.tmp-${crypto.randomUUID().slice(0, 8)}`);
  Deno.mkdirSync(staging);
  try {
    const frames = sliceFrames(columns, manifest.file);
    frames.playlists.writeParquet(join(staging, PART_FILES.playlists), { compression: "lz4" });
    frames.playlistTracks.writeParquet(join(staging, PART_FILES.playlistTracks), { compression: "lz4" });
    Deno.writeFileSync(join(staging, PART_FILES.tracks), dictionary.csv(dictionary.changedSinceMark()));
    Deno.writeTextFileSync(join(staging, PART_FILES.manifest), JSON.stringify(manifest, null, 2) + "\n");

    try {
      Deno.removeSync(target, { recursive: true });
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    Deno.renameSync(staging, target);
  } catch (error) {
    try {
      Deno.removeSync(staging, { recursive: true });
    } catch {
      // The staging folder may be gone already; the original error matters.
    }
    throw error;
  }
}

/**
 * Concatenates one table of several parts into `path`, in the order given, through nodejs-polars' streaming
 * sink, so the whole table need not fit in memory.
 *
 * @param partDirs Part folders, in output order.
 * @param file The table's file name inside each part, such as `PART_FILES.playlistTracks`.
 * @param path The output file.
 * @param sortBy Columns to sort the concatenation by; unset keeps the given order.
 */
export async function sinkPartTables(
  partDirs: string[],
  file: string,
  path: string,
  sortBy?: string[],
): Promise<void> {
  let table = pl.concat(partDirs.map((dir) => pl.scanParquet(join(dir, file))), { how: "vertical" });
  if (sortBy !== undefined) table = table.sort(sortBy);
  await table.sinkParquet(path, { compression: "zstd" }).collect();
}

/** Writes a frame as zstd-compressed Parquet on nodejs-polars' threads. */
export async function writeParquet(frame: pl.DataFrame, path: string): Promise<void> {
  await frame.lazy().sinkParquet(path, { compression: "zstd" }).collect();
}

/**
 * Applies a finished part to the dictionary and the pid index, as if its slice had just been read. Both
 * stay unchanged when it throws.
 *
 * @throws {RangeError} When the part does not continue the dictionary where the earlier parts left it.
 * @throws {Error} When a table of the part cannot be read.
 */
export function restorePart(
  partDir: string,
  manifest: PartManifest,
  dictionary: TrackDictionary,
  fileOfPid: Map<number, number>,
): void {
  const tracks = trackTable(Deno.readFileSync(join(partDir, PART_FILES.tracks)));
  const ids = tracks.getColumn("track_id").toTypedArray() as Int32Array;
  const uris = tracks.getColumn("track_uri").toArray() as string[];
  const text = TRACK_TEXT_FIELDS.map((field) => tracks.getColumn(field).toArray() as (string | null)[]);
  const durations = tracks.getColumn("duration_ms").toArray() as (number | null)[];
  const pids = pl.readParquet(join(partDir, PART_FILES.playlists), { columns: ["pid"] }).getColumn("pid")
    .toTypedArray() as Int32Array;

  // Checked before any change: rows of known ids name the same URI, and new ids follow on without gaps.
  let next = dictionary.size;
  for (let row = 0; row < ids.length; row++) {
    const id = ids[row];
    const consistent = id === next || (id < dictionary.size && dictionary.uriOf(id) === uris[row]);
    if (!consistent || manifest.tracks_before !== dictionary.size) {
      throw new RangeError(
        `Restoring part ${partDir} failed: its track ${id} (${uris[row]}) does not continue the ` +
          `${dictionary.size} tracks of the earlier parts`,
      );
    }
    if (id === next) next++;
  }
  if (next !== manifest.tracks_after) {
    throw new RangeError(
      `Restoring part ${partDir} failed: its rows end at track ${next}, its manifest at ` +
        `${manifest.tracks_after}`,
    );
  }

  for (let row = 0; row < ids.length; row++) {
    const fields = {} as Record<TrackTextField, string | null>;
    TRACK_TEXT_FIELDS.forEach((field, slot) => fields[field] = text[slot][row]);
    const trackRow: TrackRow = { uri: uris[row], text: fields, durationMs: durations[row] };
    dictionary.restore(ids[row], trackRow);
  }
  for (const pid of pids) fileOfPid.set(pid, manifest.index);
  for (const pid of manifest.counts.skipped.empty_playlists) fileOfPid.set(pid, manifest.index);
}

/** Returns playlist indexes in ascending pid order. */
function orderByPid(pids: number[]): Int32Array {
  const order = Int32Array.from({ length: pids.length }, (_, i) => i);
  let sorted = true;
  for (let i = 1; i < pids.length && sorted; i++) sorted = pids[i - 1] < pids[i];
  if (!sorted) order.sort((a, b) => pids[a] - pids[b]);
  return order;
}

/** Builds a slice's playlist and occurrence tables, sorted by pid and each playlist's tracks by pos. */
function sliceFrames(
  columns: SliceRows,
  sliceName: string,
): { playlists: pl.DataFrame; playlistTracks: pl.DataFrame } {
  const order = orderByPid(columns.pid);
  const byPid = <T>(column: T[]): T[] => Array.from(order, (i) => column[i]);

  const rows = columns.occurrences;
  const pid = new Int32Array(rows);
  const pos = new Int32Array(rows);
  const trackId = new Int32Array(rows);
  let row = 0;
  for (const p of order) {
    const first = columns.firstOccurrence[p];
    const end = p + 1 < columns.firstOccurrence.length ? columns.firstOccurrence[p + 1] : rows;
    let sorted = true;
    for (let k = first + 1; k < end && sorted; k++) sorted = columns.pos[k - 1] < columns.pos[k];
    pid.fill(columns.pid[p], row, row + end - first);
    if (sorted) {
      pos.set(columns.pos.subarray(first, end), row);
      trackId.set(columns.trackId.subarray(first, end), row);
      row += end - first;
      continue;
    }
    const sources = Int32Array.from({ length: end - first }, (_, k) => first + k);
    sources.sort((a, b) => columns.pos[a] - columns.pos[b]);
    for (const source of sources) {
      pos[row] = columns.pos[source];
      trackId[row] = columns.trackId[source];
      row++;
    }
  }

  return {
    playlists: pl.DataFrame([
      pl.Series("pid", Int32Array.from(order, (i) => columns.pid[i])),
      pl.Series("name", byPid(columns.name), pl.Utf8),
      pl.Series("description", byPid(columns.description), pl.Utf8),
      pl.Series("modified_at", byPid(columns.modifiedAt), pl.Int64),
      nullableInt32("num_tracks", byPid(columns.numTracks)),
      nullableInt32("num_followers", byPid(columns.numFollowers)),
      nullableInt32("num_edits", byPid(columns.numEdits)),
      pl.Series("collaborative", byPid(columns.collaborative), pl.Bool),
      pl.Series("slice", order.length === 0 ? [] : Array.from(order, () => sliceName), pl.Utf8),
    ]),
    playlistTracks: pl.DataFrame([
      pl.Series("pid", pid),
      pl.Series("pos", pos),
      pl.Series("track_id", trackId),
    ]),
  };
}

/** Tracks per CSV chunk of {@linkcode trackFrame}, which bounds the CSV bytes held at once. */
const TRACK_CHUNK = 250_000;

/** Builds the `tracks.parquet` rows of every track, by id, from the dictionary. */
export function trackFrame(dictionary: TrackDictionary): pl.DataFrame {
  const chunks: pl.DataFrame[] = [];
  for (let first = 0; first === 0 || first < dictionary.size; first += TRACK_CHUNK) {
    const end = Math.min(dictionary.size, first + TRACK_CHUNK);
    chunks.push(trackTable(dictionary.csv(Int32Array.from({ length: end - first }, (_, k) => first + k))));
  }
  return chunks.length === 1 ? chunks[0] : pl.concat(chunks, { how: "vertical", rechunk: false });
}

/**
 * Builds an Int32 series that keeps nulls.
 *
 * NOTE: nodejs-polars 0.25.2 turns null into 0 when a series is built with dtype Int32 directly, but keeps
 * null with Int64, so the series is built as Int64 and cast.
 */
function nullableInt32(name: string, values: (number | null)[]): pl.Series {
  return pl.Series(name, values, pl.Int64).cast(pl.Int32);
}
