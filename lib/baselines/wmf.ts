/**
 * The WMF baseline: weighted matrix factorization for implicit feedback, fitted by alternating least
 * squares (ALS) with a conjugate-gradient solver.
 * @module
 */

import type { Corpus } from "../data/corpus.ts";
import { countTracks } from "../data/split.ts";
import { selectTopIndices } from "../embeddings/word_vectors.ts";
import type { PlaylistQuery, Recommendation, Recommender } from "../recommender.ts";
import { createRandom } from "../util/random.ts";
import { PopularityRecommender } from "./popularity.ts";

/** Options of {@linkcode fitWmf}. */
export interface WmfOptions {
  /** Number of latent factors per playlist and per track. Default 100. */
  factors: number;
  /** L2 regularization λ of both factor matrices. Default 10. */
  regularization: number;
  /** Number of ALS iterations; each solves all playlist factors, then all track factors. Default 15. */
  iterations: number;
  /**
   * Confidence weight α: a track of a playlist gets confidence 1 + α, every other pair confidence 1.
   * Larger values fit the observed pairs more closely than the unobserved ones; 0 weighs all pairs alike.
   * Default 40.
   */
  alpha: number;
  /**
   * Conjugate-gradient steps per row and half-iteration, warm-started from the previous factors.
   * Default 3.
   */
  cgSteps: number;
  /** Seed of the initial factors. Default 2018. */
  seed: number;
  /** Whether to compute the training loss after each iteration for the progress callback. Default false. */
  computeLoss: boolean;
  /**
   * Recommender for queries without a seed track known to the model. Default: popularity over the
   * training playlists.
   */
  fallback?: Recommender;
}

/** Defaults of {@linkcode WmfOptions}. */
export const DEFAULT_WMF_OPTIONS: WmfOptions = {
  factors: 100,
  regularization: 10,
  iterations: 15,
  alpha: 40,
  cgSteps: 3,
  seed: 2018,
  computeLoss: false,
};

/** Progress of {@linkcode fitWmf}, reported after each iteration. */
export interface WmfProgress {
  iteration: number;
  iterations: number;
  /** Seconds since fitting started. */
  seconds: number;
  /** Training loss per playlist-track pair, when `computeLoss` is set. */
  loss?: number;
}

/**
 * Thrown when ALS produces a factor that is NaN or infinite, which happens when the confidence weight is
 * so large that the solver overflows.
 */
export class FactorsNotFiniteError extends Error {
  override name = "FactorsNotFiniteError";

  /**
   * @param side the factor matrix that failed, "playlist" or "track".
   * @param row the row of that matrix, or -1 when folding in a query.
   * @param iteration the 1-based ALS iteration, or 0 when folding in a query.
   */
  constructor(
    readonly side: "playlist" | "track",
    readonly row: number,
    readonly iteration: number,
    alpha: number,
    regularization: number,
  ) {
    const where = iteration === 0
      ? "while folding in a query's seeds"
      : `in row ${row}, iteration ${iteration}`;
    super(
      `ALS produced a non-finite ${side} factor ${where}. ` +
        `Lower alpha (${alpha}) or raise regularization (${regularization}), then fit again.`,
    );
  }
}

/**
 * A sparse binary matrix in compressed sparse row (CSR) form: row r contains the column indices
 * `indices[offsets[r]..offsets[r + 1]]`.
 */
interface SparseRows {
  rows: number;
  columns: number;
  offsets: Int32Array;
  indices: Int32Array;
}

/**
 * Fits WMF on the training playlists: playlists are the users and tracks the items of implicit ALS.
 *
 * Tracks that occur in no training playlist get no factors and are never recommended. Duplicate tracks
 * within a playlist count once, because the confidence is binary.
 *
 * @param corpus the corpus that the playlist indices and track ids refer to.
 * @param trainPlaylists indices into `corpus.playlists` of the training playlists.
 * @param options hyperparameters; see {@linkcode WmfOptions}.
 * @param onProgress called after each iteration.
 * @throws {RangeError} when an option is invalid or no training playlist has a track.
 * @throws {FactorsNotFiniteError} when a factor turns NaN or infinite.
 */
export function fitWmf(
  corpus: Corpus,
  trainPlaylists: readonly number[],
  options: Partial<WmfOptions> = {},
  onProgress?: (progress: WmfProgress) => void,
): WmfRecommender {
  const config = { ...DEFAULT_WMF_OPTIONS, ...options };
  validateOptions(config);
  const started = performance.now();

  for (const index of trainPlaylists) {
    if (!(Number.isInteger(index) && index >= 0 && index < corpus.playlists.length)) {
      throw new RangeError(
        `Cannot fit WMF: training playlist index ${index} is outside the corpus of ` +
          `${corpus.playlists.length} playlists. Pass indices into corpus.playlists.`,
      );
    }
  }
  const counts = countTracks(corpus, trainPlaylists);
  const itemTracks: number[] = [];
  for (let track = 0; track < counts.length; track++) if (counts[track] > 0) itemTracks.push(track);
  if (itemTracks.length === 0) {
    throw new RangeError(
      `Cannot fit WMF: the ${trainPlaylists.length} training playlists contain no tracks. ` +
        `Pass training playlists that have tracks.`,
    );
  }

  // Users x items, as Hu, Koren and Volinsky define it: rows are playlists, columns are tracks.
  const trackItem = new Int32Array(counts.length).fill(-1);
  itemTracks.forEach((track, item) => trackItem[track] = item);
  const playlistItems = buildPlaylistItemMatrix(corpus, trainPlaylists, trackItem, itemTracks.length);
  const itemPlaylists = transpose(playlistItems);

  const k = config.factors;
  const random = createRandom(config.seed);
  const playlistFactors = new Float32Array(playlistItems.rows * k);
  const itemFactors = new Float32Array(itemTracks.length * k);
  for (let i = 0; i < playlistFactors.length; i++) playlistFactors[i] = (random() - 0.5) * 0.02;
  for (let i = 0; i < itemFactors.length; i++) itemFactors[i] = (random() - 0.5) * 0.02;

  const solver = new ConjugateGradientSolver(k, config.alpha);
  for (let iteration = 1; iteration <= config.iterations; iteration++) {
    const playlistRow = solver.solveAll(
      playlistFactors,
      itemFactors,
      playlistItems,
      gramMatrix(itemFactors, itemTracks.length, k, config.regularization),
      config.cgSteps,
    );
    if (playlistRow >= 0) {
      throw new FactorsNotFiniteError(
        "playlist",
        playlistRow,
        iteration,
        config.alpha,
        config.regularization,
      );
    }
    const itemRow = solver.solveAll(
      itemFactors,
      playlistFactors,
      itemPlaylists,
      gramMatrix(playlistFactors, playlistItems.rows, k, config.regularization),
      config.cgSteps,
    );
    if (itemRow >= 0) {
      throw new FactorsNotFiniteError("track", itemRow, iteration, config.alpha, config.regularization);
    }

    const progress: WmfProgress = {
      iteration,
      iterations: config.iterations,
      seconds: (performance.now() - started) / 1000,
    };
    if (config.computeLoss) {
      progress.loss = trainingLoss(playlistFactors, itemFactors, playlistItems, k, config);
    }
    onProgress?.(progress);
  }

  return new WmfRecommender({
    itemFactors,
    playlistFactors,
    itemTracks: Int32Array.from(itemTracks),
    trackCount: counts.length,
    factors: k,
    regularization: config.regularization,
    alpha: config.alpha,
    fallback: config.fallback ?? new PopularityRecommender(counts),
  });
}

function validateOptions(config: WmfOptions): void {
  for (const name of ["factors", "cgSteps"] as const) {
    if (!Number.isInteger(config[name]) || config[name] < 1) {
      throw new RangeError(`Cannot fit WMF: "${name}" must be a positive integer, got ${config[name]}.`);
    }
  }
  if (!Number.isInteger(config.iterations) || config.iterations < 0) {
    throw new RangeError(
      `Cannot fit WMF: "iterations" must be an integer of 0 or more, got ${config.iterations}.`,
    );
  }
  if (!(config.regularization > 0) || !Number.isFinite(config.regularization)) {
    throw new RangeError(
      `Cannot fit WMF: "regularization" must be a positive finite number, got ${config.regularization}.`,
    );
  }
  if (!(config.alpha >= 0) || !Number.isFinite(config.alpha)) {
    throw new RangeError(
      `Cannot fit WMF: "alpha" must be a finite number of 0 or more, got ${config.alpha}.`,
    );
  }
}

function buildPlaylistItemMatrix(
  corpus: Corpus,
  trainPlaylists: readonly number[],
  trackItem: Int32Array,
  items: number,
): SparseRows {
  const offsets = new Int32Array(trainPlaylists.length + 1);
  const rows: Int32Array[] = [];
  for (let row = 0; row < trainPlaylists.length; row++) {
    const unique = Int32Array.from(
      new Set(corpus.playlists[trainPlaylists[row]].tracks),
      (t) => trackItem[t],
    );
    unique.sort();
    rows.push(unique);
    offsets[row + 1] = offsets[row] + unique.length;
  }
  const indices = new Int32Array(offsets[trainPlaylists.length]);
  rows.forEach((row, index) => indices.set(row, offsets[index]));
  return { rows: trainPlaylists.length, columns: items, offsets, indices };
}

function transpose(matrix: SparseRows): SparseRows {
  const offsets = new Int32Array(matrix.columns + 1);
  for (const column of matrix.indices) offsets[column + 1]++;
  for (let column = 0; column < matrix.columns; column++) offsets[column + 1] += offsets[column];

  const next = offsets.slice(0, matrix.columns);
  const indices = new Int32Array(matrix.indices.length);
  for (let row = 0; row < matrix.rows; row++) {
    for (let j = matrix.offsets[row]; j < matrix.offsets[row + 1]; j++) {
      indices[next[matrix.indices[j]]++] = row;
    }
  }
  return { rows: matrix.columns, columns: matrix.rows, offsets, indices };
}

/** Returns FᵀF + λI for the `rows` x k factor matrix F, as a dense k x k row-major matrix. */
function gramMatrix(factors: Float32Array, rows: number, k: number, regularization: number): Float64Array {
  const gram = new Float64Array(k * k);
  const row = new Float64Array(k);
  for (let r = 0; r < rows; r++) {
    for (let a = 0; a < k; a++) row[a] = factors[r * k + a];
    for (let a = 0; a < k; a++) {
      const value = row[a];
      if (value === 0) continue;
      const offset = a * k;
      for (let b = a; b < k; b++) gram[offset + b] += value * row[b];
    }
  }
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < a; b++) gram[a * k + b] = gram[b * k + a];
    gram[a * k + a] += regularization;
  }
  return gram;
}

/**
 * Solves the ALS normal equations of one row at a time by conjugate gradient, with reusable scratch
 * vectors so that no row allocates.
 *
 * For a row u with observed columns S, the equations are
 * (YᵀY + λI + α Σ_{i∈S} y_i y_iᵀ) x = (1 + α) Σ_{i∈S} y_i,
 * where Y is the fixed factor matrix. The matrix is never formed: each product uses the precomputed
 * YᵀY + λI and the few rows y_i, so a step costs O(k² + |S| k).
 */
class ConjugateGradientSolver {
  readonly #x: Float64Array;
  readonly #residual: Float64Array;
  readonly #direction: Float64Array;
  readonly #product: Float64Array;

  constructor(readonly k: number, readonly alpha: number) {
    this.#x = new Float64Array(k);
    this.#residual = new Float64Array(k);
    this.#direction = new Float64Array(k);
    this.#product = new Float64Array(k);
  }

  /**
   * Updates every row of `target` from the fixed factors with `steps` warm-started CG steps.
   * Returns -1 on success, or the first row whose solution is not finite.
   */
  solveAll(
    target: Float32Array,
    fixed: Float32Array,
    matrix: SparseRows,
    gram: Float64Array,
    steps: number,
  ): number {
    const k = this.k;
    for (let row = 0; row < matrix.rows; row++) {
      for (let a = 0; a < k; a++) this.#x[a] = target[row * k + a];
      const finite = this.solve(
        fixed,
        matrix.indices,
        matrix.offsets[row],
        matrix.offsets[row + 1],
        gram,
        steps,
        0,
      );
      if (!finite) return row;
      for (let a = 0; a < k; a++) target[row * k + a] = this.#x[a];
    }
    return -1;
  }

  /**
   * Solves for one row from the zero vector until the residual's squared norm falls below `tolerance`
   * times its initial value (that of the right-hand side), or after k steps, when exact arithmetic would
   * have converged. Returns the solution, or null when it is not finite.
   */
  solveFromZero(
    fixed: Float32Array,
    columns: Int32Array,
    gram: Float64Array,
    tolerance: number,
  ): Float64Array | null {
    this.#x.fill(0);
    if (!this.solve(fixed, columns, 0, columns.length, gram, this.k, tolerance)) return null;
    return this.#x.slice();
  }

  /**
   * Runs CG on `#x` in place for at most `steps` steps, stopping early once the residual's squared norm
   * falls below `tolerance` times its initial value (or 1e-20). Returns whether the result is finite.
   */
  solve(
    fixed: Float32Array,
    columns: Int32Array,
    start: number,
    end: number,
    gram: Float64Array,
    steps: number,
    tolerance: number,
  ): boolean {
    const k = this.k;
    const alpha = this.alpha;
    const x = this.#x;
    const r = this.#residual;
    const p = this.#direction;
    const product = this.#product;

    // r = b - A x, accumulated as -(YᵀY + λI) x plus, per observed column, ((1 + α) - α y·x) y.
    multiplyDense(gram, x, r, k);
    for (let a = 0; a < k; a++) r[a] = -r[a];
    for (let j = start; j < end; j++) {
      const offset = columns[j] * k;
      const weight = 1 + alpha - alpha * dotRow(fixed, offset, x, k);
      for (let a = 0; a < k; a++) r[a] += weight * fixed[offset + a];
    }

    let residualNorm = 0;
    for (let a = 0; a < k; a++) {
      p[a] = r[a];
      residualNorm += r[a] * r[a];
    }
    // An overflowing confidence weight shows up here first; CG cannot recover from it.
    if (!Number.isFinite(residualNorm)) return false;
    const threshold = Math.max(1e-20, tolerance * residualNorm);

    for (let step = 0; step < steps && residualNorm > threshold; step++) {
      // product = A p
      multiplyDense(gram, p, product, k);
      for (let j = start; j < end; j++) {
        const offset = columns[j] * k;
        const weight = alpha * dotRow(fixed, offset, p, k);
        for (let a = 0; a < k; a++) product[a] += weight * fixed[offset + a];
      }

      let curvature = 0;
      for (let a = 0; a < k; a++) curvature += p[a] * product[a];
      const stepSize = residualNorm / curvature;
      let nextNorm = 0;
      for (let a = 0; a < k; a++) {
        x[a] += stepSize * p[a];
        r[a] -= stepSize * product[a];
        nextNorm += r[a] * r[a];
      }
      const beta = nextNorm / residualNorm;
      for (let a = 0; a < k; a++) p[a] = r[a] + beta * p[a];
      residualNorm = nextNorm;
    }

    let sum = 0;
    for (let a = 0; a < k; a++) sum += x[a];
    return Number.isFinite(sum);
  }
}

/**
 * Writes M v into `out` for a dense k x k row-major M. Two rows at a time share each load of v, and
 * separate running sums hide the addition latency. At k = 100 this measured about 20% faster than one row
 * at a time (Deno 2.9.6, x86-64).
 */
function multiplyDense(matrix: Float64Array, vector: Float64Array, out: Float64Array, k: number): void {
  let a = 0;
  for (; a + 1 < k; a += 2) {
    const first = a * k;
    const second = first + k;
    let sum0 = 0;
    let sum1 = 0;
    let sum2 = 0;
    let sum3 = 0;
    let b = 0;
    for (; b + 1 < k; b += 2) {
      const v0 = vector[b];
      const v1 = vector[b + 1];
      sum0 += matrix[first + b] * v0;
      sum1 += matrix[first + b + 1] * v1;
      sum2 += matrix[second + b] * v0;
      sum3 += matrix[second + b + 1] * v1;
    }
    if (b < k) {
      sum0 += matrix[first + b] * vector[b];
      sum2 += matrix[second + b] * vector[b];
    }
    out[a] = sum0 + sum1;
    out[a + 1] = sum2 + sum3;
  }
  if (a < k) {
    let sum = 0;
    for (let b = 0; b < k; b++) sum += matrix[a * k + b] * vector[b];
    out[a] = sum;
  }
}

/** Returns the dot product of row `offset / k` of `factors` with `vector`. */
function dotRow(factors: Float32Array, offset: number, vector: Float64Array, k: number): number {
  let sum0 = 0;
  let sum1 = 0;
  let sum2 = 0;
  let sum3 = 0;
  let a = 0;
  for (; a + 3 < k; a += 4) {
    sum0 += factors[offset + a] * vector[a];
    sum1 += factors[offset + a + 1] * vector[a + 1];
    sum2 += factors[offset + a + 2] * vector[a + 2];
    sum3 += factors[offset + a + 3] * vector[a + 3];
  }
  for (; a < k; a++) sum0 += factors[offset + a] * vector[a];
  return sum0 + sum1 + sum2 + sum3;
}

/**
 * Returns the WMF objective divided by the number of playlist-track pairs:
 * Σ_{u,i} c_ui (p_ui - x_u·y_i)² + λ (Σ |x_u|² + Σ |y_i|²), with p_ui = 1 and c_ui = 1 + α for observed
 * pairs, p_ui = 0 and c_ui = 1 otherwise. The sum over all pairs uses x_uᵀ (YᵀY) x_u, so it costs
 * O(users k² + nonzeros k) rather than O(users x items).
 */
function trainingLoss(
  playlistFactors: Float32Array,
  itemFactors: Float32Array,
  matrix: SparseRows,
  k: number,
  config: WmfOptions,
): number {
  const gram = gramMatrix(itemFactors, matrix.columns, k, 0);
  const x = new Float64Array(k);
  const gx = new Float64Array(k);
  let loss = 0;
  let playlistNorm = 0;

  for (let row = 0; row < matrix.rows; row++) {
    for (let a = 0; a < k; a++) x[a] = playlistFactors[row * k + a];
    multiplyDense(gram, x, gx, k);
    for (let a = 0; a < k; a++) {
      loss += x[a] * gx[a];
      playlistNorm += x[a] * x[a];
    }

    // The dense term counted every observed pair as (0 - s)² with confidence 1; replace it.
    for (let j = matrix.offsets[row]; j < matrix.offsets[row + 1]; j++) {
      const score = dotRow(itemFactors, matrix.indices[j] * k, x, k);
      loss += (1 + config.alpha) * (1 - score) ** 2 - score * score;
    }
  }

  let itemNorm = 0;
  for (const value of itemFactors) itemNorm += value * value;
  loss += config.regularization * (playlistNorm + itemNorm);
  return loss / (matrix.rows * matrix.columns);
}

/** The fitted factors and settings that {@linkcode WmfRecommender} needs. */
export interface WmfModel {
  /** Track factors, [itemTracks.length x factors], row-major. */
  itemFactors: Float32Array;
  /** Factors of the training playlists, in the order they were passed, [playlists x factors]. */
  playlistFactors: Float32Array;
  /** The corpus track id of each item row. */
  itemTracks: Int32Array;
  /** Number of tracks in the corpus. */
  trackCount: number;
  factors: number;
  regularization: number;
  alpha: number;
  /** Recommender for queries without a known seed track. */
  fallback: Recommender;
}

/**
 * Recommends the tracks whose factors score highest against a query's playlist factors (Hu, Koren and
 * Volinsky 2008, "Collaborative filtering for implicit feedback datasets").
 *
 * A query's playlist factors are folded in: solved from its seed tracks against the fixed track factors,
 * with the same equations as a training playlist, by conjugate gradient until converged. The thesis
 * instead added the evaluation playlists' seeds as extra users before training, so they also shaped the
 * track factors a little.
 *
 * The matrix is playlists x tracks, and each query's seeds are excluded exactly. The original code passed
 * tracks x playlists to a library that expects users x items, so its filter of already-chosen tracks read
 * the wrong row.
 */
export class WmfRecommender implements Recommender {
  readonly name = "wmf";
  readonly model: WmfModel;
  readonly #trackItem: Int32Array;
  readonly #gram: Float64Array;
  readonly #solver: ConjugateGradientSolver;

  constructor(model: WmfModel) {
    this.model = model;
    this.#trackItem = new Int32Array(model.trackCount).fill(-1);
    model.itemTracks.forEach((track, item) => this.#trackItem[track] = item);
    this.#gram = gramMatrix(model.itemFactors, model.itemTracks.length, model.factors, model.regularization);
    this.#solver = new ConjugateGradientSolver(model.factors, model.alpha);
  }

  /**
   * Returns the folded-in playlist factors of a list of seed tracks, or null when no seed has factors.
   * Seeds that are repeated or unknown to the model are ignored.
   *
   * @throws {FactorsNotFiniteError} when the solution is not finite.
   */
  foldIn(seeds: ArrayLike<number>): Float64Array | null {
    const items = this.#seedItems(seeds);
    if (items.length === 0) return null;
    const x = this.#solver.solveFromZero(this.model.itemFactors, items, this.#gram, 1e-12);
    if (x === null) {
      throw new FactorsNotFiniteError("playlist", -1, 0, this.model.alpha, this.model.regularization);
    }
    return x;
  }

  async recommend(queries: PlaylistQuery[], count: number): Promise<Recommendation[]> {
    const results: (Recommendation | undefined)[] = queries.map((query) => this.#recommendOne(query, count));

    const unanswered = queries.filter((_, i) => results[i] === undefined);
    if (unanswered.length > 0) {
      const fallback = await this.model.fallback.recommend(unanswered, count);
      let next = 0;
      for (let i = 0; i < results.length; i++) results[i] ??= fallback[next++];
    }
    return results as Recommendation[];
  }

  /** Returns undefined when no seed of the query has factors. */
  #recommendOne(query: PlaylistQuery, count: number): Recommendation | undefined {
    const x = this.foldIn(query.seeds);
    if (x === null) return undefined;

    const { itemFactors, itemTracks, factors } = this.model;
    const scores = new Float64Array(itemTracks.length);
    for (let item = 0; item < scores.length; item++) {
      scores[item] = dotRow(itemFactors, item * factors, x, factors);
    }

    const seedItems = new Set(this.#seedItems(query.seeds));
    const top = selectTopIndices(scores, count, (item) => seedItems.has(item));
    return {
      pid: query.pid,
      tracks: Int32Array.from(top, (item) => itemTracks[item]),
      scores: Float32Array.from(top, (item) => scores[item]),
    };
  }

  #seedItems(seeds: ArrayLike<number>): Int32Array {
    const items = new Set<number>();
    for (let i = 0; i < seeds.length; i++) {
      const item = seeds[i] >= 0 && seeds[i] < this.#trackItem.length ? this.#trackItem[seeds[i]] : -1;
      if (item >= 0) items.add(item);
    }
    return Int32Array.from(items);
  }
}
