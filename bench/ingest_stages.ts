/**
 * Where ingestion's time goes, for the ingest_vs_python benchmark. Each stage of reading a slice is timed
 * on its own over the same files, one after another, in milliseconds of process CPU time per slice. The
 * time counts all threads, so the Parquet writing on nodejs-polars' threads counts too.
 *
 * Stages: reading the file's bytes with Deno.readFile (ingestion reads in its scanning worker instead). The
 * byte scanner alone, with a sink that keeps nothing (scan_only). The byte scanner building the columns and
 * the track dictionary (scan, which includes the work of scan_only). Then come the alternative path that
 * the scanner replaces (UTF-8 decoding, JSON.parse, validation and building the same columns) and writing
 * the part's files.
 *
 * Usage: deno run -A bench/ingest_stages.ts INPUT WORK_DIR
 * Prints one JSON object.
 * @module
 */

import process from "node:process";
import { basename } from "node:path";
import { PART_FORMAT, writePart } from "../lib/data/ingest_parts.ts";
import { SliceColumns } from "../lib/data/slice_columns.ts";
import { TrackDictionary } from "../lib/data/track_dictionary.ts";
import { listSliceFiles, validateSlice } from "../lib/mpd/read.ts";
import { feedSlice, scanSlice, type SliceSink } from "../lib/mpd/scan.ts";

const [input, workDir] = Deno.args;
if (workDir === undefined) {
  console.error("Usage: deno run -A bench/ingest_stages.ts INPUT WORK_DIR");
  Deno.exit(2);
}

/** Process CPU time in milliseconds, all threads. */
function cpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

const files = await listSliceFiles(input);
const totals = {
  read: 0,
  scan_only: 0,
  scan: 0,
  decode: 0,
  json_parse: 0,
  validate: 0,
  parsed_columns: 0,
  write_part: 0,
};
const scanned = new TrackDictionary();
const parsed = new TrackDictionary();
const decoder = new TextDecoder();
let fallbacks = 0;
/** A sink that keeps nothing, so scan_only times the byte scanner alone. */
const NULL_SINK: SliceSink = { track: () => {}, playlist: () => {} };

for (const [index, file] of files.entries()) {
  let started = cpuMs();
  const bytes = await Deno.readFile(file);
  totals.read += cpuMs() - started;

  started = cpuMs();
  scanSlice(bytes, NULL_SINK, file);
  totals.scan_only += cpuMs() - started;

  started = cpuMs();
  scanned.mark();
  const columns = new SliceColumns(scanned);
  if (scanSlice(bytes, columns, file) === null) fallbacks++;
  totals.scan += cpuMs() - started;

  // The JSON.parse path, timed step by step on its own dictionary.
  started = cpuMs();
  const text = decoder.decode(bytes);
  totals.decode += cpuMs() - started;
  started = cpuMs();
  const value: unknown = JSON.parse(text);
  totals.json_parse += cpuMs() - started;
  started = cpuMs();
  const slice = validateSlice(value, file);
  totals.validate += cpuMs() - started;
  started = cpuMs();
  feedSlice(slice, new SliceColumns(parsed));
  totals.parsed_columns += cpuMs() - started;

  started = cpuMs();
  writePart(
    workDir,
    {
      format: PART_FORMAT,
      source: input,
      file: basename(file),
      size: bytes.length,
      mtime_ms: 0,
      index,
      tracks_before: scanned.markSize,
      tracks_after: scanned.size,
      min_pid: null,
      max_pid: null,
      synthetic: true,
      counts: columns.counts(),
    },
    columns,
    scanned,
  );
  totals.write_part += cpuMs() - started;
}

console.log(JSON.stringify({
  files: files.length,
  scanner_fallbacks: fallbacks,
  ms_per_slice: Object.fromEntries(
    Object.entries(totals).map(([stage, ms]) => [stage, Math.round((10 * ms) / files.length) / 10]),
  ),
}));
