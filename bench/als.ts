/**
 * The als benchmark: seconds per ALS iteration of our WMF baseline (lib/baselines/wmf.ts) on the default
 * synthetic corpus, and an estimate of the same at the size of the full MPD.
 *
 * No ALS reference runs beside ours, so the entry is absolute and its ratio is 1.
 * @module
 */

import { join } from "node:path";
import type { BenchmarkEntry } from "../lib/bench/results.ts";
import { DEFAULT_WMF_OPTIONS, fitWmf } from "../lib/baselines/wmf.ts";
import type { Corpus } from "../lib/data/corpus.ts";
import { ingestMpd } from "../lib/data/ingest.ts";
import { loadCorpus } from "../lib/data/load.ts";
import { type Split, splitCorpus } from "../lib/data/split.ts";
import { writeSyntheticMpd } from "../lib/mpd/generate.ts";

/** Sizes of the default synthetic corpus that the W2V and ALS benchmarks share. */
export const BENCH_CORPUS = { playlists: 20_000, seed: 2018, devSize: 200, testSize: 600 };

/** Sizes of the full MPD: playlists, track occurrences and unique tracks. */
const FULL_MPD = { playlists: 1_000_000, occurrences: 66_346_428, tracks: 2_262_292 };

/** Timed ALS iterations; the first also builds the matrices, so it is left out of the mean. */
const ITERATIONS = 4;

/**
 * Generates the default synthetic corpus into a temporary folder, ingests and splits it, and removes the
 * folder again.
 */
export async function prepareBenchCorpus(): Promise<{ corpus: Corpus; split: Split }> {
  const work = await Deno.makeTempDir({ prefix: "bench_corpus_" });
  try {
    const mpd = join(work, "mpd");
    const ingested = join(work, "ingested");
    await writeSyntheticMpd(mpd, { playlists: BENCH_CORPUS.playlists, seed: BENCH_CORPUS.seed });
    await ingestMpd(mpd, ingested);
    const corpus = loadCorpus(ingested);
    const split = splitCorpus(corpus, {
      seed: BENCH_CORPUS.seed,
      devSize: BENCH_CORPUS.devSize,
      testSize: BENCH_CORPUS.testSize,
    });
    return { corpus, split };
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}

/** Runs the benchmark and returns its entry. */
export async function als(): Promise<Omit<BenchmarkEntry, "command" | "machine" | "date">> {
  const { corpus, split } = await prepareBenchCorpus();
  const { factors, cgSteps } = DEFAULT_WMF_OPTIONS;

  // The matrix is binary, so repeats of a track within a playlist count once.
  let nonzeros = 0;
  const items = new Set<number>();
  for (const index of split.train) {
    const unique = new Set(corpus.playlists[index].tracks);
    nonzeros += unique.size;
    for (const track of unique) items.add(track);
  }
  const rows = split.train.length;

  const loadBefore = Deno.loadavg()[0];
  const ends: number[] = [];
  fitWmf(corpus, split.train, { iterations: ITERATIONS }, (progress) => ends.push(progress.seconds));
  const perIteration = (ends[ends.length - 1] - ends[0]) / (ends.length - 1);
  const setup = ends[0] - perIteration;

  // Full-MPD estimate: the training playlists are the held-out share smaller, and the occurrences stand in
  // for the unique pairs, which they slightly exceed.
  const fullRows = Math.round(FULL_MPD.playlists * (rows / corpus.playlists.length));
  const fullNonzeros = FULL_MPD.occurrences * (rows / corpus.playlists.length);
  const work = alsWork(rows, items.size, nonzeros, factors, cgSteps);
  const fullWork = alsWork(fullRows, FULL_MPD.tracks, fullNonzeros, factors, cgSteps);
  const fullPerIteration = perIteration * fullWork / work;
  const fullFit = fullPerIteration * DEFAULT_WMF_OPTIONS.iterations;

  return {
    ratio: 1,
    ratio_meaning: "none: absolute seconds per ALS iteration, since no reference ALS runs beside ours",
    figures: {
      factors,
      cg_steps: cgSteps,
      playlists: rows,
      tracks: items.size,
      nonzeros,
      iterations_timed: ITERATIONS - 1,
      seconds_per_iteration: round(perIteration),
      setup_seconds: round(setup),
      full_mpd_playlists: fullRows,
      full_mpd_tracks: FULL_MPD.tracks,
      full_mpd_nonzeros_estimate: Math.round(fullNonzeros),
      full_mpd_seconds_per_iteration_estimate: round(fullPerIteration),
      full_mpd_fit_hours_estimate: round(fullFit / 3600),
      full_mpd_factor_memory_mb: round(((fullRows + FULL_MPD.tracks) * factors * 4) / 2 ** 20),
      load_average_1m_before: round(loadBefore),
      load_average_1m_after: round(Deno.loadavg()[0]),
    },
    notes: `Absolute timing on one thread, so the ratio is fixed at 1. One iteration solves all ${rows} ` +
      `playlist rows, then all ${items.size} track rows, with ${cgSteps} warm-started conjugate-gradient ` +
      `steps per row at ${factors} factors; the mean of iterations 2 to ${ITERATIONS} counts. ` +
      `The full-MPD figure is an estimate: it scales the measured time by the operation count ` +
      `(cgSteps + 1.5) x (rows + tracks) x factors^2 + 4 x (cgSteps + 1) x nonzeros x factors, with ` +
      `${fullRows} training playlists, ${FULL_MPD.tracks} tracks and the ${FULL_MPD.occurrences} ` +
      `occurrences scaled to the training share as nonzeros. It assumes the same time per operation, but ` +
      `at that size the factor matrices no longer fit in cache, so the real time is likely higher. ` +
      `A fit of ${DEFAULT_WMF_OPTIONS.iterations} iterations would take about ${round(fullFit / 3600)} h.`,
  };
}

/**
 * Returns the multiply-adds of one ALS iteration. Each half-iteration computes the upper half of FᵀF, k²/2
 * per fixed row. Per solved row it then runs cgSteps + 1 products (the initial residual and one per step).
 * Each product costs k² with the Gram matrix plus a dot and an update of k per observed pair.
 */
function alsWork(rows: number, items: number, nonzeros: number, k: number, cgSteps: number): number {
  return (cgSteps + 1.5) * (rows + items) * k * k + 4 * (cgSteps + 1) * nonzeros * k;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
