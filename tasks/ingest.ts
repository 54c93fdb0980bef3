/**
 * Ingests MPD slice files into Parquet tables: `deno task ingest --input DIR|FILE --out DIR`.
 * @module
 */

import { parseArgs } from "node:util";
import { basename } from "node:path";
import { ingestMpd } from "../lib/data/ingest.ts";
import { describeIngestReport } from "../lib/data/ingest_summary.ts";
import { runMain } from "../lib/cli/run_main.ts";

const HELP = `Usage: deno task ingest --input DIR|FILE --out DIR

Reads MPD slice files (mpd.slice.<start>-<end>.json in a folder, or one slice file) one at a time, validates
them, and writes playlists.parquet, playlist_tracks.parquet, tracks.parquet and ingest_report.json to the
output folder. Each finished slice is kept in DIR/parts/, so a run that stops on an invalid file or on
Ctrl-C resumes after the last finished slice when started again; the tables are only written when every
slice is done. Playlists with an empty tracks array are skipped and listed in the report. Other files in
the folder, such as the MPD's stats.json, are not read; the summary and the report list them. The summary
also notes pid ranges that no slice file name covers, such as those of a missing slice.

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

  // The first Ctrl-C stops after the slice being read and keeps every finished slice. A second one kills
  // the process.
  const controller = new AbortController();
  const onInterrupt = () => {
    console.error("Stopping after the current slice; press Ctrl-C again to stop at once.");
    Deno.removeSignalListener("SIGINT", onInterrupt);
    controller.abort();
  };
  Deno.addSignalListener("SIGINT", onInterrupt);

  const started = performance.now();
  const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
  let report;
  try {
    report = await ingestMpd(values.input, values.out, {
      signal: controller.signal,
      onProgress: (progress) => {
        if (progress.stage === "read") {
          console.error(
            `${progress.reused ? "reused" : "read"} ${progress.filesDone}/${progress.filesTotal} ` +
              `${basename(progress.file)}: ${progress.filePlaylists} playlists, ` +
              `${progress.fileTrackOccurrences} track occurrences (${progress.playlists} playlists so far, ` +
              `${elapsed()})`,
          );
        } else {
          console.error(`writing Parquet tables to ${values.out} (${elapsed()})`);
        }
      },
    });
  } catch (error) {
    if (controller.signal.aborted) {
      console.error(`Stopped after ${elapsed()}; run the same command again to resume.`);
      return 130;
    }
    throw error;
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
  }

  console.error(`Ingested in ${elapsed()}:`);
  for (const line of describeIngestReport(report)) console.error(`  ${line}`);
  return 0;
}

if (import.meta.main) await runMain(main);
