/**
 * Ingests MPD slice files into Parquet tables: `deno task ingest --input DIR|FILE --out DIR`.
 * @module
 */

import { parseArgs } from "node:util";
import { basename } from "node:path";
import { ingestMpd } from "../lib/data/ingest.ts";

const HELP = `Usage: deno task ingest --input DIR|FILE --out DIR

Reads MPD slice files (mpd.slice.<start>-<end>.json in a folder, or one slice file), validates them, and
writes playlists.parquet, playlist_tracks.parquet, tracks.parquet and ingest_report.json to the output folder.
Nothing is written when an input file is invalid.

Options:
  --input PATH     folder of slice files, or one slice file (required)
  --out DIR        output folder, created if needed; earlier outputs there are replaced (required)
  -h, --help       show this help
`;

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      input: { type: "string" },
      out: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (values.input === undefined || values.out === undefined) {
    console.error(`Missing ${values.input === undefined ? "--input" : "--out"}.\n\n${HELP}`);
    return 2;
  }

  const started = performance.now();
  const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
  const report = await ingestMpd(values.input, values.out, {
    onProgress: (progress) => {
      if (progress.stage === "read") {
        console.error(
          `read ${progress.filesDone}/${progress.filesTotal} ${basename(progress.file)}: ` +
            `${progress.playlists} playlists, ${progress.trackOccurrences} track occurrences (${elapsed()})`,
        );
      } else {
        console.error(`writing Parquet tables to ${values.out} (${elapsed()})`);
      }
    },
  });

  const missing = [
    ...Object.entries(report.missing.playlist).filter(([, count]) => count > 0).map(([key, count]) =>
      `playlist ${key}: ${count}`
    ),
    ...Object.entries(report.missing.track).filter(([, count]) => count > 0).map(([key, count]) =>
      `track ${key}: ${count}`
    ),
  ];
  const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? "" : "s"}`;
  console.error(
    `Ingested ${plural(report.files.length, "file")} in ${elapsed()}: ${report.playlists} playlists, ` +
      `${report.track_occurrences} track occurrences, ${report.unique_tracks} unique tracks` +
      (report.synthetic ? " (synthetic data)." : "."),
  );
  console.error(
    missing.length === 0 ? "No optional field was missing." : `Missing fields: ${missing.join(", ")}.`,
  );
  if (report.num_tracks_mismatches > 0) {
    console.error(
      `${
        plural(report.num_tracks_mismatches, "playlist")
      } with a num_tracks that differs from its track count.`,
    );
  }
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    console.error(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    if (error instanceof TypeError && "code" in error && error.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      console.error("Run with --help to see the options.");
    }
    Deno.exit(1);
  }
}
