/**
 * Drawing the negatives of the sampled softmax, with a random generator whose state can be saved, so a
 * resumed training run draws the same negatives as an uninterrupted one.
 * @module
 */

/**
 * A mulberry32 generator whose 32-bit state can be read and restored. From the same seed it returns the same
 * numbers as `createRandom` of lib/util/random.ts.
 */
export class RestorableRandom {
  #state: number;

  /** @param state a seed, or a state read from {@linkcode RestorableRandom.state}. */
  constructor(state: number) {
    this.#state = state >>> 0;
  }

  /** The state after the draws so far, an unsigned 32-bit integer. */
  get state(): number {
    return this.#state;
  }

  /** Returns a uniform number in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

/** The negatives of one step: token ids, their log expected counts, and where they hit a row's target. */
export interface NegativeSample {
  negatives: Int32Array;
  /** log(S * q(token)) of each negative, [S]. */
  logExpected: Float32Array;
  /** log(S * q(target)) of each row's target, [rows]. */
  targetLogExpected: Float32Array;
  /** A large negative number where negative j equals row i's target, else 0, [rows, S]; null without hits. */
  hitMask: Float32Array | null;
}

/**
 * Draws negatives with replacement from unigram counts raised to 0.75. Every step draws exactly `count`
 * numbers from the generator.
 */
export class NegativeSampler {
  private readonly cumulative: Float64Array;
  private readonly probability: Float64Array;
  private readonly random: RestorableRandom;

  /**
   * @param randomState the generator's seed, or its state saved after earlier steps.
   * @throws {RangeError} when `count` is not a positive integer.
   */
  constructor(
    tokens: Int32Array,
    vocabSize: number,
    private readonly count: number,
    randomState: number,
  ) {
    if (!Number.isInteger(count) || count < 1) {
      throw new RangeError(`Training failed: sampledNegatives must be a positive integer, got ${count}.`);
    }
    this.random = new RestorableRandom(randomState);
    const counts = new Float64Array(vocabSize);
    for (let i = 1; i < tokens.length; i++) {
      counts[tokens[i]]++;
    }

    this.probability = new Float64Array(vocabSize);
    this.cumulative = new Float64Array(vocabSize);
    let total = 0;
    for (let token = 0; token < vocabSize; token++) {
      total += counts[token] ** 0.75;
    }
    let running = 0;
    for (let token = 0; token < vocabSize; token++) {
      this.probability[token] = counts[token] ** 0.75 / total;
      running += this.probability[token];
      this.cumulative[token] = running;
    }
  }

  /** The generator's state after the draws so far. Passed to the constructor, it continues from here. */
  get randomState(): number {
    return this.random.state;
  }

  sample(targets: Int32Array): NegativeSample {
    const negatives = new Int32Array(this.count);
    const logExpected = new Float32Array(this.count);
    const positions = new Map<number, number[]>();
    for (let j = 0; j < this.count; j++) {
      const token = this.draw();
      negatives[j] = token;
      logExpected[j] = Math.log(this.count * this.probability[token]);
      const list = positions.get(token);
      if (list === undefined) positions.set(token, [j]);
      else list.push(j);
    }

    // Every target comes from the counted stream, so its probability is positive. The floor guards log(0).
    const floor = 1e-12;
    const targetLogExpected = new Float32Array(targets.length);
    let hitMask: Float32Array | null = null;
    for (let i = 0; i < targets.length; i++) {
      targetLogExpected[i] = Math.log(this.count * Math.max(this.probability[targets[i]], floor));
      const hits = positions.get(targets[i]);
      if (hits !== undefined) {
        hitMask ??= new Float32Array(targets.length * this.count);
        for (const j of hits) hitMask[i * this.count + j] = -1e9;
      }
    }
    return { negatives, logExpected, targetLogExpected, hitMask };
  }

  private draw(): number {
    const u = this.random.next() * this.cumulative[this.cumulative.length - 1];
    let low = 0;
    let high = this.cumulative.length - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.cumulative[middle] > u) high = middle;
      else low = middle + 1;
    }
    return low;
  }
}
