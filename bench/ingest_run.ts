/**
 * Our side of the ingest_vs_python benchmark: ingests a folder of slice files in its own process, so its
 * peak memory is its own.
 *
 * Usage: deno run -A bench/ingest_run.ts INPUT OUT
 * Prints one JSON object: seconds (ingestMpd from call to return), cpu_seconds (user and system time of
 * all threads over the same span), write_seconds (the final tables), files, bytes, playlists,
 * track_occurrences, unique_tracks, peak_rss_mb, output_mb.
 * @module
 */

import process from "node:process";
import { join } from "node:path";
import { ingestMpd } from "../lib/data/ingest.ts";
import { listSliceFiles } from "../lib/mpd/read.ts";

const [input, out] = Deno.args;
if (input === undefined || out === undefined) {
  console.error("Usage: deno run -A bench/ingest_run.ts INPUT OUT");
  Deno.exit(2);
}

const files = await listSliceFiles(input);
let bytes = 0;
for (const file of files) bytes += (await Deno.stat(file)).size;
await Deno.remove(out, { recursive: true }).catch(() => {});

const cpuStarted = process.cpuUsage();
const started = performance.now();
let writeStarted = 0;
const report = await ingestMpd(input, out, {
  onProgress: (progress) => {
    if (progress.stage === "write") writeStarted = performance.now();
  },
});
const finished = performance.now();
const cpu = process.cpuUsage(cpuStarted);

console.log(JSON.stringify({
  seconds: (finished - started) / 1000,
  cpu_seconds: (cpu.user + cpu.system) / 1e6,
  write_seconds: (finished - writeStarted) / 1000,
  files: files.length,
  bytes,
  playlists: report.playlists,
  track_occurrences: report.track_occurrences,
  unique_tracks: report.unique_tracks,
  peak_rss_mb: await peakResidentMiB(),
  output_mb: await folderMiB(out),
}));

/** Returns the process's peak resident memory in MiB (VmHWM of /proc/self/status), or -1 off Linux. */
async function peakResidentMiB(): Promise<number> {
  try {
    const status = await Deno.readTextFile("/proc/self/status");
    return Number(status.match(/^VmHWM:\s+(\d+) kB/m)?.[1]) / 1024;
  } catch {
    return -1;
  }
}

/** Returns the size of the files in a folder tree, in MiB. */
async function folderMiB(dir: string): Promise<number> {
  let total = 0;
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    total += entry.isDirectory ? await folderMiB(path) * 2 ** 20 : (await Deno.stat(path)).size;
  }
  return total / 2 ** 20;
}
