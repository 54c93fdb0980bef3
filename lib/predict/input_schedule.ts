/**
 * The input sequence of one playlist in guided prediction: which token each step is fed.
 *
 * Every playlist starts with the end-of-playlist token (when `startWithEos` is set) and its seeds in order.
 * The `steps` prediction steps after them depend on the mode:
 * - fully guided: a seed drawn uniformly with replacement at every step;
 * - semi-guided: the model's best pick from the step before (the argmax of its distribution after seeds and
 *   special tokens are excluded), then the next seed, then a pick, and so on. The seed pointer starts at the
 *   first seed and advances by one for every seed fed. After the last seed it wraps around to the first.
 *   When a step has no allowed token with positive probability, the next seed is fed in place of the pick.
 * @module
 */

import { EOS_TOKEN } from "../data/vocabulary.ts";
import type { RandomSource } from "../util/random.ts";
import type { GuidedOptions } from "./guided_options.ts";

/** One row of a step's top-k: token ids, best first, and their probabilities after exclusions. */
export interface RowTopK {
  indices: Int32Array;
  values: Float32Array;
  /** Offset of the row in `indices` and `values`. */
  offset: number;
  /** Number of entries from `offset` that form the row's top-k. */
  k: number;
}

/**
 * The inputs of one playlist, one token per step. {@linkcode InputSchedule.tokenAt} must be called once per
 * step, in order, because semi-guided schedules advance their seed pointer as they go.
 */
export class InputSchedule {
  /** Steps in all: the end-of-playlist step when it is fed, the seed steps and the prediction steps. */
  readonly length: number;
  /** Steps before the first prediction step. */
  readonly prefix: number;
  /** Steps at the start whose distributions add no candidates: 1 with the end-of-playlist token, else 0. */
  readonly unscored: number;

  readonly #seeds: Int32Array;
  readonly #settings: GuidedOptions;
  readonly #random: RandomSource;
  /** The fully guided steps' seeds, drawn up front; empty in semi-guided mode. */
  readonly #drawn: Int32Array;
  #seedPointer = 0;

  /**
   * @param seeds the playlist's seed tokens in playlist order, at least one.
   * @param random the playlist's own random source, so its draws do not depend on the batch it is in.
   */
  constructor(seeds: Int32Array, settings: GuidedOptions, random: RandomSource) {
    this.#seeds = seeds;
    this.#settings = settings;
    this.#random = random;
    this.unscored = settings.startWithEos ? 1 : 0;
    this.prefix = this.unscored + seeds.length;
    this.length = this.prefix + settings.steps;

    this.#drawn = new Int32Array(settings.mode === "fully" ? settings.steps : 0);
    for (let i = 0; i < this.#drawn.length; i++) {
      this.#drawn[i] = seeds[Math.floor(random() * seeds.length)];
    }
  }

  /**
   * Returns how many of step `t`'s most probable tokens add to the candidate scores: `topK`, or with
   * `thesisCompatible` `topK + steps` on the seed steps and `topK + i` on prediction step i.
   */
  topKAt(t: number): number {
    const { topK, steps, thesisCompatible } = this.#settings;
    if (!thesisCompatible) return topK;
    return t < this.prefix ? topK + steps : topK + (t - this.prefix);
  }

  /** Returns the token fed at step `t`, given this row's top-k of step t - 1 (undefined at step 0). */
  tokenAt(t: number, previous: RowTopK | undefined): number {
    if (t < this.unscored) return EOS_TOKEN;
    if (t < this.prefix) return this.#seeds[t - this.unscored];

    const j = t - this.prefix;
    if (this.#settings.mode === "fully") return this.#drawn[j];
    if (this.#settings.thesisCompatible) return this.#thesisSemiGuided(j, previous);

    if (j % 2 === 0) {
      const best = previous !== undefined && previous.values[previous.offset] > 0
        ? previous.indices[previous.offset]
        : undefined;
      if (best !== undefined) return best;
    }
    const seed = this.#seeds[this.#seedPointer];
    this.#seedPointer = (this.#seedPointer + 1) % this.#seeds.length;
    return seed;
  }

  /** The original code's semi-guided inputs: the last seed, then a pick and the first seed in turn. */
  #thesisSemiGuided(j: number, previous: RowTopK | undefined): number {
    const seeds = this.#seeds;
    if (j === 0) return seeds[seeds.length - 1];
    if (j % 2 === 0 || previous === undefined) return seeds[0];

    // Only tokens with positive probability are allowed; excluded ones were zeroed before the top-k.
    let allowed = 0;
    while (allowed < previous.k && previous.values[previous.offset + allowed] > 0) allowed++;
    if (allowed === 0) return seeds[0];
    return previous.indices[previous.offset + Math.floor(this.#random() * allowed)];
  }
}
