/**
 * The stratified dev/test split of the thesis.
 *
 * Each playlist gets three features, each binned into deciles: its number of tracks, its `modified_at`,
 * and its popularity (the median, over its tracks, of each track's count in the whole corpus). Playlists
 * are stratified on the joint class of the three bins. A stratified 10% is held out. Of the hold-out,
 * only playlists whose tracks all occur in the remaining 90% are eligible, and dev and test are drawn from
 * those at random. Every other playlist, the unused part of the hold-out included, is training.
 * @module
 */

import type { Corpus, Playlist } from "./corpus.ts";
import { createRandom, shuffleInPlace } from "../util/random.ts";

/** Options of {@linkcode splitCorpus}. */
export interface SplitOptions {
  /** Share of playlists held out before the eligibility filter. Default 0.1. */
  holdOutFraction: number;
  /** Number of dev playlists; overrides `devFraction` when set. Default unset. */
  devSize?: number;
  /** Number of test playlists; overrides `testFraction` when set. Default unset. */
  testSize?: number;
  /** Share of all playlists drawn as dev when `devSize` is unset. Default 0.01. */
  devFraction: number;
  /** Share of all playlists drawn as test when `testSize` is unset. Default 0.01. */
  testFraction: number;
  /** Seed of the random draws. Default 2018, as in the thesis. */
  seed: number;
}

/** Defaults of {@linkcode SplitOptions}. */
export const DEFAULT_SPLIT_OPTIONS: SplitOptions = {
  holdOutFraction: 0.1,
  devFraction: 0.01,
  testFraction: 0.01,
  seed: 2018,
};

/** The result of {@linkcode splitCorpus}: playlist indices into `corpus.playlists`, each sorted. */
export interface Split {
  train: number[];
  dev: number[];
  test: number[];
  /** Names of the features that were stratified on; `modified_at` is left out when no playlist has it. */
  strataFeatures: string[];
  /**
   * Per feature of `strataFeatures`, the number of playlists without a value for it. They share a bin of
   * their own, beside the ten deciles of the playlists that have one.
   */
  strataMissing: Record<string, number>;
  /** Stratum of each playlist, by playlist index. */
  stratum: Int32Array;
  /** Number of held-out playlists whose tracks all occur in the rest. */
  eligible: number;
}

/** Counts, for each track id, how many times it occurs over the given playlists. */
export function countTracks(corpus: Corpus, playlistIndices?: Iterable<number>): Int32Array {
  const counts = new Int32Array(corpus.tracks.uri.length);
  const indices = playlistIndices ?? corpus.playlists.keys();
  for (const index of indices) {
    for (const track of corpus.playlists[index].tracks) counts[track]++;
  }
  return counts;
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * Bins values into deciles by rank: equal values always share a bin, and NaN values (missing) get bin 10.
 * Returns the bin of each value, in [0, 10].
 */
export function decileBins(values: ArrayLike<number>): Int32Array {
  const present: number[] = [];
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i])) present.push(values[i]);
  present.sort((a, b) => a - b);

  const cuts: number[] = [];
  for (let d = 1; d < 10; d++) cuts.push(present[Math.floor((d * present.length) / 10)]);

  const bins = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (Number.isNaN(value)) {
      bins[i] = 10;
      continue;
    }
    let bin = 0;
    while (bin < cuts.length && value >= cuts[bin]) bin++;
    bins[i] = bin;
  }
  return bins;
}

/** The features that {@linkcode stratify} bins, in the order of `Split.strataFeatures`. */
export const STRATA_FEATURES = ["num_tracks", "modified_at", "popularity"] as const;

/**
 * Computes each playlist's stratum from the decile bins of length, `modified_at` and popularity.
 *
 * @returns The stratum of each playlist, the features used, and per feature used the number of playlists
 *   without a value, which share bin 10.
 */
export function stratify(
  corpus: Corpus,
): { stratum: Int32Array; features: string[]; missing: Record<string, number> } {
  const playlists = corpus.playlists;
  const counts = countTracks(corpus);

  const lengths = Float64Array.from(playlists, (p) => p.tracks.length);
  const modified = Float64Array.from(playlists, (p) => p.modifiedAt ?? NaN);
  const popularity = Float64Array.from(playlists, (p) => median(Array.from(p.tracks, (t) => counts[t])));

  const features = ["num_tracks", "popularity"];
  const lengthBins = decileBins(lengths);
  const popularityBins = decileBins(popularity);
  const hasModified = modified.some((value) => !Number.isNaN(value));
  const modifiedBins = hasModified ? decileBins(modified) : new Int32Array(playlists.length);
  if (hasModified) features.splice(1, 0, "modified_at");

  const stratum = new Int32Array(playlists.length);
  for (let i = 0; i < playlists.length; i++) {
    stratum[i] = lengthBins[i] * 121 + modifiedBins[i] * 11 + popularityBins[i];
  }

  // Length and popularity always have a value, so only modified_at counts missing ones. The record still
  // names every feature used, so readers need not know which ones can be missing.
  const binsOf: Record<string, Int32Array> = {
    num_tracks: lengthBins,
    modified_at: modifiedBins,
    popularity: popularityBins,
  };
  const missing: Record<string, number> = {};
  for (const feature of features) missing[feature] = binsOf[feature].filter((bin) => bin === 10).length;
  return { stratum, features, missing };
}

/**
 * Describes the strata of a split for a log line: the features stratified on, each with the number of
 * playlists that lack it and share a bin of their own, and any feature left out because no playlist has
 * it. Examples: `num_tracks, modified_at (12 playlists without it share a bin of their own), popularity`,
 * and `num_tracks, popularity, not modified_at, which no playlist has`.
 */
export function describeStrata(split: Pick<Split, "strataFeatures" | "strataMissing">): string {
  const parts = split.strataFeatures.map((feature) => {
    const missing = split.strataMissing[feature] ?? 0;
    if (missing === 0) return feature;
    const bin = missing === 1
      ? "1 playlist without it has a bin of its own"
      : `${missing} playlists without it share a bin of their own`;
    return `${feature} (${bin})`;
  });
  for (const feature of STRATA_FEATURES) {
    if (!split.strataFeatures.includes(feature)) parts.push(`not ${feature}, which no playlist has`);
  }
  return parts.join(", ");
}

/**
 * Splits a corpus into training, dev and test playlists as the thesis did.
 *
 * @throws RangeError when fewer playlists are eligible than dev and test need together.
 */
export function splitCorpus(corpus: Corpus, options: Partial<SplitOptions> = {}): Split {
  const config = { ...DEFAULT_SPLIT_OPTIONS, ...options };
  const total = corpus.playlists.length;
  const devSize = config.devSize ?? Math.max(1, Math.round(total * config.devFraction));
  const testSize = config.testSize ?? Math.max(1, Math.round(total * config.testFraction));
  const random = createRandom(config.seed);

  // Hold out the same share of every stratum, rounding stochastically so small strata are not skipped.
  const { stratum, features, missing } = stratify(corpus);
  const byStratum = new Map<number, number[]>();
  for (let i = 0; i < total; i++) {
    const members = byStratum.get(stratum[i]);
    if (members) members.push(i);
    else byStratum.set(stratum[i], [i]);
  }
  const heldOut = new Uint8Array(total);
  for (const key of [...byStratum.keys()].sort((a, b) => a - b)) {
    const members = shuffleInPlace(byStratum.get(key)!, random);
    const exact = members.length * config.holdOutFraction;
    const take = Math.floor(exact) + (random() < exact - Math.floor(exact) ? 1 : 0);
    for (let j = 0; j < take; j++) heldOut[members[j]] = 1;
  }

  // A held-out playlist is eligible when each of its tracks occurs in a playlist that was not held out.
  const restIndices: number[] = [];
  for (let i = 0; i < total; i++) if (!heldOut[i]) restIndices.push(i);
  const restCounts = countTracks(corpus, restIndices);
  const eligible: number[] = [];
  for (let i = 0; i < total; i++) {
    if (heldOut[i] && corpus.playlists[i].tracks.every((t) => restCounts[t] > 0)) eligible.push(i);
  }
  if (eligible.length < devSize + testSize) {
    throw new RangeError(
      `Cannot draw ${devSize} dev and ${testSize} test playlists: only ${eligible.length} of ${total} ` +
        `playlists are eligible (held out, with every track occurring in training). ` +
        `Use smaller dev and test sizes or a larger corpus.`,
    );
  }

  shuffleInPlace(eligible, random);
  const dev = eligible.slice(0, devSize).sort((a, b) => a - b);
  const test = eligible.slice(devSize, devSize + testSize).sort((a, b) => a - b);
  const evaluation = new Set([...dev, ...test]);
  const train: number[] = [];
  for (let i = 0; i < total; i++) if (!evaluation.has(i)) train.push(i);

  return {
    train,
    dev,
    test,
    strataFeatures: features,
    strataMissing: missing,
    stratum,
    eligible: eligible.length,
  };
}

/** The seed counts of the six thesis buckets, from the shortest playlists to the longest. */
export const SEED_BUCKETS = [0, 1, 5, 10, 25, 100] as const;

/** An evaluation playlist cut into seeds and ground truth. */
export interface EvaluationCase {
  /** Index into `corpus.playlists`. */
  playlist: number;
  pid: number;
  name: string;
  /** The bucket's nominal seed count, one of {@linkcode SEED_BUCKETS}. */
  bucket: number;
  /** The first tracks of the playlist. */
  seeds: Int32Array;
  /** The remaining tracks, in order, duplicates kept (metrics deduplicate). */
  groundTruth: Int32Array;
}

/**
 * Cuts evaluation playlists into seed buckets: sorted by length (ties by pid) and cut into six equal
 * slices, the shortest slice gets 0 seeds, then 1, 5, 10, 25 and 100. Seeds are the first k tracks and the
 * rest is ground truth. A playlist not longer than k keeps all but its last track as seeds, so that at least
 * one ground-truth track remains. Its `seeds.length` then falls short of the bucket's nominal count.
 */
export function seedBuckets(corpus: Corpus, playlistIndices: number[]): EvaluationCase[] {
  const playlists: Playlist[] = corpus.playlists;
  const order = [...playlistIndices].sort((a, b) =>
    playlists[a].tracks.length - playlists[b].tracks.length || playlists[a].pid - playlists[b].pid
  );

  return order.map((index, rank) => {
    const bucket = SEED_BUCKETS[Math.floor((rank * SEED_BUCKETS.length) / order.length)];
    const playlist = playlists[index];
    const seedCount = Math.max(0, Math.min(bucket, playlist.tracks.length - 1));
    return {
      playlist: index,
      pid: playlist.pid,
      name: playlist.name,
      bucket,
      seeds: playlist.tracks.slice(0, seedCount),
      groundTruth: playlist.tracks.slice(seedCount),
    };
  });
}
