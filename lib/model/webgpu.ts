/**
 * The checks that guard the TensorFlow.js `webgpu` backend (@tensorflow/tfjs-backend-webgpu 4.22): the
 * adapter must be a hardware one, and every tensor of the workload must fit into one storage buffer binding.
 *
 * Deno 2.9 exposes `navigator.gpu` without any flag or permission. On a machine without a GPU driver it
 * returns a software adapter (llvmpipe through Vulkan) that reports `isFallbackAdapter: true` and trains
 * about seven times slower than the wasm backend.
 *
 * tfjs-webgpu binds every tensor as one storage buffer and never compares its size with the adapter's
 * `maxStorageBufferBindingSize`. Past that limit, which is 128 MiB on the software adapter, its kernels
 * return wrong numbers without an error, so the size check happens here, before any tensor exists.
 * @module
 */

/** Bytes per element of the float32 and int32 tensors that the model uses. */
const BYTES_PER_ELEMENT = 4;

/** Defaults of the shapes that a workload leaves out: those of the Track2Seq training defaults. */
const DEFAULT_WORKLOAD = {
  embeddingSize: 128,
  hiddenUnits: 128,
  batchSize: 32,
  window: 50,
  softmax: "full",
  sampledNegatives: 1000,
  predictionBatch: 64,
} as const;

/** The facts about a WebGPU adapter that decide whether the backend may use it. */
export interface AdapterFacts {
  /** The adapter's description, such as "llvmpipe (LLVM 15.0.6, 256 bits)" or a GPU's name. */
  description: string;
  /** True for a software adapter. */
  isFallbackAdapter: boolean;
  /** Largest storage buffer binding, in bytes. */
  maxStorageBufferBindingSize: number;
  /** Largest buffer, in bytes. */
  maxBufferSize: number;
}

/**
 * The shapes of a training or prediction run, which set the size of the largest tensors. Fields left out
 * take the Track2Seq defaults: embedding and hidden width 128, batch 32, window 50, full softmax, 1,000
 * sampled negatives, 64 playlists predicted together.
 */
export interface WorkloadShape {
  /** Tokens in the vocabulary, the end-of-playlist token included. */
  vocabSize: number;
  embeddingSize?: number;
  hiddenUnits?: number;
  /** Streams per training batch. */
  batchSize?: number;
  /** Tokens per training window. */
  window?: number;
  softmax?: "full" | "sampled";
  sampledNegatives?: number;
  /** Playlists that guided prediction advances together. */
  predictionBatch?: number;
}

/** One tensor of a workload, with its shape and size in bytes. */
export interface BufferSize {
  name: string;
  shape: number[];
  bytes: number;
  /** The change that shrinks this tensor, named in the rejection message. */
  remedy: string;
}

/** The outcome of a check: `ok`, or the reason for rejecting. */
export type Verdict = { ok: true } | { ok: false; reason: string };

/**
 * Reads the facts of the adapter that tfjs-webgpu would use, requested the same way (high-performance).
 *
 * @returns the facts, or null when the runtime has no `navigator.gpu` or no adapter, or the request failed.
 */
export async function describeWebGpuAdapter(): Promise<AdapterFacts | null> {
  const gpu = (navigator as { gpu?: GPU }).gpu;
  if (gpu === undefined) return null;
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  } catch {
    // A runtime without any graphics driver may reject the request instead of returning null.
    return null;
  }
  if (adapter === null) return null;

  // The WebGPU specification moved isFallbackAdapter from the adapter into GPUAdapterInfo, and Deno 2.9
  // implements the newer place. Both are read, so an older or newer runtime is judged the same way.
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const onAdapter = (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter;
  return {
    description: info.description || [info.vendor, info.architecture, info.device].filter(Boolean).join(" "),
    isFallbackAdapter: info.isFallbackAdapter === true || onAdapter === true,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    maxBufferSize: adapter.limits.maxBufferSize,
  };
}

/**
 * Decides whether the webgpu backend may run on `adapter`: there must be one, and it must not be a software
 * (fallback) adapter.
 *
 * @param adapter the adapter's facts, or null when there is none.
 * @param allowFallback accept a software adapter, for diagnostics; it is slower than wasm.
 */
export function judgeAdapter(adapter: AdapterFacts | null, allowFallback = false): Verdict {
  if (adapter === null) {
    return {
      ok: false,
      reason: "no WebGPU adapter: navigator.gpu is missing or returned no adapter. Install the GPU's " +
        "Vulkan driver, or choose the wasm or tensorflow backend.",
    };
  }
  if (adapter.isFallbackAdapter && !allowFallback) {
    return {
      ok: false,
      reason: `the only WebGPU adapter is a software (fallback) adapter, "${adapter.description}", which ` +
        "runs on the CPU and trains slower than the wasm backend. Install the GPU's Vulkan driver, or " +
        "choose the wasm backend.",
    };
  }
  return { ok: true };
}

/**
 * Lists the largest tensors of a Track2Seq workload, largest first: the embedding table and the output
 * kernel with their Adam moments and dense gradients, the training logits of a full softmax (or of a sampled
 * softmax), and the prediction logits.
 *
 * @throws {RangeError} when a size is not a positive integer.
 */
export function workloadBuffers(workload: WorkloadShape): BufferSize[] {
  const shape: Required<WorkloadShape> = { ...DEFAULT_WORKLOAD, ...definedFields(workload) };
  const sizes = [
    "vocabSize",
    "embeddingSize",
    "hiddenUnits",
    "batchSize",
    "window",
    "sampledNegatives",
    "predictionBatch",
  ] as const;
  for (const key of sizes) {
    const value = shape[key];
    if (!(Number.isInteger(value) && value > 0)) {
      throw new RangeError(
        `Sizing the webgpu buffers failed: ${key} must be a positive integer, got ${value}.`,
      );
    }
  }

  const rows = shape.batchSize * shape.window;
  const classes = shape.softmax === "full" ? shape.vocabSize : shape.sampledNegatives + 1;
  const buffers: BufferSize[] = [
    {
      name: "embedding table",
      shape: [shape.vocabSize, shape.embeddingSize],
      bytes: 0,
      remedy: "a smaller vocabulary or embedding size",
    },
    {
      name: "output kernel",
      shape: [shape.hiddenUnits, shape.vocabSize],
      bytes: 0,
      remedy: "a smaller vocabulary or fewer hidden units",
    },
    {
      name: shape.softmax === "full" ? "full-softmax training logits" : "sampled-softmax training logits",
      shape: [rows, classes],
      bytes: 0,
      remedy: shape.softmax === "full"
        ? "--softmax sampled, or a smaller batch size or window"
        : "fewer sampled negatives, or a smaller batch size or window",
    },
    {
      name: "prediction logits",
      shape: [shape.predictionBatch, shape.vocabSize],
      bytes: 0,
      remedy: "fewer playlists predicted together",
    },
  ];
  for (const buffer of buffers) {
    buffer.bytes = buffer.shape.reduce((product, size) => product * size, BYTES_PER_ELEMENT);
  }
  return buffers.sort((a, b) => b.bytes - a.bytes);
}

/**
 * Decides whether every tensor of `workload` fits into one storage buffer binding of `adapter`, the limit
 * past which tfjs-webgpu 4.22 returns wrong numbers silently.
 */
export function judgeWorkload(workload: WorkloadShape, adapter: AdapterFacts): Verdict {
  const limit = Math.min(adapter.maxStorageBufferBindingSize, adapter.maxBufferSize);
  const tooLarge = workloadBuffers(workload).filter((buffer) => buffer.bytes > limit);
  if (tooLarge.length === 0) return { ok: true };

  const listed = tooLarge
    .map((buffer) => `the ${buffer.name} [${buffer.shape.join(", ")}] takes ${mebibytes(buffer.bytes)}`)
    .join("; ");
  const remedies = [...new Set(tooLarge.map((buffer) => buffer.remedy))].join("; ");
  return {
    ok: false,
    reason: `${listed}, over the adapter's maxStorageBufferBindingSize of ${mebibytes(limit)}. ` +
      "tfjs-webgpu returns wrong numbers without an error past that size, so the webgpu backend is not " +
      `used. Use ${remedies}, or choose the wasm or tensorflow backend.`,
  };
}

/** Formats a byte count in MiB with one decimal. */
function mebibytes(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** Returns the fields of `workload` whose value is not undefined, so that spreading keeps the defaults. */
function definedFields(workload: WorkloadShape): WorkloadShape {
  return Object.fromEntries(
    Object.entries(workload).filter(([, value]) => value !== undefined),
  ) as WorkloadShape;
}

/** The part of the tfjs-webgpu backend that reads tensors synchronously. */
interface SyncReader {
  readSync(dataId: object): unknown;
  hasReadSyncWarned?: boolean;
}

/** Marks a backend whose readSync is already wrapped. */
const WRAPPED = Symbol("track2seq readSync wrapper");

/**
 * Replaces the failure of a synchronous read on `backend` (tfjs-webgpu) by an error that explains why and
 * what to do. tfjs-webgpu reads GPU buffers synchronously through a 2D OffscreenCanvas, and Deno 2.9's
 * OffscreenCanvas has no 2D context, so `dataSync` fails there with "Cannot read properties of null".
 * Asynchronous reads (`data()`) work, and Track2Seq's training, evaluation, checkpoints and prediction use
 * them. Values already held on the CPU are still read synchronously.
 */
export function explainSyncReadFailures(backend: object): void {
  const reader = backend as SyncReader & { [WRAPPED]?: true };
  if (reader[WRAPPED] || hasCanvas2d()) return;

  // The backend warns once that synchronous reads are slow, just before they fail here; the error below
  // replaces that warning.
  reader.hasReadSyncWarned = true;
  const original = reader.readSync.bind(backend);
  reader.readSync = (dataId: object) => {
    try {
      return original(dataId);
    } catch (error) {
      throw new Error(
        "Reading a tensor synchronously (dataSync) failed on the webgpu backend: tfjs-webgpu 4.22 reads " +
          "GPU buffers synchronously through a 2D OffscreenCanvas, which Deno does not provide. " +
          "Read the tensor with `await tensor.data()` instead, as Track2Seq's training and prediction " +
          "do, or run this code on the tensorflow, wasm or cpu backend.",
        { cause: error },
      );
    }
  };
  reader[WRAPPED] = true;
}

/** Returns whether this runtime can draw into a 2D OffscreenCanvas, which tfjs-webgpu's dataSync needs. */
export function hasCanvas2d(): boolean {
  const Canvas = (globalThis as { OffscreenCanvas?: new (width: number, height: number) => OffscreenCanvas })
    .OffscreenCanvas;
  if (Canvas === undefined) return false;
  try {
    return new Canvas(1, 1).getContext("2d") !== null;
  } catch {
    return false;
  }
}
