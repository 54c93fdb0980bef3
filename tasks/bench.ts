/**
 * Runs the project's benchmarks and records each result in bench/results.json.
 *
 * Usage: deno task bench [NAME ...]   (no name: every benchmark)
 */

import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { log } from "../lib/cli/progress.ts";
import { type BenchmarkEntry, describeMachine, recordBenchmark } from "../lib/bench/results.ts";

/** A benchmark: measures and returns its entry without `command`, `machine` and `date`. */
type Benchmark = () => Promise<Omit<BenchmarkEntry, "command" | "machine" | "date">>;

/** Every benchmark by name. Each lives in its own module under bench/ and is loaded only when run. */
const BENCHMARKS: Record<string, () => Promise<Benchmark>> = {
  als: async () => {
    const { als } = await import("../bench/als.ts");
    return () => als();
  },
  ingest_vs_python: async () => {
    const { ingestVsPython } = await import("../bench/ingest_vs_python.ts");
    return () => ingestVsPython();
  },
  predict_batched_vs_single: async () => {
    const { predictBatchedVsSingle } = await import("../bench/predict_batched_vs_single.ts");
    return () => predictBatchedVsSingle();
  },
  train_700k: async () => {
    const { train700k } = await import("../bench/train_700k.ts");
    return () => train700k();
  },
  train_vs_pytorch_full_20k: async () => {
    const { trainVsPytorch } = await import("../bench/train_vs_pytorch.ts");
    return () => trainVsPytorch({ vocab: 20_000, softmax: "full" });
  },
  train_vs_pytorch_sampled_20k: async () => {
    const { trainVsPytorch } = await import("../bench/train_vs_pytorch.ts");
    return () => trainVsPytorch({ vocab: 20_000, softmax: "sampled" });
  },
  train_vs_pytorch_sampled_200k: async () => {
    const { trainVsPytorch } = await import("../bench/train_vs_pytorch.ts");
    return () => trainVsPytorch({ vocab: 200_000, softmax: "sampled" });
  },
  w2v_vs_gensim: async () => {
    const { w2vVsGensim } = await import("../bench/w2v_vs_gensim.ts");
    return () => w2vVsGensim();
  },
};

const { positionals, values } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: { help: { type: "boolean", short: "h", default: false } },
});
if (values.help) {
  console.log(
    `Usage: deno task bench [NAME ...]\n\nBenchmarks: ${Object.keys(BENCHMARKS).join(", ") || "none"}`,
  );
  Deno.exit(0);
}
const unknown = positionals.filter((name) => !(name in BENCHMARKS));
if (unknown.length > 0) {
  console.error(`Unknown benchmark ${unknown.join(", ")}: use one of ${Object.keys(BENCHMARKS).join(", ")}.`);
  Deno.exit(2);
}

const root = resolve(new URL("..", import.meta.url).pathname);
const machine = await describeMachine();
for (const name of positionals.length > 0 ? positionals : Object.keys(BENCHMARKS)) {
  log(`bench: ${name} on ${machine}`);
  const run = await BENCHMARKS[name]();
  const entry = await run();
  await recordBenchmark(`${root}/bench/results.json`, name, {
    ...entry,
    command: `deno task bench ${name}`,
    machine,
    date: new Date().toISOString(),
  });
  log(`bench: ${name} ratio ${entry.ratio.toFixed(2)} (${entry.ratio_meaning})`);
}
