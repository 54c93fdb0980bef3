/**
 * Loading of ingested Parquet tables back into a {@linkcode Corpus}.
 * @module
 */

import pl from "nodejs-polars";
import { join } from "node:path";
import type { Corpus, Playlist, TrackTable } from "./corpus.ts";
import { INGEST_FILES, type IngestReport } from "./ingest.ts";

/**
 * Loads the output of {@linkcode ingestMpd} from `dir` as a corpus.
 *
 * Whole columns are read at once: 20,000 generated playlists with 1.2M track occurrences loaded in 70 to
 * 230 ms, and 50,000 with 3.0M in 140 to 200 ms (2-core x86-64, shared with other work). Missing names and
 * URIs become empty strings. Each playlist's `tracks` is a view into one shared buffer.
 *
 * @param dir The folder that `ingestMpd` wrote.
 * @returns The corpus, playlists sorted by pid, each with its track ids in playlist order.
 * @throws {Deno.errors.NotFound} When `dir` contains no complete ingestion (no `ingest_report.json`).
 * @throws {TypeError} When the tables do not have the layout that `ingestMpd` writes.
 */
export function loadCorpus(dir: string): Corpus {
  const report = readReport(dir);
  const tracks = loadTracks(dir);
  const playlists = loadPlaylists(dir, tracks.uri.length);
  return { tracks, playlists, synthetic: report.synthetic, source: report.source };
}

function readReport(dir: string): IngestReport {
  const path = join(dir, INGEST_FILES.report);
  try {
    return JSON.parse(Deno.readTextFileSync(path)) as IngestReport;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(
        `No complete ingestion in ${dir}: ${INGEST_FILES.report} is missing; ` +
          'run "deno task ingest --input MPD_FOLDER --out DIR" first',
      );
    }
    throw error;
  }
}

function loadTracks(dir: string): TrackTable {
  const path = join(dir, INGEST_FILES.tracks);
  const frame = pl.readParquet(path, {
    columns: ["track_id", "track_uri", "track_name", "artist_uri", "artist_name", "album_uri"],
  });
  const ids = frame.getColumn("track_id").toTypedArray() as Int32Array;
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] !== i) {
      throw new TypeError(`${path}: row ${i} has track_id ${ids[i]}, expected ${i}; rerun the ingestion`);
    }
  }
  return {
    uri: frame.getColumn("track_uri").toArray() as string[],
    name: stringsOrEmpty(frame.getColumn("track_name")),
    artistUri: stringsOrEmpty(frame.getColumn("artist_uri")),
    artistName: stringsOrEmpty(frame.getColumn("artist_name")),
    albumUri: stringsOrEmpty(frame.getColumn("album_uri")),
  };
}

function loadPlaylists(dir: string, trackCount: number): Playlist[] {
  const playlistFrame = pl.readParquet(join(dir, INGEST_FILES.playlists), {
    columns: ["pid", "name", "modified_at"],
  }).sort("pid");
  const pids = playlistFrame.getColumn("pid").toTypedArray() as Int32Array;
  const names = stringsOrEmpty(playlistFrame.getColumn("name"));
  const modifiedAt = playlistFrame.getColumn("modified_at").toArray() as (number | bigint | null)[];

  const path = join(dir, INGEST_FILES.playlistTracks);
  let occurrences = pl.readParquet(path);
  if (!isSortedByPidAndPos(occurrences)) occurrences = occurrences.sort(["pid", "pos"]);
  const occurrencePids = occurrences.getColumn("pid").toTypedArray() as Int32Array;
  const trackIds = occurrences.getColumn("track_id").toTypedArray() as Int32Array;
  for (let i = 0; i < trackIds.length; i++) {
    if (trackIds[i] < 0 || trackIds[i] >= trackCount) {
      throw new TypeError(
        `${path}: row ${i} has track_id ${
          trackIds[i]
        }, outside the ${trackCount} tracks; rerun the ingestion`,
      );
    }
  }

  // Both tables are sorted by pid, so one pass assigns each playlist its run of occurrence rows.
  const playlists: Playlist[] = new Array(pids.length);
  let row = 0;
  for (let p = 0; p < pids.length; p++) {
    const pid = pids[p];
    if (row < occurrencePids.length && occurrencePids[row] < pid) {
      throw new TypeError(
        `${path}: pid ${occurrencePids[row]} is not in ${INGEST_FILES.playlists}; rerun the ingestion`,
      );
    }
    const start = row;
    while (row < occurrencePids.length && occurrencePids[row] === pid) row++;
    const modified = modifiedAt[p];
    playlists[p] = {
      pid,
      name: names[p],
      modifiedAt: modified === null ? null : Number(modified),
      tracks: trackIds.subarray(start, row),
    };
  }
  if (row < occurrencePids.length) {
    throw new TypeError(
      `${path}: pid ${occurrencePids[row]} is not in ${INGEST_FILES.playlists}; rerun the ingestion`,
    );
  }
  return playlists;
}

function isSortedByPidAndPos(frame: pl.DataFrame): boolean {
  const pids = frame.getColumn("pid").toTypedArray() as Int32Array;
  const positions = frame.getColumn("pos").toTypedArray() as Int32Array;
  for (let i = 1; i < pids.length; i++) {
    if (pids[i - 1] > pids[i] || (pids[i - 1] === pids[i] && positions[i - 1] >= positions[i])) return false;
  }
  return true;
}

function stringsOrEmpty(series: pl.Series): string[] {
  const values = series.toArray() as (string | null)[];
  for (let i = 0; i < values.length; i++) values[i] ??= "";
  return values as string[];
}
