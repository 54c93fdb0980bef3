/**
 * Training speed and memory of Track2Seq with the sampled softmax, with its tables in the wasm heap or in
 * host memory: the measured side of the train_700k benchmark. It runs in its own process, so its peak
 * memory is its own.
 *
 * It trains on a synthetic Zipf-distributed token stream, then, when asked, measures the full-softmax loss
 * of a short held-out stream (sliced over the vocabulary with host tables) and predicts playlists with
 * guided prediction. It prints one JSON object: tokens per second over the timed steps, the peak of
 * `Deno.memoryUsage().rss` sampled after every step and phase, the kernel's peak resident memory (VmHWM),
 * the wasm heap size, and the seconds of each phase.
 *
 * Usage: deno run -A bench/train_tables.ts --vocab 700000 --tables host [--steps 300] [--warmup 5]
 *        [--batch 32] [--window 50] [--negatives 1000] [--dev-streams 0] [--predict 0] [--seed 1]
 */

import { parseArgs } from "node:util";
import { selectBackend } from "../lib/model/backend.ts";
import { evaluateLoss, trainTrack2Seq } from "../lib/model/train.ts";
import { predictGuided } from "../lib/predict/guided.ts";
import { createRandom } from "../lib/util/random.ts";
import { peakResidentMiB, wasmHeapMiB, zipfStream } from "./train_measure.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    vocab: { type: "string" },
    tables: { type: "string", default: "host" },
    steps: { type: "string", default: "300" },
    warmup: { type: "string", default: "5" },
    batch: { type: "string", default: "32" },
    window: { type: "string", default: "50" },
    negatives: { type: "string", default: "1000" },
    "dev-streams": { type: "string", default: "0" },
    predict: { type: "string", default: "0" },
    seed: { type: "string", default: "1" },
  },
});
const vocab = Number(values.vocab);
const tables = values.tables;
if (!Number.isInteger(vocab) || vocab < 3 || (tables !== "heap" && tables !== "host")) {
  console.error("Invalid arguments: use --vocab N (at least 3) and --tables heap|host.");
  Deno.exit(2);
}
const [steps, warmup, batch, window, negatives, devStreams, predictPlaylists, seed] = [
  values.steps,
  values.warmup,
  values.batch,
  values.window,
  values.negatives,
  values["dev-streams"],
  values.predict,
  values.seed,
].map(Number);

let peakRss = Deno.memoryUsage().rss;
const sampleRss = () => peakRss = Math.max(peakRss, Deno.memoryUsage().rss);

const backend = await selectBackend("wasm");
const totalSteps = warmup + steps;
const tokens = zipfStream(vocab, batch * window * totalSteps + 1, seed);

const started = performance.now();
let timedFrom = 0;
let timedTo = 0;
const result = await trainTrack2Seq(tokens, vocab, {
  batchSize: batch,
  window,
  softmax: "sampled",
  sampledNegatives: negatives,
  tables,
  seed,
  maxSteps: totalSteps,
}, ({ step }) => {
  sampleRss();
  if (step === warmup) timedFrom = performance.now();
  if (step === totalSteps) timedTo = performance.now();
});
const trainingSeconds = (performance.now() - started) / 1000;
const seconds = (timedTo - timedFrom) / 1000;
const peakRssTraining = peakRss;

// Adam's moments start as zero pages that the system maps only when written, so after a few hundred steps
// only the rows seen so far are resident. Writing one value per page, unchanged, maps them all, as a run
// that has seen the whole vocabulary would.
let momentBytes = 0;
const moments = result.tableOptimizer?.moments;
if (moments) {
  for (const { m, v } of [moments.embedding, moments.outputKernel, moments.outputBias]) {
    for (const array of [m, v]) {
      momentBytes += array.byteLength;
      for (let i = 0; i < array.length; i += 1024) array[i] += 0;
    }
  }
}
sampleRss();
const rssAllRows = Deno.memoryUsage().rss;
const host = result.model.host;
const tableBytes = host
  ? host.embedding.byteLength + host.outputKernel.byteLength + host.outputBias.byteLength
  : 0;

// The full-softmax loss of a held-out stream of one window per stream, as dev evaluation computes it.
let devLoss = -1;
let devSeconds = 0;
if (devStreams > 0) {
  const devStarted = performance.now();
  const dev = zipfStream(vocab, devStreams * window + 1, seed + 1);
  devLoss = (await evaluateLoss(result.model, dev, { batchSize: devStreams, window })).loss;
  devSeconds = (performance.now() - devStarted) / 1000;
  sampleRss();
}

// Guided prediction of playlists with 5 seeds each, 20 steps after the seeds, in one batch.
let predictSeconds = 0;
let predicted = 0;
if (predictPlaylists > 0) {
  const random = createRandom(seed + 2);
  const seeds = Array.from(
    { length: predictPlaylists },
    () => Int32Array.from({ length: 5 }, () => 2 + Math.floor(random() * (vocab - 2))),
  );
  const predictStarted = performance.now();
  const recommendations = await predictGuided(result.model, seeds, {
    steps: 20,
    topK: 100,
    count: 100,
    batchSize: predictPlaylists,
  });
  predictSeconds = (performance.now() - predictStarted) / 1000;
  predicted = recommendations.filter(({ tokens }) => tokens.length === 100).length;
  sampleRss();
}

console.log(JSON.stringify({
  tables,
  vocab,
  backend,
  tokens_per_s: (steps * batch * window) / seconds,
  timed_steps: steps,
  seconds,
  training_seconds: trainingSeconds,
  first_loss: result.history[0].loss,
  final_loss: result.history.at(-1)?.loss,
  dev_loss: devLoss,
  dev_seconds: devSeconds,
  dev_tokens: devStreams * window,
  predicted_playlists: predicted,
  predict_seconds: predictSeconds,
  peak_rss_sampled_mb: peakRss / 2 ** 20,
  peak_rss_training_sampled_mb: peakRssTraining / 2 ** 20,
  rss_all_rows_mb: rssAllRows / 2 ** 20,
  host_table_mb: tableBytes / 2 ** 20,
  host_moment_mb: momentBytes / 2 ** 20,
  peak_rss_mb: await peakResidentMiB(),
  wasm_heap_mb: wasmHeapMiB(),
}));
