/**
 * A human-readable summary of an ingest report, for the command line and the pipeline's log.
 * @module
 */

import { basename } from "node:path";
import { SLICE_FILE_PATTERN } from "../mpd/read.ts";
import type { IngestReport } from "./ingest.ts";

/** The number of skipped pids that a summary lists before it gives the count of the rest. */
export const LISTED_PIDS = 10;

/** The number of ignored file names that a summary lists before it gives the count of the rest. */
export const LISTED_IGNORED_FILES = 5;

/** The number of pid gaps that a summary lists before it gives the count of the rest. */
export const LISTED_PID_GAPS = 5;

/** A range of pids, first and last included. */
export interface PidRange {
  first: number;
  last: number;
}

/**
 * Finds the pids from 0 up to the last slice's end that no slice file name covers, from names of the form
 * `mpd.slice.<start>-<end>.json`. Names of another form are not counted, so a single input file with any
 * name gives no gap.
 *
 * @param files Slice file names or paths.
 * @returns The uncovered ranges in ascending order; empty when the names cover every pid.
 */
export function findPidGaps(files: string[]): PidRange[] {
  const ranges: PidRange[] = [];
  for (const file of files) {
    const match = SLICE_FILE_PATTERN.exec(basename(file));
    if (match !== null) ranges.push({ first: Number(match[1]), last: Number(match[2]) });
  }
  ranges.sort((a, b) => a.first - b.first);

  const gaps: PidRange[] = [];
  let next = 0;
  for (const range of ranges) {
    if (range.first > next) gaps.push({ first: next, last: range.first - 1 });
    next = Math.max(next, range.last + 1);
  }
  return gaps;
}

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

  const gaps = findPidGaps(report.files);
  if (gaps.length > 0) {
    const pids = gaps.reduce((sum, gap) => sum + gap.last - gap.first + 1, 0);
    lines.push(
      `note: no slice file name covers ${plural(pids, "pid")} in ${plural(gaps.length, "range")}: ` +
        `${listGaps(gaps)}; if a slice file is missing, add it and ingest again`,
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
  const listed = pids.slice(0, LISTED_PIDS).join(", ");
  const label = pids.length === 1 ? "pid" : "pids";
  return pids.length > LISTED_PIDS
    ? `${label} ${listed} and ${pids.length - LISTED_PIDS} more`
    : `${label} ${listed}`;
}

function listGaps(gaps: PidRange[]): string {
  const listed = gaps.slice(0, LISTED_PID_GAPS).map((gap) =>
    gap.first === gap.last ? `pid ${gap.first}` : `pids ${gap.first}-${gap.last}`
  ).join(", ");
  return gaps.length > LISTED_PID_GAPS ? `${listed} and ${gaps.length - LISTED_PID_GAPS} more` : listed;
}
