/**
 * The train_700k benchmark: Track2Seq training at 700,000 tracks with the embedding and output tables in
 * host memory (tables `host`), against the in-heap tables at 200,000 tracks in the same run. At 200,000
 * tracks the in-heap tables already fill about 3.6 GiB of the 4 GiB wasm heap.
 *
 * Each configuration runs in its own child process (bench/train_tables.ts), so each one's peak memory is its
 * own: sampled softmax with 1,000 negatives, 32 streams of 50 tokens, a synthetic Zipf-distributed stream.
 * The 700,000-track run also measures the sliced full-softmax loss of a short held-out stream and guided
 * prediction of a batch of playlists, which shows both work at that size. A third run, host tables at
 * 200,000 tracks, separates the cost of the larger vocabulary from the cost of host tables.
 * @module
 */

import { fileURLToPath } from "node:url";
import type { BenchmarkEntry } from "../lib/bench/results.ts";
import { hostBytesPerTrack } from "../lib/model/host_tables.ts";

/** The configuration of the benchmark. */
export interface Train700kConfig {
  /** Timed steps at 700,000 tracks. Default 300. */
  steps?: number;
  /** Timed steps of each run at 200,000 tracks. Default 60. */
  referenceSteps?: number;
}

/** The report the child prints, as bench/train_tables.ts writes it. */
type ChildReport = Record<string, number | string>;

const LARGE_VOCAB = 700_000;
const REFERENCE_VOCAB = 200_000;
const PREDICTED_PLAYLISTS = 16;
const DEV_STREAMS = 4;

/** Runs the benchmark and returns its entry. */
export async function train700k(
  config: Train700kConfig = {},
): Promise<Omit<BenchmarkEntry, "command" | "machine" | "date">> {
  const steps = config.steps ?? 300;
  const referenceSteps = config.referenceSteps ?? 60;
  const loadBefore = Deno.loadavg()[0];

  const large = await runChild([
    "--vocab",
    String(LARGE_VOCAB),
    "--tables",
    "host",
    "--steps",
    String(steps),
    "--warmup",
    "5",
    "--dev-streams",
    String(DEV_STREAMS),
    "--predict",
    String(PREDICTED_PLAYLISTS),
  ]);
  const heap = await runChild(referenceArgs("heap", referenceSteps));
  const host = await runChild(referenceArgs("host", referenceSteps));

  const bytes = hostBytesPerTrack({ embeddingSize: 128, hiddenUnits: 128 });
  const ratio = Number(large.tokens_per_s) / Number(heap.tokens_per_s);
  const predictStepsPerPlaylist = 5 + 20;
  const figures: BenchmarkEntry["figures"] = {
    vocab: LARGE_VOCAB,
    reference_vocab: REFERENCE_VOCAB,
    softmax: "sampled",
    negatives: 1000,
    batch: 32,
    window: 50,
    host_700k_timed_steps: steps,
    host_700k_tokens_per_s: round(Number(large.tokens_per_s)),
    host_700k_first_loss: round(Number(large.first_loss)),
    host_700k_final_loss: round(Number(large.final_loss)),
    host_700k_peak_rss_mb: round(Number(large.peak_rss_mb)),
    host_700k_peak_rss_sampled_mb: round(Number(large.peak_rss_sampled_mb)),
    host_700k_peak_rss_training_sampled_mb: round(Number(large.peak_rss_training_sampled_mb)),
    host_700k_rss_all_rows_mb: round(Number(large.rss_all_rows_mb)),
    host_700k_table_mb: round(Number(large.host_table_mb)),
    host_700k_moment_mb: round(Number(large.host_moment_mb)),
    host_700k_wasm_heap_mb: round(Number(large.wasm_heap_mb)),
    host_700k_dev_loss: round(Number(large.dev_loss)),
    host_700k_dev_tokens: Number(large.dev_tokens),
    host_700k_dev_seconds: round(Number(large.dev_seconds)),
    host_700k_predicted_playlists: Number(large.predicted_playlists),
    host_700k_predict_seconds: round(Number(large.predict_seconds)),
    host_700k_predict_steps_per_s: round(
      predictStepsPerPlaylist / Number(large.predict_seconds),
    ),
    heap_200k_timed_steps: referenceSteps,
    heap_200k_tokens_per_s: round(Number(heap.tokens_per_s)),
    heap_200k_peak_rss_mb: round(Number(heap.peak_rss_mb)),
    heap_200k_wasm_heap_mb: round(Number(heap.wasm_heap_mb)),
    host_200k_timed_steps: referenceSteps,
    host_200k_tokens_per_s: round(Number(host.tokens_per_s)),
    host_200k_peak_rss_mb: round(Number(host.peak_rss_mb)),
    host_200k_wasm_heap_mb: round(Number(host.wasm_heap_mb)),
    bytes_per_track_tables: bytes.tables,
    bytes_per_track_training: bytes.training,
    gb_per_million_tracks_training: round(bytes.training * 1e6 / 1e9),
    load_average_1m_before: round(loadBefore),
    load_average_1m_after: round(Deno.loadavg()[0]),
  };

  const gib = (mb: number) => (mb / 1024).toFixed(2);
  return {
    ratio,
    ratio_meaning: `training tokens/s with host tables at V=${LARGE_VOCAB} over in-heap tables at ` +
      `V=${REFERENCE_VOCAB}, both TF.js wasm, sampled softmax with 1000 negatives, batch 32 x 50, same run`,
    figures,
    notes: `Host tables train at ${round(Number(large.tokens_per_s))} tokens/s at V=${LARGE_VOCAB} and ` +
      `${round(Number(host.tokens_per_s))} at V=${REFERENCE_VOCAB}; in-heap tables at V=${REFERENCE_VOCAB} ` +
      `reach ${round(Number(heap.tokens_per_s))} with a ${gib(Number(heap.wasm_heap_mb))} GiB wasm heap, ` +
      `near its 4 GiB cap. With host tables, each step uploads only the rows its batch reads and updates ` +
      `them with lazy Adam, so there is no dense [128, V] gradient and the wasm heap stays at ` +
      `${gib(Number(large.wasm_heap_mb))} GiB at V=${LARGE_VOCAB}, dev evaluation and prediction included. ` +
      `Memory: ${bytes.training} bytes per track for the tables and their Adam moments ` +
      `(${bytes.tables} for the tables), ${round(bytes.training * 1e6 / 1e9)} GB per million tracks. At ` +
      `V=${LARGE_VOCAB} that is ${gib(Number(large.host_table_mb) + Number(large.host_moment_mb))} GiB; ` +
      `the peak resident memory was ${gib(Number(large.peak_rss_mb))} GiB (VmHWM), of a 24 GiB machine. ` +
      `After ${steps + 5} steps only the moments of rows seen so far are resident ` +
      `(${gib(Number(large.peak_rss_training_sampled_mb))} GiB sampled during training); writing one value ` +
      `per page of every moment, as a run over the whole vocabulary would, brought the resident memory to ` +
      `${gib(Number(large.rss_all_rows_mb))} GiB. Dev loss with the full softmax, sliced over the ` +
      `vocabulary: ${large.dev_tokens} tokens in ${round(Number(large.dev_seconds))} s. Guided prediction ` +
      `of ${PREDICTED_PLAYLISTS} playlists (5 seeds, 20 steps, top 100) took ` +
      `${
        round(Number(large.predict_seconds))
      } s, slice uploads included. The runs shared 2 cores with other ` +
      `jobs (load average ${round(loadBefore)} before, ${round(Deno.loadavg()[0])} after), so the absolute ` +
      `figures and the ratio are rough.`,
  };
}

function referenceArgs(tables: "heap" | "host", steps: number): string[] {
  return ["--vocab", String(REFERENCE_VOCAB), "--tables", tables, "--steps", String(steps), "--warmup", "3"];
}

/** Runs bench/train_tables.ts with `args` and returns its JSON report. */
async function runChild(args: string[]): Promise<ChildReport> {
  const script = fileURLToPath(new URL("./train_tables.ts", import.meta.url));
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    const stderr = new TextDecoder().decode(output.stderr).trim().split("\n").slice(-3).join(" | ");
    throw new Error(
      `Running bench/train_tables.ts ${args.join(" ")} failed with exit code ${output.code}: ${stderr}`,
    );
  }
  const lines = new TextDecoder().decode(output.stdout).trim().split("\n");
  return JSON.parse(lines[lines.length - 1]) as ChildReport;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
