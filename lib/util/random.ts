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
