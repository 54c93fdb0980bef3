/**
 * The train_vs_pytorch benchmarks: training tokens per second of our Track2Seq network on the wasm backend
 * against the same network in PyTorch 1.13 (Debian's python3-torch) on the same CPU.
 *
 * Both sides run as child processes (bench/train_tfjs.ts and bench/train_pytorch.py) with the same batch
 * shape, 32 streams of 50 tokens, so each one's peak memory is its own.
 * @module
 */

import { fileURLToPath } from "node:url";
import type { BenchmarkEntry } from "../lib/bench/results.ts";
import { ensurePythonModule, PYTHON } from "./python_reference.ts";

/** The configuration of one benchmark. */
export interface TrainBenchmarkConfig {
  vocab: number;
  softmax: "full" | "sampled";
  /** Negatives per step of the sampled softmax. Default 1000. */
  negatives?: number;
  /** Untimed steps before the timed ones. Default 2. */
  warmup?: number;
  /** Timed steps. Default 10. */
  steps?: number;
}

const BATCH = 32;
const WINDOW = 50;

/** The measurements that both child processes print, with figures of their own besides. */
type ChildReport = Record<string, number | string> & { tokens_per_s: number; peak_rss_mb: number };

/** A child's report, or why there is none. */
type ChildResult = { report: ChildReport } | { error: string };

/** Runs one train_vs_pytorch benchmark and returns its entry. */
export async function trainVsPytorch(
  config: TrainBenchmarkConfig,
): Promise<Omit<BenchmarkEntry, "command" | "machine" | "date">> {
  const negatives = config.negatives ?? 1000;
  const args = [
    "--vocab",
    String(config.vocab),
    "--softmax",
    config.softmax,
    "--negatives",
    String(negatives),
    "--batch",
    String(BATCH),
    "--window",
    String(WINDOW),
    "--warmup",
    String(config.warmup ?? 2),
    "--steps",
    String(config.steps ?? 10),
  ];
  await ensurePythonModule("torch", "python3-torch");
  const loadBefore = Deno.loadavg()[0];

  const oursResult = await runChild(Deno.execPath(), ["run", "-A", script("train_tfjs.ts"), ...args]);
  // The sampled softmax also runs with host tables, the storage meant for large vocabularies.
  const hostResult = config.softmax === "sampled"
    ? await runChild(Deno.execPath(), ["run", "-A", script("train_tfjs.ts"), ...args, "--tables", "host"])
    : undefined;
  const referenceResult = await runChild(PYTHON, [script("train_pytorch.py"), ...args]);
  if ("error" in referenceResult) {
    throw new Error(`Running the PyTorch reference failed: ${referenceResult.error}`);
  }
  const reference = referenceResult.report;

  const loss = config.softmax === "full" ? "full softmax" : `sampled softmax, ${negatives} negatives`;
  const figures: BenchmarkEntry["figures"] = {
    vocab: config.vocab,
    softmax: config.softmax,
    batch: BATCH,
    window: WINDOW,
    pytorch_tokens_per_s: round(reference.tokens_per_s),
    pytorch_peak_rss_mb: round(reference.peak_rss_mb),
    pytorch_threads: Number(reference.threads),
    pytorch_version: String(reference.torch),
    load_average_1m_before: round(loadBefore),
    load_average_1m_after: round(Deno.loadavg()[0]),
  };

  if ("error" in oursResult) {
    return {
      ratio: 0,
      ratio_meaning: `training tokens/s of ours (TF.js wasm) over PyTorch 1.13, ${loss}, V=${config.vocab}`,
      figures: { ...figures, ours_error: oursResult.error },
      notes:
        `Our training failed at V=${config.vocab} (${oursResult.error}), so the ratio is 0. The wasm heap is ` +
        `capped at 4 GiB and never shrinks; PyTorch peaked at ${round(reference.peak_rss_mb)} MiB.`,
    };
  }

  const ours = oursResult.report;
  const ratio = ours.tokens_per_s / reference.tokens_per_s;
  const host = hostResult === undefined
    ? undefined
    : "error" in hostResult
    ? hostResult.error
    : hostResult.report;
  const hostFigures: BenchmarkEntry["figures"] = host === undefined
    ? {}
    : typeof host === "string"
    ? { ours_host_tables_error: host }
    : {
      ours_host_tables_tokens_per_s: round(host.tokens_per_s),
      ours_host_tables_ratio: round(host.tokens_per_s / reference.tokens_per_s),
      ours_host_tables_peak_rss_mb: round(host.peak_rss_mb),
    };
  const hostNote = host === undefined
    ? ""
    : typeof host === "string"
    ? ` With host tables our training failed: ${host}.`
    : ` With host tables (tables: "host", lazy Adam on the rows a step reads, where PyTorch's Adam updates ` +
      `every row) ours ran at ${round(host.tokens_per_s)} tokens/s, ` +
      `${round(host.tokens_per_s / reference.tokens_per_s)}x PyTorch, peaking at ${
        round(host.peak_rss_mb)
      } MiB.`;
  return {
    ratio,
    ratio_meaning: `training tokens/s of ours (TF.js wasm, tables in the wasm heap) over PyTorch 1.13, ` +
      `${loss}, V=${config.vocab}`,
    figures: {
      ...figures,
      ...hostFigures,
      ours_tokens_per_s: round(ours.tokens_per_s),
      ours_peak_rss_mb: round(ours.peak_rss_mb),
      ours_wasm_heap_mb: round(Number(ours.wasm_heap_mb)),
      ours_profiled_step_s: round(Number(ours.profiled_step_s)),
      ours_profiled_kernels_s: round(Number(ours.profiled_kernels_s)),
      ours_profiled_kernel_count: Number(ours.profiled_kernel_count),
      ours_top_kernels: String(ours.top_kernels),
    },
    notes:
      `Ours reaches ${(100 * ratio).toFixed(0)}% of PyTorch's speed, ${
        ratio >= 1 ? "at or above" : `${(1 / ratio).toFixed(1)}x below`
      } parity, both on one thread (the wasm backend has no threads under Deno; PyTorch's OpenMP chose ` +
      `${reference.threads}). In one extra step under tf.profile, ${round(Number(ours.profiled_step_s))} s ` +
      `in all, ` +
      `${ours.profiled_kernel_count} kernels took ${
        round(Number(ours.profiled_kernels_s))
      } s; the largest: ` +
      `${ours.top_kernels}. Peak memory: ours ${round(ours.peak_rss_mb)} MiB (wasm heap ` +
      `${round(Number(ours.wasm_heap_mb))} MiB), PyTorch ${round(reference.peak_rss_mb)} MiB.${hostNote}`,
  };
}

/** Runs a child that prints one JSON report as its last line; returns the report or the error output. */
async function runChild(command: string, args: string[]): Promise<ChildResult> {
  const output = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" }).output();
  const lines = new TextDecoder().decode(output.stdout).trim().split("\n");
  if (!output.success) {
    const stderr = new TextDecoder().decode(output.stderr).trim().split("\n");
    return { error: `exit code ${output.code}: ${stderr.slice(-3).join(" | ")}` };
  }
  return { report: JSON.parse(lines[lines.length - 1]) as ChildReport };
}

function script(name: string): string {
  return fileURLToPath(new URL(`./${name}`, import.meta.url));
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
