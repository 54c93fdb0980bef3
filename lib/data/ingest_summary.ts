/**
 * A human-readable summary of an ingest report, for the command line and the pipeline's log.
 * @module
 */

import type { IngestReport } from "./ingest.ts";

/** The number of skipped pids that a summary lists before it gives the count of the rest. */
export const LISTED_PIDS = 10;

/** The number of ignored file names that a summary lists before it gives the count of the rest. */
export const LISTED_IGNORED_FILES = 5;

/**
 * Describes an ingest report in a few lines: what was ingested, which files of the input folder were not
 * read, what was skipped and why, what was kept with a warning, and which optional fields were missing. The
 * lines count every ignored file and skipped playlist, and the report itself lists all of their names and
 * pids.
 */
export function describeIngestReport(report: IngestReport): string[] {
  const lines = [
    `${plural(report.files.length, "file")}: ${report.playlists} playlists, ${report.track_occurrences} ` +
    `track occurrences, ${report.unique_tracks} unique tracks${report.synthetic ? " (synthetic data)" : ""}`,
  ];

  const ignored = report.ignored_files;
  if (ignored.length > 0) {
    lines.push(
      `ignored ${plural(ignored.length, "entry", "entries")} of the input folder that ` +
        `${ignored.length === 1 ? "is not a slice file" : "are not slice files"} ` +
        `(mpd.slice.<start>-<end>.json): ${listNames(ignored)} (all names under ignored_files in the report)`,
    );
  }

  const empty = report.skipped.empty_playlists;
  if (empty.length > 0) {
    lines.push(
      `skipped ${plural(empty.length, "playlist")} with an empty tracks array: ${listPids(empty)} ` +
        "(all pids under skipped.empty_playlists in the report)",
    );
  }
  const repeats = report.repeated_tracks;
  if (repeats.playlists > 0) {
    lines.push(
      `kept ${repeats.playlists} ${
        repeats.playlists === 1 ? "playlist that repeats" : "playlists that repeat"
      } ` +
        `a track, with ` +
        `${plural(repeats.occurrences, "repeated occurrence")}`,
    );
  }
  if (report.num_tracks_mismatches > 0) {
    lines.push(
      `${
        plural(report.num_tracks_mismatches, "playlist")
      } with a num_tracks that differs from the length of ` +
        "their tracks array; the tracks array is used",
    );
  }

  const missing = [
    ...Object.entries(report.missing.playlist).filter(([, count]) => count > 0)
      .map(([key, count]) => `playlist ${key}: ${count}`),
    ...Object.entries(report.missing.track).filter(([, count]) => count > 0)
      .map(([key, count]) => `track ${key}: ${count}`),
  ];
  lines.push(
    missing.length === 0 ? "no optional field was missing" : `missing fields: ${missing.join(", ")}`,
  );
  return lines;
}

function plural(count: number, noun: string, pluralNoun = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : pluralNoun}`;
}

function listNames(names: string[]): string {
  const listed = names.slice(0, LISTED_IGNORED_FILES).join(", ");
  return names.length > LISTED_IGNORED_FILES
    ? `${listed} and ${names.length - LISTED_IGNORED_FILES} more`
    : listed;
}

function listPids(pids: number[]): string {
  const shown = pids.slice(0, LISTED_PIDS).join(", ");
  const label = pids.length === 1 ? "pid" : "pids";
  return pids.length > LISTED_PIDS
    ? `${label} ${shown} and ${pids.length - LISTED_PIDS} more`
    : `${label} ${shown}`;
}
