/**
 * A small seeded pseudo-random generator, so every stochastic step of the study is reproducible.
 * @module
 */

/** A source of uniform numbers in [0, 1). */
export type RandomSource = () => number;

/** Creates a mulberry32 generator: fast, 32-bit state, good enough for sampling and shuffling. */
export function createRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Mixes a run's seed and an index (a playlist's position, a thread's number) into a seed of its own, with
 * an integer hash, so each index gets an independent stream.
 */
export function mixSeed(seed: number, index: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h >>> 0;
}

/** Shuffles `values` in place with the Fisher-Yates algorithm and returns it. */
export function shuffleInPlace<T>(values: T[], random: RandomSource): T[] {
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const swap = values[i];
    values[i] = values[j];
    values[j] = swap;
  }
  return values;
}
