/**
 * Training speed of our Track2Seq network (lib/model) on one TensorFlow.js backend, the measured side of the
 * train_vs_pytorch benchmarks. It runs in its own process, so its peak memory is its own.
 *
 * Prints one JSON object: tokens per second over the timed steps, peak resident memory, the wasm heap size,
 * and the kernels that took the most time in one extra profiled step.
 *
 * Usage: deno run -A bench/train_tfjs.ts --vocab 20000 --softmax full [--batch 32] [--window 50]
 *        [--warmup 2] [--steps 10] [--negatives 1000] [--seed 1] [--backend wasm] [--tables heap|host]
 */

import * as tf from "@tensorflow/tfjs";
import { parseArgs } from "node:util";
import { type BackendName, selectBackend } from "../lib/model/backend.ts";
import { trainTrack2Seq } from "../lib/model/train.ts";
import { peakResidentMiB, wasmHeapMiB, zipfStream } from "./train_measure.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    vocab: { type: "string" },
    softmax: { type: "string" },
    negatives: { type: "string", default: "1000" },
    batch: { type: "string", default: "32" },
    window: { type: "string", default: "50" },
    warmup: { type: "string", default: "2" },
    steps: { type: "string", default: "10" },
    seed: { type: "string", default: "1" },
    backend: { type: "string", default: "wasm" },
    tables: { type: "string", default: "heap" },
  },
});
const vocab = Number(values.vocab);
const softmax = values.softmax;
if (!Number.isInteger(vocab) || vocab < 3 || (softmax !== "full" && softmax !== "sampled")) {
  console.error("Invalid arguments: use --vocab N (at least 3) and --softmax full|sampled.");
  Deno.exit(2);
}
const tables = values.tables;
if (tables !== "heap" && tables !== "host") {
  console.error(`Invalid --tables "${tables}": use heap or host.`);
  Deno.exit(2);
}
const batch = Number(values.batch);
const window = Number(values.window);
const warmup = Number(values.warmup);
const steps = Number(values.steps);

const backend = await selectBackend(values.backend as BackendName);
const totalSteps = warmup + steps;
const tokens = zipfStream(vocab, batch * window * totalSteps + 1, Number(values.seed));

let timedFrom = 0;
let timedTo = 0;
const result = await trainTrack2Seq(tokens, vocab, {
  batchSize: batch,
  window,
  softmax,
  sampledNegatives: Number(values.negatives),
  seed: Number(values.seed),
  epochs: 2,
  maxSteps: totalSteps,
  tables,
}, ({ step }) => {
  if (step === warmup) timedFrom = performance.now();
  if (step === totalSteps) timedTo = performance.now();
});
const seconds = (timedTo - timedFrom) / 1000;

// One more step under the profiler, to see which kernels the time goes to.
const stepStarted = performance.now();
const profile = await tf.profile(async () => {
  await trainTrack2Seq(tokens, vocab, {
    batchSize: batch,
    window,
    softmax,
    sampledNegatives: Number(values.negatives),
    epochs: 2,
    maxSteps: totalSteps + 1,
    resumeFrom: result,
    tables,
  });
});
const profiledSeconds = (performance.now() - stepStarted) / 1000;

// The profile also lists scopes (custom gradients, op wrappers) that only group kernels; counting only
// registered kernels counts no time twice.
const kernelNames = new Set(tf.getKernelsForBackend(tf.getBackend()).map((config) => config.kernelName));
const byKernel = new Map<string, number>();
let kernelCount = 0;
for (const kernel of profile.kernels) {
  if (!kernelNames.has(kernel.name)) continue;
  kernelCount++;
  const ms = typeof kernel.kernelTimeMs === "number" ? kernel.kernelTimeMs : 0;
  byKernel.set(kernel.name, (byKernel.get(kernel.name) ?? 0) + ms);
}
const kernelMs = [...byKernel.values()].reduce((sum, ms) => sum + ms, 0);
const topKernels = [...byKernel.entries()].sort((a, b) => b[1] - a[1]).slice(0, 6)
  .map(([name, ms]) => `${name} ${(ms / 1000).toFixed(2)} s`);

console.log(JSON.stringify({
  tokens_per_s: (steps * batch * window) / seconds,
  seconds,
  final_loss: result.history.at(-1)?.loss,
  peak_rss_mb: await peakResidentMiB(),
  wasm_heap_mb: wasmHeapMiB(),
  backend,
  tables,
  profiled_step_s: profiledSeconds,
  profiled_kernels_s: kernelMs / 1000,
  profiled_kernel_count: kernelCount,
  top_kernels: topKernels.join(", "),
}));
