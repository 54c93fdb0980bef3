/**
 * The ingest_vs_python benchmark: our ingestion of generated MPD slices against reading the same files the
 * way the original study did, with Python's json module into pandas DataFrames (bench/ingest_reference.py,
 * Debian's /usr/bin/python3 and python3-pandas).
 *
 * Every measurement runs in a child process of its own, so each peak memory is its own:
 * - both sides on the same generated slices, alternating, the fastest of `rounds` runs of each counting;
 * - ours on more slices, for the peak memory of a longer run;
 * - ours on indented copies of a few slices, since the MPD's own files are indented JSON;
 * - where the time goes, stage by stage (bench/ingest_stages.ts);
 * - the parts of ingestion that grow with the whole dataset, at the full MPD's size
 *   (bench/ingest_scale_probe.ts), for the projection to 1,000 slices.
 * @module
 */

import pl from "nodejs-polars";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import type { BenchmarkEntry } from "../lib/bench/results.ts";
import { writeSyntheticMpd } from "../lib/mpd/generate.ts";
import { ensurePythonModule, PYTHON } from "./python_reference.ts";

/** Options of {@linkcode ingestVsPython}. */
export interface IngestBenchmarkOptions {
  /** Generated slices of 1,000 playlists that both sides read. Default 20. */
  slices: number;
  /** Generated slices of the longer run that measures our peak memory. Default 50. */
  memorySlices: number;
  /** Slices copied as indented JSON. Default 5. */
  indentedSlices: number;
  /** Timed runs of each side; the fastest counts. Default 3. */
  rounds: number;
  /** Seed of the generator. Default 2018. */
  seed: number;
}

const DEFAULTS: IngestBenchmarkOptions = {
  slices: 20,
  memorySlices: 50,
  indentedSlices: 5,
  rounds: 3,
  seed: 2018,
};

/** Sizes of the full MPD: slice files, playlists, track occurrences and unique tracks. */
const FULL_MPD = { slices: 1000, playlists: 1_000_000, occurrences: 66_346_428, tracks: 2_262_292 };

/** The memory that the projection must stay within. */
const MEMORY_LIMIT_MB = 8 * 1024;

/** The report that bench/ingest_run.ts prints. */
interface OursReport {
  seconds: number;
  cpu_seconds: number;
  write_seconds: number;
  files: number;
  bytes: number;
  playlists: number;
  track_occurrences: number;
  unique_tracks: number;
  peak_rss_mb: number;
  output_mb: number;
}

/** The report that bench/ingest_reference.py prints. */
interface ReferenceReport {
  seconds: number;
  cpu_seconds: number;
  bytes: number;
  playlists: number;
  track_occurrences: number;
  peak_rss_bytes: number;
}

/** The report that bench/ingest_scale_probe.ts prints. */
interface ScaleReport {
  dictionary_and_pids_mb: number;
  base_rss_mb: number;
  write_seconds: number;
  peak_rss_mb: number;
}

/** The report that bench/ingest_stages.ts prints. */
interface StagesReport {
  scanner_fallbacks: number;
  ms_per_slice: Record<string, number>;
}

/** Runs the benchmark and returns its entry. */
export async function ingestVsPython(
  options: Partial<IngestBenchmarkOptions> = {},
): Promise<Omit<BenchmarkEntry, "command" | "machine" | "date">> {
  const settings = { ...DEFAULTS, ...options };
  const versions = await ensurePandas();
  const work = await Deno.makeTempDir({ prefix: "ingest_vs_python_" });
  try {
    // One generated set; the first slices of it are the timed input, hard-linked into their own folder.
    const all = join(work, "mpd_all");
    const total = Math.max(settings.slices, settings.memorySlices);
    await writeSyntheticMpd(all, { playlists: total * 1000, seed: settings.seed });
    const names = [...Deno.readDirSync(all)].map((entry) => entry.name)
      .sort((a, b) => sliceStart(a) - sliceStart(b));
    const timed = join(work, "mpd_timed");
    const memory = join(work, "mpd_memory");
    const indented = join(work, "mpd_indented");
    await linkFirst(all, timed, names, settings.slices);
    await linkFirst(all, memory, names, settings.memorySlices);
    await Deno.mkdir(indented);
    for (const name of names.slice(0, settings.indentedSlices)) {
      const slice = JSON.parse(await Deno.readTextFile(join(all, name)));
      await Deno.writeTextFile(join(indented, name), JSON.stringify(slice, null, 4));
    }
    const timedFiles = names.slice(0, settings.slices).map((name) => join(timed, name));

    const loadBefore = Deno.loadavg()[0];
    let ours: OursReport | undefined;
    let reference: ReferenceReport | undefined;
    for (let round = 0; round < settings.rounds; round++) {
      const oursRun = await runChild<OursReport>(Deno.execPath(), [
        "run",
        "-A",
        script("ingest_run.ts"),
        timed,
        join(work, "out_timed"),
      ]);
      const referenceRun = await runChild<ReferenceReport>(PYTHON, [
        script("ingest_reference.py"),
        ...timedFiles,
      ]);
      if (ours === undefined || oursRun.seconds < ours.seconds) ours = oursRun;
      if (reference === undefined || referenceRun.seconds < reference.seconds) reference = referenceRun;
    }
    if (ours === undefined || reference === undefined) throw new RangeError("rounds must be at least 1");
    const loadAfter = Deno.loadavg()[0];

    const memoryRun = await runChild<OursReport>(Deno.execPath(), [
      "run",
      "-A",
      script("ingest_run.ts"),
      memory,
      join(work, "out_memory"),
    ]);
    const indentedRun = await runChild<OursReport>(Deno.execPath(), [
      "run",
      "-A",
      script("ingest_run.ts"),
      indented,
      join(work, "out_indented"),
    ]);
    const stagesDir = join(work, "stages");
    await Deno.mkdir(stagesDir);
    const stages = await runChild<StagesReport>(Deno.execPath(), [
      "run",
      "-A",
      script("ingest_stages.ts"),
      timed,
      stagesDir,
    ]);

    // The probe fills a dictionary at full size with the field lengths of the generated tracks.
    const lengths = meanTextLengths(join(work, "out_timed", "tracks.parquet"));
    const probeDir = join(work, "probe");
    await Deno.mkdir(probeDir);
    const scale = await runChild<ScaleReport>(Deno.execPath(), [
      "run",
      "-A",
      "--v8-flags=--expose-gc",
      script("ingest_scale_probe.ts"),
      probeDir,
      String(FULL_MPD.tracks),
      String(FULL_MPD.playlists),
      String(FULL_MPD.occurrences),
      String(FULL_MPD.slices),
      JSON.stringify(lengths),
    ]);

    return buildEntry(settings, ours, reference, memoryRun, indentedRun, stages, scale, {
      versions,
      loadBefore,
      loadAfter,
      lengths,
    });
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}

/** Turns the measurements into the benchmark entry, with the projection to the full MPD. */
function buildEntry(
  settings: IngestBenchmarkOptions,
  ours: OursReport,
  reference: ReferenceReport,
  memoryRun: OursReport,
  indentedRun: OursReport,
  stages: StagesReport,
  scale: ScaleReport,
  context: { versions: string; loadBefore: number; loadAfter: number; lengths: Record<string, number> },
): Omit<BenchmarkEntry, "command" | "machine" | "date"> {
  const mb = (bytes: number) => bytes / 1e6;
  const oursPlaylistsPerS = ours.playlists / ours.seconds;
  const referencePlaylistsPerS = reference.playlists / reference.seconds;
  const ratio = oursPlaylistsPerS / referencePlaylistsPerS;
  // On a shared machine wall time depends on the other load; CPU time shows the work itself.
  const cpuRatio = reference.cpu_seconds / ours.cpu_seconds;

  // Reading time per track occurrence, without the final tables; the slower of compact and indented
  // files counts, since the MPD's files are indented.
  const perOccurrence = Math.max(
    (ours.seconds - ours.write_seconds) / ours.track_occurrences,
    (indentedRun.seconds - indentedRun.write_seconds) / indentedRun.track_occurrences,
  );
  const projectedSeconds = perOccurrence * FULL_MPD.occurrences + scale.write_seconds;
  // While reading: a run's peak, plus what the dictionary and pid index add at full size. While writing the
  // tables: the probe's peak, which keeps the full dictionary and writes from 1,000 full-size parts.
  const projectedReadingPeak = memoryRun.peak_rss_mb + scale.dictionary_and_pids_mb;
  const projectedPeak = Math.max(projectedReadingPeak, scale.peak_rss_mb);

  const overlap = ours.cpu_seconds > ours.seconds
    ? "; ours took less wall time than CPU time because a worker reads and scans the next files while " +
      "the main thread adds the current one to the track dictionary and writes its part, and nodejs-polars " +
      "writes the final tables on its own threads"
    : "";
  const stageText = Object.entries(stages.ms_per_slice).map(([stage, ms]) => `${stage} ${ms}`).join(", ");
  return {
    ratio,
    ratio_meaning:
      "playlists/s of our ingestion (JSON slices to Parquet tables) over Python's json + pandas " +
      "reading the same generated slices",
    figures: {
      slices: settings.slices,
      json_mb: round(mb(ours.bytes)),
      playlists: ours.playlists,
      track_occurrences: ours.track_occurrences,
      ours_seconds: round(ours.seconds),
      ours_cpu_seconds: round(ours.cpu_seconds),
      ours_mb_per_s: round(mb(ours.bytes) / ours.seconds),
      ours_playlists_per_s: round(oursPlaylistsPerS),
      ours_peak_rss_mb: round(ours.peak_rss_mb),
      ours_write_tables_seconds: round(ours.write_seconds),
      ours_output_mb: round(ours.output_mb),
      python_seconds: round(reference.seconds),
      python_cpu_seconds: round(reference.cpu_seconds),
      cpu_time_ratio: round(cpuRatio),
      python_mb_per_s: round(mb(reference.bytes) / reference.seconds),
      python_playlists_per_s: round(referencePlaylistsPerS),
      python_peak_rss_mb: round(reference.peak_rss_bytes / 2 ** 20),
      python_versions: context.versions,
      memory_run_slices: memoryRun.files,
      memory_run_seconds: round(memoryRun.seconds),
      memory_run_peak_rss_mb: round(memoryRun.peak_rss_mb),
      memory_run_unique_tracks: memoryRun.unique_tracks,
      indented_slices: indentedRun.files,
      indented_mb_per_s: round(mb(indentedRun.bytes) / indentedRun.seconds),
      indented_playlists_per_s: round(indentedRun.playlists / indentedRun.seconds),
      stage_ms_per_slice: stageText,
      scanner_fallbacks: stages.scanner_fallbacks,
      full_mpd_dictionary_and_pids_mb: round(scale.dictionary_and_pids_mb),
      full_mpd_write_tables_seconds: round(scale.write_seconds),
      full_mpd_write_tables_peak_rss_mb: round(scale.peak_rss_mb),
      projected_full_mpd_seconds: round(projectedSeconds),
      projected_full_mpd_peak_rss_mb: round(projectedPeak),
      projected_within_8_gib: projectedPeak <= MEMORY_LIMIT_MB,
      load_average_1m_before: round(context.loadBefore),
      load_average_1m_after: round(context.loadAfter),
    },
    notes: `Fastest of ${settings.rounds} alternating runs per side on ${settings.slices} generated slices ` +
      `(${round(mb(ours.bytes))} MB of compact JSON): ours ${round(ours.seconds)} s, Python ` +
      `${round(reference.seconds)} s, ${round(ratio)}x; the goal is 5x. In CPU time (all threads) ours ` +
      `${round(ours.cpu_seconds)} s, Python ${round(reference.cpu_seconds)} s, ${
        round(cpuRatio)
      }x${overlap}. Python's side only builds two ` +
      `DataFrames in memory, ours also validates every field, numbers tracks and writes Parquet. ` +
      `Ours in ms of CPU per slice: ${stageText}. scan_only is the byte scanner alone; scan adds the ` +
      `columns and the track dictionary (a hash lookup of every track URI's bytes, and a copy of a new ` +
      `track's metadata bytes), so the dictionary costs scan minus scan_only. The scanner replaces ` +
      `decode, json_parse, validate and parsed_columns, which only the files it does not handle take. ` +
      `Peak memory: ours ${round(ours.peak_rss_mb)} MiB on ${settings.slices} slices and ` +
      `${round(memoryRun.peak_rss_mb)} MiB on ${memoryRun.files}; Python ` +
      `${round(reference.peak_rss_bytes / 2 ** 20)} MiB on ${settings.slices}. Full-MPD projection ` +
      `(${FULL_MPD.slices} slices, ${FULL_MPD.occurrences} track occurrences, ${FULL_MPD.tracks} unique ` +
      `tracks): ${round(projectedSeconds / 60)} min and ${
        round(projectedPeak)
      } MiB, from the slower of the ` +
      `compact and indented reading rates per occurrence, plus the measured full-size dictionary ` +
      `(${round(scale.dictionary_and_pids_mb)} MiB with the pid index, text field lengths ` +
      `${
        JSON.stringify(context.lengths)
      }) and the measured writing of the tables from 1,000 full-size parts ` +
      `(${round(scale.write_seconds)} s, peak ${
        round(scale.peak_rss_mb)
      } MiB). It assumes that lookups in a ` +
      `full-size dictionary cost what they cost here. The machine is shared: load average ` +
      `${round(context.loadBefore)} before, ${round(context.loadAfter)} after.`,
  };
}

/** Installs python3-pandas when the reference interpreter lacks it, and returns the versions in use. */
async function ensurePandas(): Promise<string> {
  await ensurePythonModule("pandas", "python3-pandas");
  const probe = await new Deno.Command(PYTHON, {
    args: ["-c", "import sys, pandas; print(sys.version.split()[0], pandas.__version__)"],
    stdout: "piped",
    stderr: "null",
  }).output();
  const [python, pandas] = new TextDecoder().decode(probe.stdout).trim().split(" ");
  return `Python ${python}, pandas ${pandas}`;
}

/** Runs a child that prints one JSON report as its last line of output, and returns the report. */
async function runChild<T>(command: string, args: string[]): Promise<T> {
  const output = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" }).output();
  if (!output.success) {
    const stderr = new TextDecoder().decode(output.stderr).trim().split("\n").slice(-5).join(" | ");
    throw new Error(
      `Running ${command} ${args.join(" ").slice(0, 200)} failed (exit code ${output.code}): ${stderr}`,
    );
  }
  const lines = new TextDecoder().decode(output.stdout).trim().split("\n");
  return JSON.parse(lines[lines.length - 1]) as T;
}

/** Hard-links the first `count` slice files of `from` into a new folder `to`, so they are not copied. */
async function linkFirst(from: string, to: string, names: string[], count: number): Promise<void> {
  await Deno.mkdir(to);
  for (const name of names.slice(0, count)) await Deno.link(join(from, name), join(to, name));
}

/** Returns the mean length of each text field of a tracks table, in characters. */
function meanTextLengths(path: string): Record<string, number> {
  const tracks = pl.readParquet(path);
  const lengths: Record<string, number> = {};
  for (const field of ["track_name", "artist_uri", "artist_name", "album_uri", "album_name"]) {
    const values = tracks.getColumn(field).toArray() as (string | null)[];
    const present = values.filter((value): value is string => value !== null);
    lengths[field] = round(
      present.reduce((sum, value) => sum + value.length, 0) / Math.max(1, present.length),
    );
  }
  return lengths;
}

function sliceStart(name: string): number {
  return Number(/^mpd\.slice\.(\d+)-/.exec(name)?.[1] ?? 0);
}

function script(name: string): string {
  return fileURLToPath(new URL(`./${name}`, import.meta.url));
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
