/**
 * Runs the project's benchmarks and records each result in bench/results.json.
 *
 * Usage: deno task bench [NAME ...]   (no name: every benchmark)
 */

import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { log } from "../lib/cli/progress.ts";
import { type BenchmarkEntry, describeMachine, recordBenchmark } from "../lib/bench/results.ts";
import type { TrainBenchmarkConfig } from "../bench/train_vs_pytorch.ts";

/** A benchmark: measures and returns its entry without `command`, `machine` and `date`. */
type Benchmark = () => Promise<Omit<BenchmarkEntry, "command" | "machine" | "date">>;

/** A benchmark's module loader and its description in `--help`. */
interface BenchmarkSpec {
  load: () => Promise<Benchmark>;
  /** A few words on the comparison it makes. */
  summary: string;
  /** Wall-clock minutes of one run on 2 cores, an estimate from this project's runs. */
  minutes: number;
  /** The Debian package that the benchmark installs with apt-get when it is missing. */
  installs?: string;
}

/** Every benchmark by name. Each lives in its own module under bench/ and is loaded only when run. */
const BENCHMARKS: Record<string, BenchmarkSpec> = {
  als: {
    load: async () => (await import("../bench/als.ts")).als,
    summary: "seconds per WMF ALS iteration, projected to the full MPD",
    minutes: 2,
  },
  ingest_vs_python: {
    load: async () => (await import("../bench/ingest_vs_python.ts")).ingestVsPython,
    summary: "ingestion against Python's json + pandas on the same slices",
    minutes: 2,
    installs: "python3-pandas",
  },
  predict_batched_vs_single: {
    load: async () => (await import("../bench/predict_batched_vs_single.ts")).predictBatchedVsSingle,
    summary: "batched guided prediction against one playlist at a time",
    minutes: 4,
  },
  train_700k: {
    load: async () => (await import("../bench/train_700k.ts")).train700k,
    summary: "training at 700,000 tracks with host tables, against in-heap tables at 200,000",
    minutes: 4,
  },
  train_vs_pytorch_full_20k: {
    load: () => Promise.resolve(() => trainVsPytorch({ vocab: 20_000, softmax: "full" })),
    summary: "training tokens/s against PyTorch, full softmax, 20,000 tracks",
    minutes: 2,
    installs: "python3-torch",
  },
  train_vs_pytorch_sampled_20k: {
    load: () => Promise.resolve(() => trainVsPytorch({ vocab: 20_000, softmax: "sampled" })),
    summary: "training tokens/s against PyTorch, sampled softmax, 20,000 tracks",
    minutes: 1,
    installs: "python3-torch",
  },
  train_vs_pytorch_sampled_200k: {
    load: () => Promise.resolve(() => trainVsPytorch({ vocab: 200_000, softmax: "sampled" })),
    summary: "training tokens/s against PyTorch, sampled softmax, 200,000 tracks",
    minutes: 1,
    installs: "python3-torch",
  },
  w2v_vs_gensim: {
    load: async () => (await import("../bench/w2v_vs_gensim.ts")).w2vVsGensim,
    summary: "word2vec training tokens/s and recall@500 against gensim",
    minutes: 2,
    installs: "python3-gensim",
  },
};

/** Runs one train_vs_pytorch configuration, loading its module only then. */
async function trainVsPytorch(config: TrainBenchmarkConfig): ReturnType<Benchmark> {
  const { trainVsPytorch } = await import("../bench/train_vs_pytorch.ts");
  return trainVsPytorch(config);
}

const HELP = `Usage: deno task bench [NAME ...]

Runs the named benchmarks, or every benchmark when no name is given (about ${
  Object.values(BENCHMARKS).reduce((sum, spec) => sum + spec.minutes, 0)
} minutes on 2 cores), and records each one in bench/results.json, a tracked file, replacing that name's
entry. A benchmark whose Python reference lacks its Debian package installs it with apt-get, which needs
root and the Debian mirrors; CI never runs the benchmarks.

Benchmarks (estimated minutes on 2 cores):
${
  Object.entries(BENCHMARKS).map(([name, spec]) =>
    `  ${name.padEnd(30)} ${String(spec.minutes).padStart(2)}  ${spec.summary}${
      spec.installs ? ` (installs ${spec.installs})` : ""
    }`
  ).join("\n")
}

Example: deno task bench w2v_vs_gensim
`;

const { positionals, values } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: { help: { type: "boolean", short: "h", default: false } },
});
if (values.help) {
  console.log(HELP);
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
  const run = await BENCHMARKS[name].load();
  const entry = await run();
  await recordBenchmark(`${root}/bench/results.json`, name, {
    ...entry,
    command: `deno task bench ${name}`,
    machine,
    date: new Date().toISOString(),
  });
  log(`bench: ${name} ratio ${entry.ratio.toFixed(2)} (${entry.ratio_meaning})`);
}
