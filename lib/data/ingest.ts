/**
 * Ingestion of MPD slice files into three Parquet tables and a report.
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
 *
 * Every column except pid, pos, track_id, track_uri and slice is null where the input lacks the field. A
 * track's metadata comes from its first occurrence, with fields missing there taken from later ones.
 *
 * Slices are parsed with `JSON.parse` and the columns built in TypeScript, because that was faster: on the
 * default 20,000 generated playlists (1.2M track occurrences, 2-core x86-64) `ingestMpd` took 3.0 to 3.7 s
 * with validation and Parquet writing, while nodejs-polars 0.25.2 `readJSON` with explode, unnest, unique
 * and join took 4.7 to 4.9 s without either.
 * @module
 */

import pl from "nodejs-polars";
import { basename, join, resolve } from "node:path";
import { listSliceFiles, readSlice } from "../mpd/read.ts";
import type { MpdPlaylist, MpdTrack } from "../mpd/schema.ts";

/** File names of the ingestion outputs. */
export const INGEST_FILES = {
  playlists: "playlists.parquet",
  playlistTracks: "playlist_tracks.parquet",
  tracks: "tracks.parquet",
  report: "ingest_report.json",
} as const;

/** Optional playlist fields whose absence the report counts. */
export const OPTIONAL_PLAYLIST_FIELDS = [
  "name",
  "description",
  "modified_at",
  "num_tracks",
  "num_albums",
  "num_artists",
  "num_followers",
  "num_edits",
  "duration_ms",
  "collaborative",
] as const satisfies readonly (keyof MpdPlaylist)[];

/** Optional track fields whose absence the report counts. */
export const OPTIONAL_TRACK_FIELDS = [
  "pos",
  "track_name",
  "artist_uri",
  "artist_name",
  "album_uri",
  "album_name",
  "duration_ms",
] as const satisfies readonly (keyof MpdTrack)[];

/** The content of `ingest_report.json`. */
export interface IngestReport {
  /** Absolute path of the ingested folder or file. */
  source: string;
  /** Slice file names, in ingestion order. */
  files: string[];
  playlists: number;
  track_occurrences: number;
  unique_tracks: number;
  /** True when every input file has `info.synthetic: true`, as files of this project's generator do. */
  synthetic: boolean;
  /** Per optional field, the number of playlists or track occurrences that lacked it. */
  missing: {
    playlist: Record<(typeof OPTIONAL_PLAYLIST_FIELDS)[number], number>;
    track: Record<(typeof OPTIONAL_TRACK_FIELDS)[number], number>;
  };
  /** Playlists whose `num_tracks` differs from the length of their `tracks` array, as in cut-down files. */
  num_tracks_mismatches: number;
}

/** Progress of {@linkcode ingestMpd}, reported after each slice file and before writing. */
export interface IngestProgress {
  stage: "read" | "write";
  /** The file just read; empty in the write stage. */
  file: string;
  filesDone: number;
  filesTotal: number;
  playlists: number;
  trackOccurrences: number;
}

/** Options of {@linkcode ingestMpd}. */
export interface IngestOptions {
  onProgress?: (progress: IngestProgress) => void;
}

/** Column-wise playlist fields, in input order. */
class PlaylistColumns {
  pid: number[] = [];
  name: (string | null)[] = [];
  description: (string | null)[] = [];
  modifiedAt: (number | null)[] = [];
  numTracks: (number | null)[] = [];
  numFollowers: (number | null)[] = [];
  numEdits: (number | null)[] = [];
  collaborative: (boolean | null)[] = [];
  slice: string[] = [];
  /** Range of each playlist's rows in {@linkcode OccurrenceColumns}. */
  firstOccurrence: number[] = [];
  occurrenceCount: number[] = [];
}

/** Column-wise track occurrences, in input order. */
class OccurrenceColumns {
  pos: number[] = [];
  trackId: number[] = [];
}

/** Column-wise track metadata, indexed by track id. */
class TrackColumns {
  idOfUri = new Map<string, number>();
  uri: string[] = [];
  name: (string | null)[] = [];
  artistUri: (string | null)[] = [];
  artistName: (string | null)[] = [];
  albumUri: (string | null)[] = [];
  albumName: (string | null)[] = [];
  durationMs: (number | null)[] = [];

  /** Returns the id of the track, adding it or filling its missing metadata from this occurrence. */
  add(track: MpdTrack): number {
    let id = this.idOfUri.get(track.track_uri);
    if (id === undefined) {
      id = this.uri.length;
      this.idOfUri.set(track.track_uri, id);
      this.uri.push(track.track_uri);
      this.name.push(track.track_name ?? null);
      this.artistUri.push(track.artist_uri ?? null);
      this.artistName.push(track.artist_name ?? null);
      this.albumUri.push(track.album_uri ?? null);
      this.albumName.push(track.album_name ?? null);
      this.durationMs.push(track.duration_ms ?? null);
      return id;
    }
    this.name[id] ??= track.track_name ?? null;
    this.artistUri[id] ??= track.artist_uri ?? null;
    this.artistName[id] ??= track.artist_name ?? null;
    this.albumUri[id] ??= track.album_uri ?? null;
    this.albumName[id] ??= track.album_name ?? null;
    this.durationMs[id] ??= track.duration_ms ?? null;
    return id;
  }
}

/**
 * Ingests MPD slice files into Parquet tables and a report in `outDir`.
 *
 * All inputs are read and validated before anything is written. Each output is written under a temporary
 * name and then renamed, and the report is renamed last, so a failed run leaves no partial output file.
 * A folder without the report contains no complete ingestion.
 *
 * NOTE: all columns stay in memory until the end. The 20,000-playlist run peaked at 0.78 GB resident
 * memory; the full MPD (66M track occurrences) has not been tried.
 *
 * @param input A folder of `mpd.slice.<start>-<end>.json` files, or one slice file.
 * @param outDir Output folder, created if needed. Outputs of an earlier ingestion there are replaced.
 * @param options Progress callback.
 * @returns The report, as written to `ingest_report.json`.
 * @throws {Deno.errors.NotFound} When the input does not exist or contains no slice file.
 * @throws {SyntaxError} When a file is not valid JSON.
 * @throws {TypeError} When a file is not an MPD slice or a field has the wrong type.
 * @throws {RangeError} When a number is out of range, or a pos repeats within a playlist.
 * @throws {Error} When a pid appears twice, in one file or in two.
 */
export async function ingestMpd(
  input: string,
  outDir: string,
  options: IngestOptions = {},
): Promise<IngestReport> {
  const files = await listSliceFiles(input);
  const playlists = new PlaylistColumns();
  const occurrences = new OccurrenceColumns();
  const tracks = new TrackColumns();
  const fileOfPid = new Map<number, string>();
  const missingPlaylist = Object.fromEntries(OPTIONAL_PLAYLIST_FIELDS.map((key) => [key, 0])) as IngestReport[
    "missing"
  ]["playlist"];
  const missingTrack = Object.fromEntries(OPTIONAL_TRACK_FIELDS.map((key) => [key, 0])) as IngestReport[
    "missing"
  ]["track"];
  let numTracksMismatches = 0;
  let synthetic = true;

  for (const [fileIndex, file] of files.entries()) {
    const slice = await readSlice(file);
    const sliceName = basename(file);
    synthetic &&= slice.info?.synthetic === true;

    for (const playlist of slice.playlists) {
      const earlierFile = fileOfPid.get(playlist.pid);
      if (earlierFile !== undefined) {
        throw new Error(
          `pid ${playlist.pid} appears in both ${earlierFile} and ${file}; ` +
            "every playlist needs its own pid, so remove the duplicate file or renumber one of the playlists",
        );
      }
      fileOfPid.set(playlist.pid, file);

      for (const key of OPTIONAL_PLAYLIST_FIELDS) if (playlist[key] === undefined) missingPlaylist[key]++;
      if (playlist.num_tracks !== undefined && playlist.num_tracks !== playlist.tracks.length) {
        numTracksMismatches++;
      }
      playlists.pid.push(playlist.pid);
      playlists.name.push(playlist.name ?? null);
      playlists.description.push(playlist.description ?? null);
      playlists.modifiedAt.push(playlist.modified_at ?? null);
      playlists.numTracks.push(playlist.num_tracks ?? null);
      playlists.numFollowers.push(playlist.num_followers ?? null);
      playlists.numEdits.push(playlist.num_edits ?? null);
      playlists.collaborative.push(
        playlist.collaborative === undefined ? null : playlist.collaborative === "true",
      );
      playlists.slice.push(sliceName);
      playlists.firstOccurrence.push(occurrences.pos.length);
      playlists.occurrenceCount.push(playlist.tracks.length);

      for (let index = 0; index < playlist.tracks.length; index++) {
        const track = playlist.tracks[index];
        for (const key of OPTIONAL_TRACK_FIELDS) if (track[key] === undefined) missingTrack[key]++;
        occurrences.pos.push(track.pos ?? index);
        occurrences.trackId.push(tracks.add(track));
      }
    }
    options.onProgress?.({
      stage: "read",
      file,
      filesDone: fileIndex + 1,
      filesTotal: files.length,
      playlists: playlists.pid.length,
      trackOccurrences: occurrences.pos.length,
    });
  }

  const report: IngestReport = {
    source: resolve(input),
    files: files.map((file) => basename(file)),
    playlists: playlists.pid.length,
    track_occurrences: occurrences.pos.length,
    unique_tracks: tracks.uri.length,
    synthetic,
    missing: { playlist: missingPlaylist, track: missingTrack },
    num_tracks_mismatches: numTracksMismatches,
  };
  options.onProgress?.({
    stage: "write",
    file: "",
    filesDone: files.length,
    filesTotal: files.length,
    playlists: report.playlists,
    trackOccurrences: report.track_occurrences,
  });
  await writeOutputs(outDir, playlists, occurrences, tracks, report);
  return report;
}

/** Returns playlist indexes in ascending pid order. */
function orderByPid(pids: number[]): Int32Array {
  const order = Int32Array.from({ length: pids.length }, (_, i) => i);
  let sorted = true;
  for (let i = 1; i < pids.length && sorted; i++) sorted = pids[i - 1] < pids[i];
  if (!sorted) order.sort((a, b) => pids[a] - pids[b]);
  return order;
}

/** Builds the three tables, with playlists sorted by pid and each playlist's tracks by pos. */
function buildFrames(
  playlists: PlaylistColumns,
  occurrences: OccurrenceColumns,
  tracks: TrackColumns,
): { playlists: pl.DataFrame; playlistTracks: pl.DataFrame; tracks: pl.DataFrame } {
  const order = orderByPid(playlists.pid);
  const byPid = <T>(column: T[]): T[] => Array.from(order, (i) => column[i]);

  const rows = occurrences.pos.length;
  const pid = new Int32Array(rows);
  const pos = new Int32Array(rows);
  const trackId = new Int32Array(rows);
  let row = 0;
  for (const p of order) {
    const first = playlists.firstOccurrence[p];
    const count = playlists.occurrenceCount[p];
    const rowsOfPlaylist = Int32Array.from({ length: count }, (_, k) => first + k);
    let sorted = true;
    for (let k = 1; k < count && sorted; k++) {
      sorted = occurrences.pos[first + k - 1] < occurrences.pos[first + k];
    }
    if (!sorted) rowsOfPlaylist.sort((a, b) => occurrences.pos[a] - occurrences.pos[b]);
    for (const source of rowsOfPlaylist) {
      pid[row] = playlists.pid[p];
      pos[row] = occurrences.pos[source];
      trackId[row] = occurrences.trackId[source];
      row++;
    }
  }

  return {
    playlists: pl.DataFrame([
      pl.Series("pid", Int32Array.from(order, (i) => playlists.pid[i])),
      pl.Series("name", byPid(playlists.name), pl.Utf8),
      pl.Series("description", byPid(playlists.description), pl.Utf8),
      pl.Series("modified_at", byPid(playlists.modifiedAt), pl.Int64),
      nullableInt32("num_tracks", byPid(playlists.numTracks)),
      nullableInt32("num_followers", byPid(playlists.numFollowers)),
      nullableInt32("num_edits", byPid(playlists.numEdits)),
      pl.Series("collaborative", byPid(playlists.collaborative), pl.Bool),
      pl.Series("slice", byPid(playlists.slice), pl.Utf8),
    ]),
    playlistTracks: pl.DataFrame([
      pl.Series("pid", pid),
      pl.Series("pos", pos),
      pl.Series("track_id", trackId),
    ]),
    tracks: pl.DataFrame([
      pl.Series("track_id", Int32Array.from({ length: tracks.uri.length }, (_, i) => i)),
      pl.Series("track_uri", tracks.uri, pl.Utf8),
      pl.Series("track_name", tracks.name, pl.Utf8),
      pl.Series("artist_uri", tracks.artistUri, pl.Utf8),
      pl.Series("artist_name", tracks.artistName, pl.Utf8),
      pl.Series("album_uri", tracks.albumUri, pl.Utf8),
      pl.Series("album_name", tracks.albumName, pl.Utf8),
      nullableInt32("duration_ms", tracks.durationMs),
    ]),
  };
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

async function writeOutputs(
  outDir: string,
  playlists: PlaylistColumns,
  occurrences: OccurrenceColumns,
  tracks: TrackColumns,
  report: IngestReport,
): Promise<void> {
  const frames = buildFrames(playlists, occurrences, tracks);
  await Deno.mkdir(outDir, { recursive: true });

  const suffix = `.${Deno.pid}.tmp`;
  const outputs: [pl.DataFrame, string][] = [
    [frames.playlists, INGEST_FILES.playlists],
    [frames.playlistTracks, INGEST_FILES.playlistTracks],
    [frames.tracks, INGEST_FILES.tracks],
  ];
  const temporaries = [
    ...outputs.map(([, name]) => join(outDir, name + suffix)),
    join(outDir, INGEST_FILES.report + suffix),
  ];
  try {
    for (const [frame, name] of outputs) {
      frame.writeParquet(join(outDir, name + suffix), { compression: "zstd" });
    }
    await Deno.writeTextFile(
      join(outDir, INGEST_FILES.report + suffix),
      JSON.stringify(report, null, 2) + "\n",
    );

    // Without its report the folder reads as incomplete until the last rename, so a crash in between
    // cannot pass off a mix of old and new tables as one ingestion.
    await Deno.remove(join(outDir, INGEST_FILES.report)).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
    for (const [, name] of outputs) await Deno.rename(join(outDir, name + suffix), join(outDir, name));
    await Deno.rename(join(outDir, INGEST_FILES.report + suffix), join(outDir, INGEST_FILES.report));
  } catch (error) {
    for (const temporary of temporaries) await Deno.remove(temporary).catch(() => {});
    throw error;
  }
}
