/**
 * Lazy Adam for tables in host memory: each step updates only the rows that have a gradient.
 *
 * For a row with a gradient the update is the one of TensorFlow.js's AdamOptimizer, operation by operation
 * in float32, with the same running products beta1^t and beta2^t: m = beta1 m + (1 - beta1) g,
 * v = beta2 v + (1 - beta2) g^2, w -= lr (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + epsilon).
 *
 * A row without a gradient is left as it is, moments included. Dense Adam, the in-heap path, treats that row
 * as having a zero gradient: it decays both moments and still moves the row by lr m / (sqrt(v) + epsilon)
 * as long as m is not zero. Replaying those skipped steps would cost a loop per skipped step for every row,
 * so lazy Adam (as TensorFlow's LazyAdamOptimizer) does not. The two therefore agree exactly while every row
 * that ever had a gradient gets one at every step. The first step is such a case, because the moments of all
 * other rows are still zero and dense Adam does not move them either. After a row misses a step, the two
 * drift apart.
 * @module
 */

import type { HostTables } from "./host_tables.ts";

/** Adam's hyperparameters. */
export interface SparseAdamConfig {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

/** The first and second moments of one table, the same shape as the table. */
export interface TableMoments {
  m: Float32Array;
  v: Float32Array;
}

/** The moments of the three host tables, by the names of {@linkcode HostTables}. */
export interface HostMoments {
  embedding: TableMoments;
  outputKernel: TableMoments;
  outputBias: TableMoments;
}

/** The gradients of some rows of one table: rows in the order of `tokens`, each `width` values. */
export interface RowGradients {
  tokens: Int32Array;
  values: Float32Array;
}

/** The names of the host tables that lazy Adam updates. */
export const HOST_TABLE_NAMES = ["embedding", "outputKernel", "outputBias"] as const;

/** Lazy Adam state and updates for {@linkcode HostTables}. */
export class SparseAdam {
  readonly config: SparseAdamConfig;
  /** beta1^t and beta2^t as float32 running products, t the number of the next update, from 1. */
  accBeta1: number;
  accBeta2: number;
  /** Updates applied so far. */
  iterations = 0;
  /** Null until the first update, as TensorFlow.js creates its moments on the first update. */
  moments: HostMoments | null = null;

  constructor(config: SparseAdamConfig) {
    this.config = { ...config };
    this.accBeta1 = Math.fround(config.beta1);
    this.accBeta2 = Math.fround(config.beta2);
  }

  /**
   * Applies one update to the rows with gradients and advances the running products. Each token may appear
   * only once per table.
   */
  update(
    tables: HostTables,
    gradients: { embedding: RowGradients; outputKernel: RowGradients; outputBias: RowGradients },
  ): void {
    this.moments ??= zeroMoments(tables);
    const f = Math.fround;
    const { learningRate, beta1, beta2, epsilon } = this.config;
    const constants = {
      beta1: f(beta1),
      beta2: f(beta2),
      oneMinusBeta1: f(1 - beta1),
      oneMinusBeta2: f(1 - beta2),
      oneMinusAcc1: f(1 - this.accBeta1),
      oneMinusAcc2: f(1 - this.accBeta2),
      epsilon: f(epsilon),
      negativeRate: f(-learningRate),
    };
    const widths = { embedding: tables.embeddingSize, outputKernel: tables.hiddenUnits, outputBias: 1 };
    for (const name of HOST_TABLE_NAMES) {
      updateRows(tables[name], this.moments[name], widths[name], gradients[name], constants);
    }
    this.accBeta1 = f(this.accBeta1 * constants.beta1);
    this.accBeta2 = f(this.accBeta2 * constants.beta2);
    this.iterations++;
  }
}

/** Returns zero moments for every table. */
export function zeroMoments(tables: HostTables): HostMoments {
  const zeros = (length: number): TableMoments => ({
    m: new Float32Array(length),
    v: new Float32Array(length),
  });
  return {
    embedding: zeros(tables.embedding.length),
    outputKernel: zeros(tables.outputKernel.length),
    outputBias: zeros(tables.outputBias.length),
  };
}

/** The float32 constants of one update. */
interface UpdateConstants {
  beta1: number;
  beta2: number;
  oneMinusBeta1: number;
  oneMinusBeta2: number;
  oneMinusAcc1: number;
  oneMinusAcc2: number;
  epsilon: number;
  negativeRate: number;
}

/** Applies Adam to rows of one table, rounding to float32 after every operation as TensorFlow.js does. */
function updateRows(
  table: Float32Array,
  moments: TableMoments,
  width: number,
  gradients: RowGradients,
  c: UpdateConstants,
): void {
  const f = Math.fround;
  const { m, v } = moments;
  const { tokens, values } = gradients;
  for (let row = 0; row < tokens.length; row++) {
    const base = tokens[row] * width;
    const gradientBase = row * width;
    for (let k = 0; k < width; k++) {
      const i = base + k;
      const g = values[gradientBase + k];
      const newM = f(f(m[i] * c.beta1) + f(g * c.oneMinusBeta1));
      const newV = f(f(v[i] * c.beta2) + f(f(g * g) * c.oneMinusBeta2));
      m[i] = newM;
      v[i] = newV;
      const correctedM = f(newM / c.oneMinusAcc1);
      const correctedV = f(newV / c.oneMinusAcc2);
      const step = f(f(correctedM / f(f(Math.sqrt(correctedV)) + c.epsilon)) * c.negativeRate);
      table[i] = f(step + table[i]);
    }
  }
}
