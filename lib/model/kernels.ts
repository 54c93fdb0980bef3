/**
 * Kernel fixes that make training work on the TensorFlow.js 4.22 wasm backend, registered through the
 * kernel registry of TensorFlow.js.
 *
 * - The wasm backend has no `UnsortedSegmentSum` kernel. That kernel is the gradient of `gather`, so without
 *   it an embedding lookup cannot train. The cpu backend has one, but it runs in O(V x N x E) for V segments,
 *   N rows and E columns. Both backends get an O(N x E) version here.
 * - The wasm `BatchMatMul` and `_FusedMatMul` kernels run about 10 times slower with `transposeA` or
 *   `transposeB` set than an explicit transpose followed by a plain product, and matMul gradients use the
 *   transposed forms. The original kernels are wrapped so that transposed operands are transposed first.
 * - The wasm `Slice` kernel copies its whole input out of the wasm heap before copying the slice. The wasm
 *   `SplitV` kernel slices that way once per part, so splitting a [T * B, 4H] matrix into T steps costs
 *   O(T^2 x B x 4H). Both are replaced by versions that read the heap in place.
 * - The wasm `OneHot` kernel ignores its `dtype` attribute and always writes int32 values, so a float32
 *   one-hot contains 1.4e-45 where it should contain 1. Non-int32 one-hots are written in JavaScript instead.
 * @module
 */

import * as tf from "@tensorflow/tfjs";

/** The part of a backend that the segment sum kernel needs: reading inputs, writing one output. */
interface TensorStore {
  readSync(dataId: object): tf.backend_util.BackendValues;
  disposeData(dataId: object): boolean;
}

/** The wasm backend's methods that allocate an output on its heap and view a tensor's heap memory. */
interface WasmTensorStore extends TensorStore {
  makeOutput(
    shape: number[],
    dtype: tf.DataType,
    memoryOffset?: number,
    values?: tf.backend_util.BackendValues,
  ): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.backend_util.TypedArray;
}

/** The cpu backend's method that stores `values` as a new tensor. */
interface CpuTensorStore extends TensorStore {
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
}

/** Marks the kernel configs installed here, so that installing twice keeps the first wrapper. */
const INSTALLED = Symbol("track2seq kernel fix");

type MarkedKernelConfig = tf.KernelConfig & { [INSTALLED]?: true };

/**
 * Registers the kernel fixes for `backendName`: the segment sum kernel on `wasm` and `cpu`, and the
 * transpose-first matrix products, in-place slicing and a float one-hot on `wasm`. Other backends are left
 * unchanged: tfjs-webgpu 4.22 has its own UnsortedSegmentSum, transposed products, SplitV and float one-hot,
 * and they match wasm in the numeric self-test, gather gradients along both axes included. Calling it again
 * is a no-op.
 *
 * Call it after the backend's package is imported, because the wrappers need the backend's own kernels.
 *
 * @throws {Error} when `backendName` is `wasm` and the wasm package was not imported, so its kernels are
 *   missing.
 */
export function installKernelFixes(backendName: string): void {
  if (backendName === "wasm") {
    replaceKernel(segmentSumConfig("wasm", writeWasmOutput));
    replaceInPlaceSlicing();
    replaceFloatOneHot();
    wrapTransposedProduct("BatchMatMul");
    wrapTransposedProduct("_FusedMatMul");
  } else if (backendName === "cpu") {
    replaceKernel(segmentSumConfig("cpu", writeCpuOutput));
  }
}

/**
 * Registers `config` in place of any kernel of the same name and backend that is not ours. The replaced
 * kernel's setup and dispose functions are kept, because the replacement may still call the replaced kernel,
 * and the engine runs setup functions only for registered kernels.
 */
function replaceKernel(config: MarkedKernelConfig): void {
  const existing = findKernel(config.kernelName, config.backendName);
  if (existing?.[INSTALLED]) {
    return;
  }

  if (existing !== undefined) {
    tf.unregisterKernel(config.kernelName, config.backendName);
  }
  tf.registerKernel({ setupFunc: existing?.setupFunc, disposeFunc: existing?.disposeFunc, ...config });
}

/** Returns the registered kernel, or undefined when there is none (`tf.getKernel` returns undefined then). */
function findKernel(kernelName: string, backendName: string): MarkedKernelConfig | undefined {
  const config: MarkedKernelConfig | undefined = tf.getKernel(kernelName, backendName);
  return config ?? undefined;
}

function segmentSumConfig(
  backendName: string,
  writeOutput: (
    backend: object,
    shape: number[],
    dtype: tf.DataType,
    values: Float32Array | Int32Array,
  ) => tf.TensorInfo,
): MarkedKernelConfig {
  return {
    kernelName: "UnsortedSegmentSum",
    backendName,
    [INSTALLED]: true,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, segmentIds } = inputs;
      if (x === undefined || segmentIds === undefined) {
        throw new TypeError("UnsortedSegmentSum failed: inputs `x` and `segmentIds` are required.");
      }
      const numSegments = Number(attrs?.numSegments);
      const store = backend as TensorStore;
      const values = unsortedSegmentSum(
        store.readSync(x.dataId) as Float32Array | Int32Array,
        store.readSync(segmentIds.dataId) as Int32Array,
        numSegments,
        x.dtype,
      );

      const rowShape = x.shape.slice(segmentIds.shape.length);
      return writeOutput(backend, [numSegments, ...rowShape], x.dtype, values);
    },
  };
}

/**
 * Sums the rows of `x` into `numSegments` output rows: row `i` of `x` is added to row `segmentIds[i]`.
 * A row length is `x.length / segmentIds.length`. Ids outside [0, numSegments) are dropped, as in TensorFlow.
 */
function unsortedSegmentSum(
  x: Float32Array | Int32Array,
  segmentIds: Int32Array,
  numSegments: number,
  dtype: tf.DataType,
): Float32Array | Int32Array {
  const rowSize = segmentIds.length === 0 ? 0 : x.length / segmentIds.length;
  const out = dtype === "int32"
    ? new Int32Array(numSegments * rowSize)
    : new Float32Array(numSegments * rowSize);

  for (let i = 0; i < segmentIds.length; i++) {
    const segment = segmentIds[i];
    if (segment < 0 || segment >= numSegments) {
      continue;
    }
    const from = i * rowSize;
    const to = segment * rowSize;
    for (let j = 0; j < rowSize; j++) {
      out[to + j] += x[from + j];
    }
  }
  return out;
}

function writeWasmOutput(
  backend: object,
  shape: number[],
  dtype: tf.DataType,
  values: Float32Array | Int32Array,
): tf.TensorInfo {
  return (backend as WasmTensorStore).makeOutput(shape, dtype, undefined, values);
}

function writeCpuOutput(
  backend: object,
  shape: number[],
  dtype: tf.DataType,
  values: Float32Array | Int32Array,
): tf.TensorInfo {
  return (backend as CpuTensorStore).makeTensorInfo(shape, dtype, values);
}

/**
 * Wraps the wasm matrix product kernel `kernelName` so that operands with a transpose flag are transposed
 * with the wasm `Transpose` kernel first, and the original kernel then runs with both flags false.
 */
function wrapTransposedProduct(kernelName: "BatchMatMul" | "_FusedMatMul"): void {
  const original = findKernel(kernelName, "wasm");
  const transpose = findKernel("Transpose", "wasm");
  if (original === undefined || transpose === undefined) {
    throw new Error(
      `Installing the wasm ${kernelName} fix failed: the wasm backend has no ${kernelName} or Transpose ` +
        `kernel. Import "@tensorflow/tfjs-backend-wasm" before calling installKernelFixes("wasm").`,
    );
  }
  if (original[INSTALLED]) {
    return;
  }

  const wrapper: MarkedKernelConfig = {
    ...original,
    [INSTALLED]: true,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const transposeA = attrs?.transposeA === true;
      const transposeB = attrs?.transposeB === true;
      if (!transposeA && !transposeB) {
        return original.kernelFunc({ inputs, backend, attrs });
      }

      const { a, b } = inputs;
      if (a === undefined || b === undefined) {
        throw new TypeError(`${kernelName} failed: inputs \`a\` and \`b\` are required.`);
      }
      const swapLastTwo = (t: tf.TensorInfo): tf.TensorInfo =>
        transpose.kernelFunc({
          inputs: { x: t },
          backend,
          attrs: { perm: lastTwoSwapped(t.shape.length) },
        }) as tf.TensorInfo;
      const aPlain = transposeA ? swapLastTwo(a) : a;
      const bPlain = transposeB ? swapLastTwo(b) : b;

      try {
        return original.kernelFunc({
          inputs: { ...inputs, a: aPlain, b: bPlain },
          backend,
          attrs: { ...attrs, transposeA: false, transposeB: false },
        });
      } finally {
        const store = backend as TensorStore;
        if (transposeA) store.disposeData(aPlain.dataId);
        if (transposeB) store.disposeData(bPlain.dataId);
      }
    },
  };
  tf.unregisterKernel(kernelName, "wasm");
  tf.registerKernel(wrapper);
}

/** Returns the permutation [0, 1, ..., rank - 1, rank - 2], which swaps the last two axes. */
function lastTwoSwapped(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

/** Replaces the wasm `Slice` and `SplitV` kernels by ones that read the input in place on the heap. */
function replaceInPlaceSlicing(): void {
  const originalSlice = findKernel("Slice", "wasm");
  const originalSplit = findKernel("SplitV", "wasm");
  if (originalSlice === undefined || originalSplit === undefined) {
    throw new Error(
      "Installing the wasm slicing fix failed: the wasm backend has no Slice or SplitV kernel. Import " +
        '"@tensorflow/tfjs-backend-wasm" before calling installKernelFixes("wasm").',
    );
  }

  replaceKernel({
    kernelName: "Slice",
    backendName: "wasm",
    [INSTALLED]: true,
    kernelFunc: (args) => {
      const x = args.inputs.x;
      if (x === undefined || x.dtype === "string" || x.shape.length === 0) {
        return originalSlice.kernelFunc(args);
      }
      const [begin, size] = tf.slice_util.parseSliceParams(
        x,
        args.attrs?.begin as number | number[],
        args.attrs?.size as number | number[] | undefined,
      );
      return sliceInPlace(args.backend as WasmTensorStore, x, begin, size);
    },
  });

  replaceKernel({
    kernelName: "SplitV",
    backendName: "wasm",
    [INSTALLED]: true,
    kernelFunc: (args) => {
      const x = args.inputs.x;
      if (x === undefined || x.dtype === "string" || x.shape.length === 0) {
        return originalSplit.kernelFunc(args);
      }
      const axis = tf.util.parseAxisParam(args.attrs?.axis as number, x.shape)[0];
      const sizes = tf.backend_util.prepareSplitSize(
        x as tf.Tensor,
        args.attrs?.numOrSizeSplits as number | number[],
        axis,
      );

      const begin: number[] = new Array(x.shape.length).fill(0);
      return sizes.map((partSize) => {
        const size = [...x.shape];
        size[axis] = partSize;
        const part = sliceInPlace(args.backend as WasmTensorStore, x, begin, size);
        begin[axis] += partSize;
        return part;
      });
    },
  });
}

/** Copies the block at `begin` of `size` out of `x` into a new wasm tensor, row run by row run. */
function sliceInPlace(
  store: WasmTensorStore,
  x: tf.TensorInfo,
  begin: number[],
  size: number[],
): tf.TensorInfo {
  const out = store.makeOutput(size, x.dtype);

  // Views are taken after allocating, because an allocation can grow the heap and detach older views.
  const input = store.typedArrayFromHeap(x);
  const output = store.typedArrayFromHeap(out);
  const rank = x.shape.length;
  const strides = tf.util.computeStrides(x.shape);
  const runLength = size[rank - 1];
  const runs = output.length / Math.max(runLength, 1);

  // The leading rank - 1 coordinates of the output advance like an odometer. Each position copies one run.
  const position = new Array(Math.max(rank - 1, 0)).fill(0);
  for (let run = 0; run < runs && runLength > 0; run++) {
    let offset = begin[rank - 1];
    for (let axis = 0; axis < rank - 1; axis++) {
      offset += (begin[axis] + position[axis]) * strides[axis];
    }
    output.set(input.subarray(offset, offset + runLength), run * runLength);

    for (let axis = rank - 2; axis >= 0; axis--) {
      position[axis]++;
      if (position[axis] < size[axis]) break;
      position[axis] = 0;
    }
  }
  return out;
}

/** Replaces the wasm `OneHot` kernel by one that honours a non-int32 `dtype`. */
function replaceFloatOneHot(): void {
  const original = findKernel("OneHot", "wasm");
  if (original === undefined) {
    throw new Error(
      "Installing the wasm one-hot fix failed: the wasm backend has no OneHot kernel. Import " +
        '"@tensorflow/tfjs-backend-wasm" before calling installKernelFixes("wasm").',
    );
  }

  replaceKernel({
    kernelName: "OneHot",
    backendName: "wasm",
    [INSTALLED]: true,
    kernelFunc: (args) => {
      const indices = args.inputs.indices;
      const dtype = args.attrs?.dtype as tf.DataType;
      if (indices === undefined || dtype === "int32") {
        return original.kernelFunc(args);
      }
      const depth = Number(args.attrs?.depth);
      const onValue = Number(args.attrs?.onValue);
      const offValue = Number(args.attrs?.offValue);
      const store = args.backend as WasmTensorStore;
      const out = store.makeOutput([...indices.shape, depth], dtype);

      // Views are taken after allocating, because an allocation can grow the heap and detach older views.
      const positions = store.typedArrayFromHeap(indices);
      const values = store.typedArrayFromHeap(out);
      values.fill(offValue);
      for (let row = 0; row < positions.length; row++) {
        const position = positions[row];
        if (position >= 0 && position < depth) {
          values[row * depth + position] = onValue;
        }
      }
      return out;
    },
  });
}
