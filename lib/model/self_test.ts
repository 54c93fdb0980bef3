/**
 * A numeric self-test of a TensorFlow.js backend: the kernels that Track2Seq training and prediction use,
 * run on small fixed inputs and compared with a reference backend within a tolerance.
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { fullSoftmaxLosses } from "./softmax_loss.ts";

/** The values of every check, by check name. Indices are int32, everything else float32. */
export type SelfTestValues = Record<string, Float32Array | Int32Array>;

/** One check whose values differ from the reference by more than the tolerance. */
export interface SelfTestMismatch {
  check: string;
  /** Position of the largest difference. */
  index: number;
  expected: number;
  actual: number;
}

/** The outcome of comparing a backend's values with the reference's. */
export interface SelfTestResult {
  passed: boolean;
  /** Names of the checks compared. */
  checks: string[];
  /** Largest absolute difference over all float checks. */
  maxError: number;
  mismatches: SelfTestMismatch[];
}

/** Tolerance of the comparison: |actual - expected| <= absolute + relative * |expected|. */
export interface Tolerance {
  absolute: number;
  relative: number;
}

/**
 * Default tolerance. float32 kernels that sum in another order differ by about 1e-6 relative on these
 * sizes, while a wrong kernel (a dropped row, a swapped transpose, a stale buffer) is off by far more.
 */
export const DEFAULT_TOLERANCE: Tolerance = { absolute: 1e-4, relative: 1e-3 };

/**
 * Runs every check on the active backend and reads the values back asynchronously, because tfjs-webgpu
 * cannot read synchronously under Deno. The checks cover matrix products with and without transposes and a
 * fused bias, an LSTM step and its gradients, softmax, logSumExp and top-k. They also cover gather along
 * both axes with its gradient (UnsortedSegmentSum), scatterND, a float one-hot and where. Last come the
 * full-softmax loss of training with its gradients, and one Adam update.
 */
export async function computeSelfTestValues(): Promise<SelfTestValues> {
  const tensors = tf.tidy(() => buildChecks());
  const values: SelfTestValues = {};
  try {
    for (const [name, tensor] of Object.entries(tensors)) {
      values[name] = (await tensor.data()) as Float32Array | Int32Array;
    }
  } finally {
    tf.dispose(Object.values(tensors));
  }
  return values;
}

/**
 * Compares `actual` with `expected` check by check. Integer checks (top-k indices) must match exactly, float
 * checks within `tolerance`. A check missing from `actual`, or of another length, is a mismatch.
 */
export function compareSelfTestValues(
  expected: SelfTestValues,
  actual: SelfTestValues,
  tolerance: Tolerance = DEFAULT_TOLERANCE,
): SelfTestResult {
  const mismatches: SelfTestMismatch[] = [];
  let maxError = 0;

  for (const [check, reference] of Object.entries(expected)) {
    const values = actual[check];
    if (values === undefined || values.length !== reference.length) {
      mismatches.push({ check, index: -1, expected: reference.length, actual: values?.length ?? 0 });
      continue;
    }

    const exact = reference instanceof Int32Array;
    let worst = -1;
    let worstExcess = 0;
    for (let i = 0; i < reference.length; i++) {
      const error = Math.abs(values[i] - reference[i]);
      if (!exact && Number.isFinite(error)) maxError = Math.max(maxError, error);
      const allowed = exact ? 0 : tolerance.absolute + tolerance.relative * Math.abs(reference[i]);
      // NaN fails the comparison below, so a NaN anywhere counts as a mismatch.
      const excess = error <= allowed ? 0 : Number.isNaN(error) ? Infinity : error - allowed;
      if (excess > worstExcess) {
        worstExcess = excess;
        worst = i;
      }
    }
    if (worst >= 0) {
      mismatches.push({ check, index: worst, expected: reference[worst], actual: values[worst] });
    }
  }
  return { passed: mismatches.length === 0, checks: Object.keys(expected), maxError, mismatches };
}

/** Describes a result in one line, naming up to three failed checks. */
export function describeSelfTest(result: SelfTestResult, reference: string): string {
  if (result.passed) {
    return `self-test passed: ${result.checks.length} checks match ${reference} (max error ` +
      `${result.maxError.toExponential(1)})`;
  }
  const failed = result.mismatches.slice(0, 3).map((mismatch) =>
    mismatch.index < 0
      ? `${mismatch.check} has ${mismatch.actual} values where ${reference} has ${mismatch.expected}`
      : `${mismatch.check}[${mismatch.index}] is ${mismatch.actual} where ${reference} gives ${mismatch.expected}`
  );
  const more = result.mismatches.length > 3 ? ` and ${result.mismatches.length - 3} more` : "";
  return `self-test failed: ${failed.join("; ")}${more}`;
}

/** Fills a tensor of `shape` with fixed values in [-scale, scale) from a linear congruential generator. */
function fixed(shape: number[], seed: number, scale = 1): tf.Tensor {
  const size = shape.reduce((product, n) => product * n, 1);
  const values = new Float32Array(size);
  let state = seed >>> 0;
  for (let i = 0; i < size; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    values[i] = (state / 2 ** 32 * 2 - 1) * scale;
  }
  return tf.tensor(values, shape);
}

/** Builds every check's tensor. Call inside `tf.tidy`. */
function buildChecks(): Record<string, tf.Tensor> {
  const checks: Record<string, tf.Tensor> = {};

  // Matrix products in every transpose form, as the model's forward pass and matMul gradients use them.
  const a = fixed([6, 5], 1) as tf.Tensor2D;
  const b = fixed([5, 7], 2) as tf.Tensor2D;
  checks.matMul = tf.matMul(a, b);
  checks.matMulTransposeA = tf.matMul(tf.transpose(a), fixed([5, 4], 3) as tf.Tensor2D, true, false);
  checks.matMulTransposeB = tf.matMul(a, fixed([8, 5], 4) as tf.Tensor2D, false, true);
  checks.fusedMatMulBias = tf.fused.matMul({ a, b, bias: fixed([7], 5) });

  // One LSTM step over a batch of 3 with 4 units, with the gradients of a weighted sum of its outputs.
  const x = fixed([3, 5], 6);
  const h0 = fixed([3, 4], 7, 0.5);
  const c0 = fixed([3, 4], 8, 0.5);
  const kernel = fixed([5, 16], 9, 0.5);
  const recurrent = fixed([4, 16], 10, 0.5);
  const lstmBias = fixed([16], 11, 0.1);
  const outputWeights = fixed([3, 8], 12);
  const lstm = (input: tf.Tensor, w: tf.Tensor, u: tf.Tensor) => {
    const z = tf.add(tf.add(tf.matMul(input as tf.Tensor2D, w as tf.Tensor2D), tf.matMul(h0, u)), lstmBias);
    const [i, f, o, g] = tf.split(z, 4, 1);
    const c = tf.add(tf.mul(tf.sigmoid(f), c0), tf.mul(tf.sigmoid(i), tf.tanh(g)));
    const h = tf.mul(tf.sigmoid(o), tf.tanh(c));
    return tf.concat([h, c], 1);
  };
  checks.lstmStep = lstm(x, kernel, recurrent);
  const lstmGrads = tf.grads((input, w, u) => tf.sum(tf.mul(lstm(input, w, u), outputWeights)))([
    x,
    kernel,
    recurrent,
  ]);
  checks.lstmGradInput = lstmGrads[0];
  checks.lstmGradKernel = lstmGrads[1];
  checks.lstmGradRecurrent = lstmGrads[2];

  // Softmax, logSumExp and top-k on logits of 37 classes. The top-k input has values 0.01 apart, so its
  // order cannot depend on rounding.
  const logits = fixed([4, 37], 13, 3);
  checks.softmax = tf.softmax(logits);
  checks.logSumExp = tf.logSumExp(logits, 1);
  const permuted = tf.tensor2d(
    Array.from({ length: 3 * 40 }, (_, i) => ((i * 37 + 11) % 120) * 0.01),
    [3, 40],
  );
  const top = tf.topk(permuted, 5, true);
  checks.topkValues = top.values;
  checks.topkIndices = top.indices;

  // Embedding lookups with repeated ids along both axes, and their gradients through UnsortedSegmentSum.
  const table = fixed([9, 6], 14);
  const ids = tf.tensor1d([3, 0, 3, 8, 5, 3, 1], "int32");
  const rowWeights = fixed([7, 6], 15);
  const columnIds = tf.tensor1d([5, 2, 5, 0, 1, 5, 4], "int32");
  const columnWeights = fixed([9, 7], 16);
  checks.gatherRows = tf.gather(table, ids);
  checks.gatherColumns = tf.gather(table, columnIds, 1);
  checks.gatherRowsGrad = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, ids), rowWeights)))(table);
  checks.gatherColumnsGrad = tf.grad((t: tf.Tensor) =>
    tf.sum(tf.mul(tf.gather(t, columnIds, 1), columnWeights))
  )(table);

  // scatterND and a float one-hot, as in the softmax gradients, and where, as in prediction masks.
  checks.scatterNd = tf.scatterND(
    tf.tensor2d([[0, 2], [1, 4], [2, 0], [3, 4]], [4, 2], "int32"),
    tf.tensor1d([1.5, -2, 0.25, 3]),
    [4, 6],
  );
  checks.oneHotFloat = tf.oneHot(tf.tensor1d([2, 0, 5, 1], "int32"), 6, 1, 0, "float32");
  checks.where = tf.where(tf.tensor1d([true, false, true, false], "bool"), fixed([4], 17), fixed([4], 18));

  // The full-softmax loss of training over 8 rows and 11 classes, with its gradients.
  const hidden = fixed([8, 4], 19) as tf.Tensor2D;
  const outputKernel = fixed([4, 11], 20);
  const outputBias = fixed([11], 21, 0.1);
  const labels = tf.tensor1d([0, 3, 10, 3, 7, 1, 2, 9], "int32");
  checks.fullSoftmaxLosses = fullSoftmaxLosses(hidden, outputKernel, outputBias, labels);
  const lossGrads = tf.grads((hid, ker, bia) =>
    tf.mean(fullSoftmaxLosses(hid as tf.Tensor2D, ker, bia, labels))
  )([hidden, outputKernel, outputBias]);
  checks.fullSoftmaxGradHidden = lossGrads[0];
  checks.fullSoftmaxGradKernel = lossGrads[1];
  checks.fullSoftmaxGradBias = lossGrads[2];

  // One Adam update of a small variable, read back as the updated value.
  const variable = tf.variable(fixed([5, 3], 22), true, `selfTest${selfTestRuns++}`);
  const optimizer = tf.train.adam(0.01);
  optimizer.applyGradients([{ name: variable.name, tensor: fixed([5, 3], 23) }]);
  checks.adamUpdate = variable.clone();
  optimizer.dispose();
  variable.dispose();

  return checks;
}

/** Counts self-test runs, so each run's Adam variable has its own name. */
let selfTestRuns = 0;
