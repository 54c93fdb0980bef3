/**
 * The benchmark record `bench/results.json`: one entry per benchmark, keyed by name.
 * @module
 */

import { readJsonIfExists, writeJsonAtomic } from "../pipeline/artifacts.ts";

/** One benchmark's latest result. */
export interface BenchmarkEntry {
  /** Ours over the reference; higher is better. */
  ratio: number;
  /** The quantity the ratio compares, such as "playlists/s of ours over Python's json + pandas". */
  ratio_meaning: string;
  /** Raw measurements, with units in the key names (for example `ours_mb_per_s`). */
  figures: Record<string, number | string | boolean>;
  /** The command that produced the entry. */
  command: string;
  /** The machine: CPU model, cores, memory, operating system. */
  machine: string;
  /** ISO 8601 date and time of the run. */
  date: string;
  /** Anything a reader needs to interpret the numbers, such as where the time goes. */
  notes?: string;
}

/** Describes this machine in one line: CPU model, logical cores, memory and OS. */
export async function describeMachine(): Promise<string> {
  let cpu = "unknown CPU";
  try {
    const info = await Deno.readTextFile("/proc/cpuinfo");
    cpu = info.match(/^model name\s*:\s*(.+)$/m)?.[1]?.trim() ?? cpu;
  } catch {
    // Not Linux: keep the placeholder.
  }
  const memoryGiB = Deno.systemMemoryInfo().total / 2 ** 30;
  return `${cpu}, ${navigator.hardwareConcurrency} logical cores, ${memoryGiB.toFixed(0)} GiB, ` +
    `${Deno.build.os} ${Deno.osRelease()}`;
}

/** Adds or replaces the entry `name` in the benchmark record at `path`, keeping the others. */
export async function recordBenchmark(path: string, name: string, entry: BenchmarkEntry): Promise<void> {
  const record = await readJsonIfExists<Record<string, BenchmarkEntry>>(path) ?? {};
  record[name] = entry;
  const sorted = Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
  await writeJsonAtomic(path, sorted);
}
