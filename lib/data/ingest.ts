/**
 * Ingestion of MPD slice files into three Parquet tables and a report, one slice at a time.
 *
 * Output files, in the output folder:
 * - `playlists.parquet`: pid (i32), name (str), description (str), modified_at (i64, seconds since the
 *   epoch), num_tracks, num_followers, num_edits (i32), collaborative (bool), slice (str, the file name).
 *   Sorted by pid.
 * - `playlist_tracks.parquet`: pid, pos, track_id (i32). Sorted by pid, then pos. `pos` is the track's
 *   index in the list where the input has no `pos`.
 * - `tracks.parquet`: track_id (i32, 0 to n - 1 in order of first occurrence), track_uri, track_name,
 *   artist_uri, artist_name, album_uri, album_name (str), duration_ms (i32).
 * - `ingest_report.json`: an {@linkcode IngestReport}.
 * - `parts/`: one folder per slice file with that slice's rows (see `ingest_parts.ts`). They let an
 *   interrupted ingestion resume, and a rerun read only slice files that changed.
 *
 * Every column except pid, pos, track_id, track_uri and slice is null where the input lacks the field. A
 * track's metadata comes from its first occurrence, with fields missing there taken from later ones.
 * Playlists with an empty `tracks` array are left out of the tables and listed in the report. Playlists
 * that repeat a track are kept with every repeat, and counted.
 *
 * Slices are read by a byte scanner (`lib/mpd/scan.ts`) that checks what the validator checks without
 * building JSON objects. A file that it does not handle goes through `JSON.parse` and the validator, which
 * then report the precise error if the file is invalid.
 *
 * Slices are read and scanned in a worker, two files ahead of the one that the main thread adds to the
 * track dictionary and writes as a part (`scan_ahead.ts`).
 *
 * Memory: three slice files' bytes, with the scanner's record of each (11 MiB of track rows and 2 MiB for
 * the playlists, grown for larger slices), one slice's columns, the track dictionary (every
 * unique track with its metadata) and a pid index. Only the dictionary and the index grow with the
 * input. Writing the final tables streams the parts through nodejs-polars, except `tracks.parquet`, which
 * is built from the dictionary. Measured on a shared 2-core x86-64 machine with `deno task bench
 * ingest_vs_python`: 298 to 314 MiB peak for 50 generated slices (50,000 playlists, 76,579 unique tracks),
 * with the worker. At the full MPD's size the dictionary and pid index took 0.63 GiB, and writing the
 * tables from 1,000 full-size parts peaked at 2.3 GiB, which is the projected peak for the full MPD.
 * @module
 */

import { basename, join, resolve } from "node:path";
import { listMpdInput, parseSlice } from "../mpd/read.ts";
import { feedSlice, scanSlice, type SliceHeader } from "../mpd/scan.ts";
import { replaySlice as replaySinkCalls, type SliceRecord } from "../mpd/scan_record.ts";
import type { MpdSliceInfo } from "../mpd/schema.ts";
import {
  isPartFresh,
  PART_FILES,
  PART_FORMAT,
  type PartManifest,
  PARTS_DIR,
  readPartManifest,
  restorePart,
  sinkPartTables,
  type SliceFileStamp,
  trackFrame,
  writeParquet,
  writePart,
} from "./ingest_parts.ts";
import { ScanAhead } from "./scan_ahead.ts";
import { addCounts, emptyCounts, SliceColumns, type SliceCounts, type SliceRows } from "./slice_columns.ts";
import { TrackDictionary } from "./track_dictionary.ts";

export { OPTIONAL_PLAYLIST_FIELDS, OPTIONAL_TRACK_FIELDS } from "./slice_columns.ts";
export type { MissingFieldCounts, SliceCounts } from "./slice_columns.ts";

/** File names of the ingestion outputs. */
export const INGEST_FILES = {
  playlists: "playlists.parquet",
  playlistTracks: "playlist_tracks.parquet",
  tracks: "tracks.parquet",
  report: "ingest_report.json",
} as const;

/** The content of `ingest_report.json`. */
export interface IngestReport extends SliceCounts {
  /** Absolute path of the ingested folder or file. */
  source: string;
  /** Slice file names, in ingestion order. */
  files: string[];
  /**
   * Names of the entries of the input folder that are not `mpd.slice.<start>-<end>.json` files, such as the
   * MPD's `stats.json`, sorted; folders end in `/`. They were not read. Empty when the input is one file.
   */
  ignored_files: string[];
  unique_tracks: number;
  /** True when every input file has `info.synthetic: true`, as files of this project's generator do. */
  synthetic: boolean;
}

/** Progress of {@linkcode ingestMpd}, reported after each slice file and before writing the tables. */
export interface IngestProgress {
  stage: "read" | "write";
  /** The file just read; empty in the write stage. */
  file: string;
  filesDone: number;
  filesTotal: number;
  /** True when the file's part was finished by an earlier run and the file was not read again. */
  reused: boolean;
  /** Playlists and track occurrences that the file just read adds to the tables; 0 in the write stage. */
  filePlaylists: number;
  fileTrackOccurrences: number;
  /** Playlists and track occurrences in the tables so far, the file just read included. */
  playlists: number;
  trackOccurrences: number;
}

/** Options of {@linkcode ingestMpd}. */
export interface IngestOptions {
  /** Called after each slice file and before the tables are written. Default: none. */
  onProgress?: (progress: IngestProgress) => void;
  /**
   * Stops the ingestion before the next slice file when aborted; finished slices stay in `parts/` for the
   * next run. Default: none.
   */
  signal?: AbortSignal;
}

const utf8 = new TextDecoder();

/**
 * Ingests MPD slice files into Parquet tables and a report in `outDir`, one slice at a time.
 *
 * Each slice is read, validated and written as a part folder in `outDir/parts/` before the next one is
 * read. A later run reuses a part when its file has the same name, size, modification time and position,
 * and every part before it is reused too. Parts after a changed file are read again, because later parts
 * number their new tracks after its tracks. When every slice is done, the tables are written
 * under temporary names and renamed into place, the report last. A folder without the report contains no
 * complete ingestion, and a failed or aborted run never leaves a partial table.
 *
 * Do not run two ingestions into the same `outDir` at once.
 *
 * @param input A folder of `mpd.slice.<start>-<end>.json` files, or one slice file. Other entries of the
 *   folder are not read, and the report lists them in `ignored_files`.
 * @param outDir Output folder, created if needed. Outputs of an earlier ingestion there are replaced.
 * @param options Progress callback and abort signal.
 * @returns The report, as written to `ingest_report.json`.
 * @throws {Deno.errors.NotFound} When the input does not exist or contains no slice file.
 * @throws {SyntaxError} When a file is not valid JSON.
 * @throws {TypeError} When a file is not an MPD slice or a field has the wrong type.
 * @throws {RangeError} When a number is out of range, or a pos repeats within a playlist.
 * @throws {Error} When a pid appears twice, in one file or in two.
 * @throws {DOMException} The signal's reason (an `AbortError` by default) when `signal` is aborted.
 */
export async function ingestMpd(
  input: string,
  outDir: string,
  options: IngestOptions = {},
): Promise<IngestReport> {
  const { slices: files, ignored } = await listMpdInput(input);
  const source = resolve(input);
  options.signal?.throwIfAborted();
  const stamps = await Promise.all(files.map(stampFile));
  const partsDir = join(outDir, PARTS_DIR);
  await Deno.mkdir(outDir, { recursive: true });
  await removeTemporaryTables(outDir);

  const dictionary = new TrackDictionary();
  const fileOfPid = new Map<number, number>();
  const manifests = await resumeParts(partsDir, stamps, source, dictionary, fileOfPid);
  const totals = emptyCounts();
  const report = (
    done: number,
    stage: "read" | "write",
    file: string,
    reused: boolean,
    counts: SliceCounts | undefined,
  ) =>
    options.onProgress?.({
      stage,
      file,
      filesDone: done,
      filesTotal: files.length,
      reused,
      filePlaylists: counts?.playlists ?? 0,
      fileTrackOccurrences: counts?.track_occurrences ?? 0,
      playlists: totals.playlists,
      trackOccurrences: totals.track_occurrences,
    });
  for (const [index, manifest] of manifests.entries()) {
    addCounts(totals, manifest.counts);
    report(index + 1, "read", files[index], true, manifest.counts);
  }

  // The next files are read on Deno's I/O threads and scanned in a worker while this thread adds the
  // current slice to the dictionary and writes its part.
  const state: IngestState = { source, files, partsDir, dictionary, fileOfPid };
  const ahead = new ScanAhead(files, manifests.length);
  try {
    for (let index = manifests.length; index < files.length; index++) {
      options.signal?.throwIfAborted();
      const file = files[index];
      const read = await ahead.take(index);

      let slice: SliceRead;
      let manifest: PartManifest;
      try {
        slice = read.scan === undefined || read.scan.header === null
          ? readSlice(file, read.bytes, dictionary)
          : replaySlice(read.bytes, read.scan.record, read.scan.header, dictionary);
        manifest = finishSlice(file, slice, stamps[index], index, state);
      } catch (error) {
        throw withResumeNote(error, index, partsDir);
      }
      writePart(partsDir, manifest, slice.rows, dictionary);
      manifests.push(manifest);
      addCounts(totals, manifest.counts);
      report(index + 1, "read", file, false, manifest.counts);
    }
  } finally {
    ahead.close();
  }
  options.signal?.throwIfAborted();

  const ingestReport: IngestReport = {
    source,
    files: files.map((file) => basename(file)),
    ignored_files: ignored,
    ...totals,
    unique_tracks: dictionary.size,
    synthetic: manifests.every((manifest) => manifest.synthetic),
  };
  report(files.length, "write", "", false, undefined);
  await writeTables(outDir, partsDir, manifests, dictionary, ingestReport);
  return ingestReport;
}

/** The state that {@linkcode readSliceColumns} shares across slices. */
interface IngestState {
  source: string;
  files: string[];
  partsDir: string;
  dictionary: TrackDictionary;
  fileOfPid: Map<number, number>;
}

/** One slice's rows, with ids of the track dictionary, and what the part manifest needs besides. */
interface SliceRead {
  rows: SliceRows;
  pidsRead: number[];
  counts: SliceCounts;
  info: MpdSliceInfo | undefined;
}

/** Reads one slice's bytes on the main thread, adding its tracks to the dictionary. */
function readSlice(file: string, bytes: Uint8Array, dictionary: TrackDictionary): SliceRead {
  // The byte scanner handles valid slices in their usual form. Anything else goes through JSON.parse and
  // the validator, which also give the precise error for an invalid file.
  dictionary.mark();
  let columns = new SliceColumns(dictionary);
  let header: SliceHeader | null = scanSlice(bytes, columns, file);
  if (header === null) {
    dictionary.rollback();
    columns = new SliceColumns(dictionary);
    header = feedSlice(parseSlice(utf8.decode(bytes), file), columns);
  }
  return { rows: columns, pidsRead: columns.pidsRead, counts: columns.counts(), info: header.info };
}

/** Adds a slice that the worker scanned to the dictionary, replaying the scanner's sink calls. */
function replaySlice(
  bytes: Uint8Array,
  record: SliceRecord,
  header: SliceHeader,
  dictionary: TrackDictionary,
): SliceRead {
  dictionary.mark();
  const columns = new SliceColumns(dictionary);
  replaySinkCalls(record, bytes, columns);
  return { rows: columns, pidsRead: columns.pidsRead, counts: columns.counts(), info: header.info };
}

/** Checks a read slice's pids against the earlier slices and returns its part manifest. */
function finishSlice(
  file: string,
  slice: SliceRead,
  stamp: SliceFileStamp,
  index: number,
  state: IngestState,
): PartManifest {
  const { dictionary, fileOfPid } = state;
  for (const pid of slice.pidsRead) {
    const earlier = fileOfPid.get(pid);
    if (earlier !== undefined) {
      throw new Error(
        `pid ${pid} appears in both ${state.files[earlier]} and ${file}; every playlist needs its own pid, ` +
          "so remove the duplicate file or renumber one of the playlists",
      );
    }
  }
  for (const pid of slice.pidsRead) fileOfPid.set(pid, index);

  let minPid: number | null = null;
  let maxPid: number | null = null;
  for (const pid of slice.rows.pid) {
    if (minPid === null || pid < minPid) minPid = pid;
    if (maxPid === null || pid > maxPid) maxPid = pid;
  }
  return {
    format: PART_FORMAT,
    source: state.source,
    ...stamp,
    index,
    tracks_before: dictionary.markSize,
    tracks_after: dictionary.size,
    min_pid: minPid,
    max_pid: maxPid,
    synthetic: slice.info?.synthetic === true,
    counts: slice.counts,
  };
}

/**
 * Adds to the message of an error in a slice file where the finished slices before it are kept, since
 * the user fixes or removes the file and reruns. The error keeps its class.
 */
function withResumeNote(error: unknown, finished: number, partsDir: string): unknown {
  if (!(error instanceof Error) || finished === 0) return error;
  const slices = finished === 1 ? "slice before it is" : `${finished} slices before it are`;
  error.message += `. The finished ${slices} kept in ${partsDir}, so a rerun resumes here`;
  return error;
}

async function stampFile(file: string): Promise<SliceFileStamp> {
  const info = await Deno.stat(file);
  return { file: basename(file), size: info.size, mtime_ms: info.mtime?.getTime() ?? 0 };
}

/**
 * Restores the longest run of finished parts that match the input files, from the first file on. Every
 * other entry of the parts folder is removed: stale parts, parts of files no longer in the input, and
 * temporary folders of an interrupted run.
 */
async function resumeParts(
  partsDir: string,
  stamps: SliceFileStamp[],
  source: string,
  dictionary: TrackDictionary,
  fileOfPid: Map<number, number>,
): Promise<PartManifest[]> {
  let entries: string[];
  try {
    entries = (await Array.fromAsync(Deno.readDir(partsDir))).map((entry) => entry.name);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }

  const manifests: PartManifest[] = [];
  const names = new Set(entries);
  for (const [index, stamp] of stamps.entries()) {
    if (!names.has(stamp.file)) break;
    const partDir = join(partsDir, stamp.file);
    const manifest = await readPartManifest(partDir);
    if (manifest === undefined || !isPartFresh(manifest, stamp, index, source)) break;
    try {
      restorePart(partDir, manifest, dictionary, fileOfPid);
    } catch {
      // A part that does not continue the earlier ones, or whose tables cannot be read, is read again from
      // its slice file. restorePart leaves the dictionary as it was.
      break;
    }
    manifests.push(manifest);
  }

  const kept = new Set(manifests.map((manifest) => manifest.file));
  for (const name of entries) {
    if (!kept.has(name)) await Deno.remove(join(partsDir, name), { recursive: true });
  }
  return manifests;
}

/** Removes temporary table files that a run stopped while writing the tables left behind. */
async function removeTemporaryTables(outDir: string): Promise<void> {
  for await (const entry of Deno.readDir(outDir)) {
    if (entry.isFile && entry.name.endsWith(".tmp")) await Deno.remove(join(outDir, entry.name));
  }
}

/**
 * Writes the three tables from the parts and the dictionary, then the report, each under a temporary name
 * renamed into place.
 */
async function writeTables(
  outDir: string,
  partsDir: string,
  manifests: PartManifest[],
  dictionary: TrackDictionary,
  report: IngestReport,
): Promise<void> {
  const suffix = `.${Deno.pid}.tmp`;
  const temporary = (name: string) => join(outDir, name + suffix);
  const tables = [INGEST_FILES.playlists, INGEST_FILES.playlistTracks, INGEST_FILES.tracks];
  try {
    // Parts in pid order concatenate to sorted tables unless the slices' pid ranges overlap.
    const ordered = manifests.filter((manifest) => manifest.min_pid !== null)
      .sort((a, b) => (a.min_pid as number) - (b.min_pid as number));
    const overlapping = ordered.some((manifest, k) =>
      k > 0 && (manifest.min_pid as number) <= (ordered[k - 1].max_pid as number)
    );
    // With no playlist at all, one part still gives the tables their columns.
    const partDirs = (ordered.length > 0 ? ordered : manifests.slice(0, 1))
      .map((manifest) => join(partsDir, manifest.file));

    await Promise.all([
      sinkPartTables(
        partDirs,
        PART_FILES.playlists,
        temporary(INGEST_FILES.playlists),
        overlapping ? ["pid"] : undefined,
      ),
      sinkPartTables(
        partDirs,
        PART_FILES.playlistTracks,
        temporary(INGEST_FILES.playlistTracks),
        overlapping ? ["pid", "pos"] : undefined,
      ),
      writeParquet(trackFrame(dictionary), temporary(INGEST_FILES.tracks)),
    ]);
    await Deno.writeTextFile(temporary(INGEST_FILES.report), JSON.stringify(report, null, 2) + "\n");

    // Without its report the folder reads as incomplete until the last rename, so a crash in between
    // cannot pass off a mix of old and new tables as one ingestion.
    await Deno.remove(join(outDir, INGEST_FILES.report)).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
    for (const name of tables) await Deno.rename(temporary(name), join(outDir, name));
    await Deno.rename(temporary(INGEST_FILES.report), join(outDir, INGEST_FILES.report));
  } catch (error) {
    for (const name of [...tables, INGEST_FILES.report]) await Deno.remove(temporary(name)).catch(() => {});
    throw error;
  }
}
