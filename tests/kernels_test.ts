import * as tf from "@tensorflow/tfjs";
import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { type BackendName, selectBackend } from "../lib/model/backend.ts";
import { createRandom } from "../lib/util/random.ts";

const TOLERANCE = 1e-5;

function randomValues(size: number, seed: number): Float32Array {
  const random = createRandom(seed);
  return Float32Array.from({ length: size }, () => random() * 2 - 1);
}

/** Plain JavaScript matrix product of row-major a [m, k] and b [k, n]. */
function referenceMatMul(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float32Array {
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) sum += a[i * k + p] * b[p * n + j];
      out[i * n + j] = sum;
    }
  }
  return out;
}

function transposed(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c];
  }
  return out;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  strictEqual(actual.length, expected.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  }
  ok(worst <= TOLERANCE, `${what}: max difference ${worst} exceeds ${TOLERANCE}`);
}

const ROWS = 7;
const COLUMNS = 5;
const INDICES = [3, 0, 3, 6, 3, 1];

interface GatherResult {
  forward: Float32Array;
  gradient: Float32Array;
}

function gatherAndGradient(): GatherResult {
  const table = tf.tensor2d(randomValues(ROWS * COLUMNS, 1), [ROWS, COLUMNS]);
  const indices = tf.tensor1d(INDICES, "int32");
  const upstream = tf.tensor2d(randomValues(INDICES.length * COLUMNS, 2), [INDICES.length, COLUMNS]);

  const forward = tf.gather(table, indices);
  const gradient = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.gather(x, indices), upstream)))(table);
  const result = {
    forward: forward.dataSync() as Float32Array,
    gradient: gradient.dataSync() as Float32Array,
  };

  tf.dispose([table, indices, upstream, forward, gradient]);
  return result;
}

function referenceGatherGradient(): Float32Array {
  const upstream = randomValues(INDICES.length * COLUMNS, 2);
  const gradient = new Float32Array(ROWS * COLUMNS);
  INDICES.forEach((row, i) => {
    for (let c = 0; c < COLUMNS; c++) gradient[row * COLUMNS + c] += upstream[i * COLUMNS + c];
  });
  return gradient;
}

interface MatMulResult {
  forward: Float32Array;
  gradA: Float32Array;
  gradB: Float32Array;
}

const M = 6;
const K = 9;
const N = 4;

/** a is [M, K] and b is [K, N] as stored before the transpose flags apply. */
function matMulAndGradients(transposeA: boolean, transposeB: boolean): MatMulResult {
  const aValues = randomValues(M * K, 3);
  const bValues = randomValues(K * N, 4);
  const a = transposeA ? tf.tensor2d(transposed(aValues, M, K), [K, M]) : tf.tensor2d(aValues, [M, K]);
  const b = transposeB ? tf.tensor2d(transposed(bValues, K, N), [N, K]) : tf.tensor2d(bValues, [K, N]);
  const upstream = tf.tensor2d(randomValues(M * N, 5), [M, N]);

  const forward = tf.matMul(a, b, transposeA, transposeB);
  const [gradA, gradB] = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
    tf.sum(tf.mul(tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D, transposeA, transposeB), upstream))
  )([a, b]);

  // Report gradients in the untransposed layout, so every flag combination has one expected value.
  const gradAPlain = transposeA ? transposed(gradA.dataSync() as Float32Array, K, M) : gradA.dataSync();
  const gradBPlain = transposeB ? transposed(gradB.dataSync() as Float32Array, N, K) : gradB.dataSync();
  const result = {
    forward: forward.dataSync() as Float32Array,
    gradA: gradAPlain as Float32Array,
    gradB: gradBPlain as Float32Array,
  };
  tf.dispose([a, b, upstream, forward, gradA, gradB]);
  return result;
}

function referenceMatMulResult(): MatMulResult {
  const a = randomValues(M * K, 3);
  const b = randomValues(K * N, 4);
  const upstream = randomValues(M * N, 5);
  return {
    forward: referenceMatMul(a, b, M, K, N),
    gradA: referenceMatMul(upstream, transposed(b, K, N), M, N, K),
    gradB: referenceMatMul(transposed(a, M, K), upstream, K, M, N),
  };
}

const FLAG_COMBINATIONS: [boolean, boolean][] = [[false, false], [true, false], [false, true], [true, true]];

for (const backend of ["cpu", "wasm"] as BackendName[]) {
  Deno.test(`gather gradient on ${backend}`, async () => {
    await selectBackend(backend);
    const result = gatherAndGradient();

    const table = randomValues(ROWS * COLUMNS, 1);
    const expectedForward = INDICES.flatMap((row) =>
      Array.from(table.subarray(row * COLUMNS, (row + 1) * COLUMNS))
    );
    assertClose(result.forward, expectedForward, "gather forward");
    assertClose(result.gradient, referenceGatherGradient(), "gather gradient");
  });

  Deno.test(`segment sum drops out-of-range ids on ${backend}`, async () => {
    await selectBackend(backend);
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]);
    const ids = tf.tensor1d([2, -1, 5], "int32");
    const sum = tf.unsortedSegmentSum(x, ids, 3);

    assertClose(sum.dataSync(), [0, 0, 0, 0, 1, 2], "segment sum");
    tf.dispose([x, ids, sum]);
  });

  for (const [transposeA, transposeB] of FLAG_COMBINATIONS) {
    Deno.test(`matMul transposeA=${transposeA} transposeB=${transposeB} on ${backend}`, async () => {
      await selectBackend(backend);
      const result = matMulAndGradients(transposeA, transposeB);
      const expected = referenceMatMulResult();

      assertClose(result.forward, expected.forward, "forward");
      assertClose(result.gradA, expected.gradA, "gradient of a");
      assertClose(result.gradB, expected.gradB, "gradient of b");
    });
  }
}

Deno.test("slice and split read in place on wasm", async () => {
  const values = Float32Array.from({ length: 2 * 3 * 8 }, (_, i) => i);
  const run = () =>
    tf.tidy(() => {
      const matrix = tf.tensor2d(values, [6, 8]);
      const cube = tf.tensor3d(values, [2, 3, 8]);
      return [
        tf.slice(matrix, [1, 2], [3, 4]),
        tf.slice(matrix, [2, 0], [2, -1]),
        tf.slice(cube, [1, 1, 2], [1, 2, 3]),
        tf.slice(matrix, [0, 0], [0, 8]),
        ...tf.split(matrix, 3, 0),
        ...tf.split(matrix, [3, 5], 1),
        ...tf.split(cube, [1, 2], 1),
      ].map((t) => ({ shape: t.shape, values: Array.from(t.dataSync()) }));
    });

  await selectBackend("cpu");
  const cpu = run();
  await selectBackend("wasm");
  const wasm = run();

  deepStrictEqual(wasm, cpu);
  deepStrictEqual(wasm[0].values, [10, 11, 12, 13, 18, 19, 20, 21, 26, 27, 28, 29]);
  deepStrictEqual(wasm[3].shape, [0, 8]);
});

Deno.test("float one-hot on wasm", async () => {
  await selectBackend("wasm");
  const indices = tf.tensor1d([1, 0, 3, -1], "int32");
  const floats = tf.oneHot(indices, 3, 2.5, -1, "float32");
  const integers = tf.oneHot(indices, 3);

  strictEqual(floats.dtype, "float32");
  deepStrictEqual(Array.from(floats.dataSync()), [-1, 2.5, -1, 2.5, -1, -1, -1, -1, -1, -1, -1, -1]);
  deepStrictEqual(Array.from(integers.dataSync()), [0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  tf.dispose([indices, floats, integers]);
});

Deno.test("batched matMul with transposes on wasm", async () => {
  await selectBackend("cpu");
  const a = randomValues(2 * 3 * 4, 6);
  const b = randomValues(2 * 5 * 4, 7);
  const cpu = tf.tidy(() =>
    tf.matMul(tf.tensor3d(a, [2, 4, 3]), tf.tensor3d(b, [2, 5, 4]), true, true).dataSync()
  );

  await selectBackend("wasm");
  const wasm = tf.tidy(() =>
    tf.matMul(tf.tensor3d(a, [2, 4, 3]), tf.tensor3d(b, [2, 5, 4]), true, true).dataSync()
  );

  assertClose(wasm, cpu, "batched product");
});

Deno.test("fused matMul with transposes on wasm", async () => {
  await selectBackend("cpu");
  const a = randomValues(4 * 3, 8);
  const b = randomValues(5 * 4, 9);
  const bias = randomValues(5, 10);
  const run = () =>
    tf.tidy(() =>
      tf.fused.matMul({
        a: tf.tensor2d(a, [4, 3]),
        b: tf.tensor2d(b, [5, 4]),
        transposeA: true,
        transposeB: true,
        bias: tf.tensor1d(bias),
        activation: "relu",
      }).dataSync()
    );
  const cpu = run();

  await selectBackend("wasm");
  const wasm = run();

  assertClose(wasm, cpu, "fused product");
});

Deno.test("transposed matMul frees its temporaries on wasm", async () => {
  await selectBackend("wasm");
  const a = tf.tensor2d(randomValues(12, 11), [3, 4]);
  const b = tf.tensor2d(randomValues(20, 12), [5, 4]);
  const before = tf.memory().numTensors;
  const backendBefore = tf.engine().backend.numDataIds();

  const product = tf.matMul(a, b, false, true);
  product.dispose();

  strictEqual(tf.memory().numTensors, before);
  strictEqual(tf.engine().backend.numDataIds(), backendBefore);
  tf.dispose([a, b]);
});

Deno.test("tensorflow backend missing gives install steps", async () => {
  const emptyRoot = await Deno.makeTempDir();
  try {
    await rejects(selectBackend("tensorflow", emptyRoot), (error: Error) => {
      ok(error.message.includes("@tensorflow/tfjs-node-gpu"), error.message);
      ok(error.message.includes("deno install --allow-scripts"), error.message);
      ok(error.message.includes("CUDA 11.2"), error.message);
      return true;
    });
  } finally {
    await Deno.remove(emptyRoot, { recursive: true });
  }
});
