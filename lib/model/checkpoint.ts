/**
 * Saving and loading Track2Seq checkpoints in the TensorFlow.js weights format. A checkpoint is a folder with
 * `model.json` and `weights.bin`, plus `history.json` when it stores a learning curve. The `model.json` file
 * has a `weightsManifest` whose single group points at `weights.bin`, and a `track2seq` block with the
 * network sizes, the step, the training options and the training position. `weights.bin` contains the raw
 * little-endian tensors: the model's weights, the optimizer's state and the carried LSTM state.
 *
 * A model with host tables (tables `host`) is saved in the same format. Its tables and their lazy Adam
 * moments are written from host memory after the tensors of the wasm heap, with the output kernel and its
 * moments transposed to the in-heap shape [hiddenUnits, vocabSize]. Loading reads them back into host memory
 * without passing through the wasm heap.
 *
 * TensorFlow.js has no `file://` save handler under Deno, so the files are written here directly.
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { join } from "node:path";
import {
  type AdamConfig,
  adamConfig,
  type NamedTensor,
  OPTIMIZER_PREFIX,
  optimizerWeights,
  restoreOptimizer,
} from "./adam_state.ts";
import { HostTables, type TableStorage, transposeMatrix } from "./host_tables.ts";
import { type NetworkConfig, Track2SeqModel, weightShapes } from "./network.ts";
import { SparseAdam } from "./sparse_adam.ts";
import type { DevLossPoint, LossPoint, TrainingPosition, TrainingState } from "./training_state.ts";

/** The `format` field of a Track2Seq `model.json`. */
export const CHECKPOINT_FORMAT = "track2seq";

const MODEL_FILE = "model.json";
const WEIGHTS_FILE = "weights.bin";
const HISTORY_FILE = "history.json";
const CARRIED_PREFIX = "carried/";

/** The contents of a checkpoint besides the model weights. */
export interface CheckpointExtra {
  /** The Adam optimizer that trained the model; its moments and iteration count are saved when given. */
  optimizer?: tf.AdamOptimizer;
  /** Lazy Adam of a model with host tables; the tables' moments are saved when given. */
  tableOptimizer?: SparseAdam;
  /** Training steps taken so far. Default 0. */
  step?: number;
  /** The training options, stored as JSON for the record. */
  options?: Record<string, unknown>;
  /** Any other JSON-serializable facts to keep with the model, such as the vocabulary's source. */
  metadata?: Record<string, unknown>;
  /** The training position after `step`, so a resumed run continues exactly. */
  position?: TrainingPosition;
  /** The learning curve up to `step`, written to `history.json`. */
  history?: LossPoint[];
  devHistory?: DevLossPoint[];
}

/** A loaded checkpoint. It can be passed as `resumeFrom` to `trainTrack2Seq`. */
export interface Checkpoint extends TrainingState {
  /** Present when the checkpoint contains optimizer state. */
  optimizer?: tf.AdamOptimizer;
  /** Present when the checkpoint has host tables and their moments. */
  tableOptimizer?: SparseAdam;
  options?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
}

/** The `track2seq` block of `model.json`. */
interface Track2SeqBlock {
  config: NetworkConfig;
  step: number;
  options?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  /** Adam hyperparameters, when optimizer weights are stored. */
  optimizer?: AdamConfig;
  /** The training position; its carried LSTM state, when `carried` is true, is stored in `weights.bin`. */
  position?: Omit<TrainingPosition, "carried"> & { carried: boolean };
  /** The storage of the model's tables. Absent means `heap`. */
  tables?: TableStorage;
  /** Lazy Adam's hyperparameters and running products, when the tables' moments are stored. */
  tableOptimizer?: SparseAdamRecord;
}

/** The state of a {@linkcode SparseAdam} besides its moments. */
interface SparseAdamRecord {
  config: SparseAdam["config"];
  iterations: number;
  accBeta1: number;
  accBeta2: number;
}

/** A weight in host memory, written after the tensors of the wasm heap. */
interface HostWeight {
  spec: tf.io.WeightsManifestEntry;
  values: Float32Array;
}

/** The contents of `history.json`. */
interface HistoryFile {
  history: LossPoint[];
  devHistory: DevLossPoint[];
}

interface ModelFile {
  format: string;
  generatedBy: string;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  track2seq: Track2SeqBlock;
}

/**
 * Writes `model` (and the optimizer state in `extra`) to the folder `dir`, replacing any checkpoint there.
 * The files are written to a temporary sibling folder that then takes the place of `dir`, so `dir` never
 * contains a half-written checkpoint. A reader finds the old checkpoint, the new one, or, for a moment, no
 * folder.
 *
 * @throws {RangeError} when the optimizer's state does not match the model's weights.
 */
export async function saveCheckpoint(
  model: Track2SeqModel,
  dir: string,
  extra: CheckpointExtra = {},
): Promise<void> {
  const named: NamedTensor[] = model.namedWeights().map(({ name, variable }) => ({ name, tensor: variable }));
  const block: Track2SeqBlock = {
    config: model.config,
    step: extra.step ?? 0,
    options: extra.options,
    metadata: extra.metadata,
  };
  const hostWeights: HostWeight[] = model.host === null
    ? []
    : hostTableWeights(model.host, extra.tableOptimizer);
  if (model.host !== null) {
    block.tables = "host";
    const adam = extra.tableOptimizer;
    if (adam?.moments) {
      block.tableOptimizer = {
        config: adam.config,
        iterations: adam.iterations,
        accBeta1: adam.accBeta1,
        accBeta2: adam.accBeta2,
      };
    }
  }

  // Tensors made here from plain values are disposed after encoding; the others belong to the caller.
  const temporary: tf.Tensor[] = [];
  let encoded: { data: ArrayBuffer; specs: tf.io.WeightsManifestEntry[] };
  try {
    if (extra.position !== undefined) {
      block.position = { ...extra.position, carried: extra.position.carried !== null };
      named.push(...carriedWeights(extra.position, model.config.hiddenUnits, temporary));
    }

    if (extra.optimizer !== undefined) {
      const [iterations, ...moments] = await optimizerWeights(model, extra.optimizer);
      // getWeights makes a new tensor for the iteration count on every call.
      temporary.push(iterations.tensor);
      named.push(iterations, ...moments);
      block.optimizer = adamConfig(extra.optimizer);
    }
    encoded = await tf.io.encodeWeights(named);
  } finally {
    tf.dispose(temporary);
  }

  const { data, specs } = encoded;
  // TensorFlow.js has two weight groups. The carried state, like the optimizer's, only matters for training.
  for (const spec of specs) {
    const trainingOnly = spec.name.startsWith(OPTIMIZER_PREFIX) || spec.name.startsWith(CARRIED_PREFIX);
    spec.group = trainingOnly ? "optimizer" : "model";
  }
  const modelFile: ModelFile = {
    format: CHECKPOINT_FORMAT,
    generatedBy: `TensorFlow.js ${tf.version_core}`,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: [...specs, ...hostWeights.map(({ spec }) => spec)] }],
    track2seq: block,
  };

  const staging = `${dir}.tmp-${crypto.randomUUID()}`;
  await Deno.mkdir(staging, { recursive: true });
  try {
    await writeSynced(join(staging, WEIGHTS_FILE), [
      new Uint8Array(data),
      ...hostWeights.map(({ values }) => new Uint8Array(values.buffer, values.byteOffset, values.byteLength)),
    ]);
    if (extra.history !== undefined || extra.devHistory !== undefined) {
      const history: HistoryFile = { history: extra.history ?? [], devHistory: extra.devHistory ?? [] };
      await writeSynced(join(staging, HISTORY_FILE), [new TextEncoder().encode(JSON.stringify(history))]);
    }
    await writeSynced(
      join(staging, MODEL_FILE),
      [new TextEncoder().encode(JSON.stringify(modelFile, null, 2) + "\n")],
    );
    await replaceFolder(staging, dir);
  } catch (error) {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    throw error;
  }
}

/**
 * Reads a checkpoint written by {@linkcode saveCheckpoint}. The caller owns the returned model and optimizer
 * and disposes them.
 *
 * @throws {Deno.errors.NotFound} when `dir` has no `model.json` or `weights.bin`.
 * @throws {SyntaxError} when `model.json` is not valid JSON or not a Track2Seq checkpoint.
 * @throws {RangeError} when a weight is missing or has the wrong shape.
 */
export async function loadCheckpoint(dir: string): Promise<Checkpoint> {
  const modelPath = join(dir, MODEL_FILE);
  const modelFile = parseModelFile(await Deno.readTextFile(modelPath), modelPath);
  if (modelFile.track2seq.tables === "host") return await loadHostCheckpoint(dir, modelFile);
  const manifest = modelFile.weightsManifest;
  const specs = manifest.flatMap((group) => group.weights);
  const buffers = await Promise.all(
    manifest.flatMap((group) => group.paths).map((path) => Deno.readFile(join(dir, path))),
  );
  const data = concatenate(buffers);

  const tensors = tf.io.decodeWeights(data, specs);
  const block = modelFile.track2seq;
  const history = await readHistory(join(dir, HISTORY_FILE));
  const modelWeights = new Map<string, tf.Tensor>();
  for (const [name] of weightShapes(block.config)) {
    if (tensors[name] !== undefined) modelWeights.set(name, tensors[name]);
  }
  return await assembleCheckpoint(dir, block, tensors, modelWeights, {
    readHistory: () => Promise.resolve(history),
  });
}

/** The parts of loading that differ between tables in the wasm heap and tables in host memory. */
interface AssembleParts {
  /** The tables in host memory, which the model takes over. Absent for tables in the wasm heap. */
  host?: HostTables;
  /** Returns the learning curve. It is called after the model is made. */
  readHistory: () => Promise<HistoryFile | undefined>;
  /** Restores the lazy Adam of host tables, after the Adam optimizer. Absent for tables in the wasm heap. */
  restoreTableOptimizer?: () => SparseAdam | undefined;
}

/**
 * Makes the model of a checkpoint from its decoded weights, then restores the learning curve, the training
 * position and the optimizers. The model takes the tensors in `modelWeights`, and the other tensors in
 * `tensors` are disposed once the optimizer has copied them. When making the model fails, every tensor is
 * disposed, and when restoring fails, the model is disposed too.
 *
 * @throws {RangeError} naming `dir` when the weights do not fit `block.config`.
 */
async function assembleCheckpoint(
  dir: string,
  block: Track2SeqBlock,
  tensors: tf.NamedTensorMap,
  modelWeights: Map<string, tf.Tensor>,
  parts: AssembleParts,
): Promise<Checkpoint> {
  let model: Track2SeqModel;
  try {
    model = new Track2SeqModel(block.config, modelWeights, parts.host);
  } catch (error) {
    tf.dispose(Object.values(tensors));
    throw new RangeError(`Loading the checkpoint ${dir} failed: ${(error as Error).message}`);
  }

  // The model took ownership of its tensors; the optimizer copies what it needs into its own variables.
  const leftover = Object.entries(tensors).filter(([name]) => !modelWeights.has(name)).map(([, tensor]) =>
    tensor
  );
  try {
    const history = await parts.readHistory();
    const position = await restorePosition(block, tensors, dir);
    const optimizer = block.optimizer === undefined
      ? undefined
      : await restoreOptimizer(model, block.optimizer, tensors);
    const checkpoint: Checkpoint = {
      model,
      optimizer,
      step: block.step,
      options: block.options,
      metadata: block.metadata,
      position,
      history: history?.history,
      devHistory: history?.devHistory,
    };
    if (parts.restoreTableOptimizer !== undefined) checkpoint.tableOptimizer = parts.restoreTableOptimizer();
    return checkpoint;
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    tf.dispose(leftover);
  }
}

/**
 * Returns the carried LSTM state of `position` as tensors [batchSize, hiddenUnits] under checkpoint names,
 * adding each new tensor to `created`.
 */
function carriedWeights(
  position: TrainingPosition,
  hiddenUnits: number,
  created: tf.Tensor[],
): NamedTensor[] {
  const named: NamedTensor[] = [];
  if (position.carried === null) return named;
  for (const kind of ["h", "c"] as const) {
    position.carried[kind].forEach((values, layer) => {
      const tensor = tf.tensor2d(values, [position.batchSize, hiddenUnits]);
      created.push(tensor);
      named.push({ name: `${CARRIED_PREFIX}${kind}_${layer}`, tensor });
    });
  }
  return named;
}

/**
 * Rebuilds the training position of `block`, reading its carried LSTM state from `tensors` with
 * `await data()`, which the webgpu backend needs.
 */
async function restorePosition(
  block: Track2SeqBlock,
  tensors: tf.NamedTensorMap,
  dir: string,
): Promise<TrainingPosition | undefined> {
  if (block.position === undefined) return undefined;
  const { carried: hasCarried, ...rest } = block.position;
  if (!hasCarried) return { ...rest, carried: null };

  const carried: TrainingPosition["carried"] = { h: [], c: [] };
  for (const kind of ["h", "c"] as const) {
    for (let layer = 0; layer < block.config.layers; layer++) {
      const name = `${CARRIED_PREFIX}${kind}_${layer}`;
      const tensor = tensors[name];
      const expected = [rest.batchSize, block.config.hiddenUnits];
      if (tensor === undefined || !tf.util.arraysEqual(tensor.shape, expected)) {
        throw new RangeError(
          `Loading the checkpoint ${dir} failed: the carried LSTM state "${name}" is ` +
            `${tensor === undefined ? "missing" : `[${tensor.shape}]`}, expected [${expected}]. ` +
            `Save the checkpoint again, or resume from an older one.`,
        );
      }
      carried[kind].push((await tensor.data() as Float32Array).slice());
    }
  }
  return { ...rest, carried };
}

/** Reads `history.json`, or returns undefined when the checkpoint has none. */
async function readHistory(path: string): Promise<HistoryFile | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as HistoryFile;
  } catch (error) {
    throw new SyntaxError(
      `Loading the checkpoint failed: ${path} is not valid JSON (${(error as Error).message}). ` +
        `Delete the file to load the checkpoint without its learning curve.`,
    );
  }
}

/**
 * Writes `data` to `path` and flushes it to disk, so that the rename which publishes the checkpoint never
 * becomes visible before the file contents. The folder entry itself is not flushed.
 */
async function writeSynced(path: string, parts: Uint8Array[]): Promise<void> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  try {
    for (const data of parts) {
      let written = 0;
      while (written < data.length) {
        written += await file.write(data.subarray(written));
      }
    }
    await file.sync();
  } finally {
    file.close();
  }
}

function parseModelFile(text: string, path: string): ModelFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new SyntaxError(
      `Loading the checkpoint failed: ${path} is not valid JSON (${(error as Error).message}).`,
    );
  }

  const file = parsed as Partial<ModelFile>;
  if (
    file?.format !== CHECKPOINT_FORMAT || file.track2seq?.config === undefined ||
    !Array.isArray(file.weightsManifest)
  ) {
    throw new SyntaxError(
      `Loading the checkpoint failed: ${path} is not a Track2Seq checkpoint (expected "format": ` +
        `"${CHECKPOINT_FORMAT}", a weightsManifest and a track2seq block). Save it with saveCheckpoint.`,
    );
  }
  return file as ModelFile;
}

function concatenate(buffers: Uint8Array[]): ArrayBuffer {
  const total = buffers.reduce((sum, buffer) => sum + buffer.length, 0);
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const buffer of buffers) {
    joined.set(buffer, offset);
    offset += buffer.length;
  }
  return joined.buffer;
}

/**
 * Moves `staging` to `target`. An existing `target` is renamed out of the way first, because a rename cannot
 * replace a non-empty folder.
 */
async function replaceFolder(staging: string, target: string): Promise<void> {
  const previous = `${target}.old-${crypto.randomUUID()}`;
  let hadPrevious = true;
  try {
    await Deno.rename(target, previous);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    hadPrevious = false;
  }

  try {
    await Deno.rename(staging, target);
  } catch (error) {
    if (hadPrevious) await Deno.rename(previous, target);
    throw error;
  }
  if (hadPrevious) {
    await Deno.remove(previous, { recursive: true });
  }
}

/** Lists the checkpoint names of the host tables, with their in-heap shapes and host array names. */
function hostTableLayout(
  host: HostTables,
): { name: string; key: "embedding" | "outputKernel" | "outputBias"; shape: number[] }[] {
  return [
    { name: "embedding", key: "embedding", shape: [host.vocabSize, host.embeddingSize] },
    { name: "output/kernel", key: "outputKernel", shape: [host.hiddenUnits, host.vocabSize] },
    { name: "output/bias", key: "outputBias", shape: [host.vocabSize] },
  ];
}

/**
 * Returns the host tables, and the moments of `adam` when it has any, as weights in the in-heap layout:
 * the output kernel and its moments transposed to [hiddenUnits, vocabSize].
 */
function hostTableWeights(host: HostTables, adam: SparseAdam | undefined): HostWeight[] {
  const weights: HostWeight[] = [];
  const inHeapLayout = (values: Float32Array, key: string) =>
    key === "outputKernel" ? transposeMatrix(values, host.vocabSize, host.hiddenUnits) : values;
  for (const { name, key, shape } of hostTableLayout(host)) {
    weights.push({
      spec: { name, shape, dtype: "float32", group: "model" },
      values: inHeapLayout(host[key], key),
    });
  }
  const moments = adam?.moments;
  if (moments) {
    for (const kind of ["m", "v"] as const) {
      for (const { name, key, shape } of hostTableLayout(host)) {
        weights.push({
          spec: { name: `${OPTIMIZER_PREFIX}${name}/${kind}`, shape, dtype: "float32", group: "optimizer" },
          values: inHeapLayout(moments[key][kind], key),
        });
      }
    }
  }
  return weights;
}

/**
 * Loads a checkpoint saved from a model with host tables: the tables and their moments go straight from
 * the file into host memory, the other weights into the wasm heap.
 */
async function loadHostCheckpoint(dir: string, modelFile: ModelFile): Promise<Checkpoint> {
  const block = modelFile.track2seq;
  const config = block.config;
  const manifest = modelFile.weightsManifest;
  if (manifest.length !== 1 || manifest[0].paths.length !== 1) {
    throw new SyntaxError(
      `Loading the checkpoint ${dir} failed: a checkpoint with host tables has one weights file, this one ` +
        `lists ${manifest.flatMap((group) => group.paths).length}. Save it again with saveCheckpoint.`,
    );
  }

  const sizes = {
    vocabSize: config.vocabSize,
    embeddingSize: config.embeddingSize,
    hiddenUnits: config.hiddenUnits,
  };
  const layout = hostTableLayout(sizes as HostTables);
  const hostNames = new Set(
    layout.flatMap(({ name }) => [name, `${OPTIMIZER_PREFIX}${name}/m`, `${OPTIMIZER_PREFIX}${name}/v`]),
  );
  const hostValues = new Map<string, Float32Array>();
  const heapSpecs: tf.io.WeightsManifestEntry[] = [];
  const heapParts: Uint8Array[] = [];

  const file = await Deno.open(join(dir, manifest[0].paths[0]), { read: true });
  try {
    let offset = 0;
    for (const spec of manifest[0].weights) {
      const bytes = spec.shape.reduce((product, size) => product * size, 1) * bytesPerElement(spec, dir);
      const data = await readRange(file, offset, bytes, dir);
      offset += bytes;
      if (hostNames.has(spec.name)) {
        const expected = layout.find(({ name }) =>
          spec.name === name || spec.name.startsWith(`${OPTIMIZER_PREFIX}${name}/`)
        );
        if (spec.dtype !== "float32" || !tf.util.arraysEqual(spec.shape, expected?.shape ?? [])) {
          throw new RangeError(
            `Loading the checkpoint ${dir} failed: weight "${spec.name}" is ${spec.dtype} [${spec.shape}], ` +
              `expected float32 [${expected?.shape}]. Save the checkpoint again.`,
          );
        }
        hostValues.set(spec.name, new Float32Array(data.buffer, data.byteOffset, data.byteLength / 4));
      } else {
        heapSpecs.push(spec);
        heapParts.push(data);
      }
    }
  } finally {
    file.close();
  }

  const fromFile = (name: string): Float32Array => {
    const values = hostValues.get(name);
    if (values === undefined) {
      throw new RangeError(
        `Loading the checkpoint ${dir} failed: weight "${name}" is missing. Save the checkpoint again.`,
      );
    }
    return name.includes("output/kernel")
      ? transposeMatrix(values, config.hiddenUnits, config.vocabSize)
      : values;
  };
  const host = new HostTables(sizes, {
    embedding: fromFile("embedding"),
    outputKernel: fromFile("output/kernel"),
    outputBias: fromFile("output/bias"),
  });

  const tensors = tf.io.decodeWeights(concatenate(heapParts), heapSpecs);
  const modelWeights = new Map<string, tf.Tensor>();
  for (const [name] of weightShapes(config)) {
    if (tensors[name] !== undefined && !hostNames.has(name)) modelWeights.set(name, tensors[name]);
  }
  return await assembleCheckpoint(dir, block, tensors, modelWeights, {
    host,
    readHistory: () => readHistory(join(dir, HISTORY_FILE)),
    restoreTableOptimizer: () => {
      if (block.tableOptimizer === undefined) return undefined;
      const tableOptimizer = new SparseAdam(block.tableOptimizer.config);
      tableOptimizer.iterations = block.tableOptimizer.iterations;
      tableOptimizer.accBeta1 = block.tableOptimizer.accBeta1;
      tableOptimizer.accBeta2 = block.tableOptimizer.accBeta2;
      const moment = (name: string, kind: "m" | "v") => fromFile(`${OPTIMIZER_PREFIX}${name}/${kind}`);
      tableOptimizer.moments = {
        embedding: { m: moment("embedding", "m"), v: moment("embedding", "v") },
        outputKernel: { m: moment("output/kernel", "m"), v: moment("output/kernel", "v") },
        outputBias: { m: moment("output/bias", "m"), v: moment("output/bias", "v") },
      };
      return tableOptimizer;
    },
  });
}

/** Returns the bytes per value of a weight's dtype. */
function bytesPerElement(spec: tf.io.WeightsManifestEntry, dir: string): number {
  if (spec.quantization !== undefined || !["float32", "int32"].includes(spec.dtype)) {
    throw new SyntaxError(
      `Loading the checkpoint ${dir} failed: weight "${spec.name}" is stored as ${spec.dtype}` +
        `${
          spec.quantization === undefined ? "" : " quantized"
        }, but checkpoints store float32 and int32 only.`,
    );
  }
  return 4;
}

/** Reads `length` bytes at `offset` of `file` into a new array. */
async function readRange(
  file: Deno.FsFile,
  offset: number,
  length: number,
  dir: string,
): Promise<Uint8Array> {
  const data = new Uint8Array(length);
  await file.seek(offset, Deno.SeekMode.Start);
  let read = 0;
  while (read < length) {
    const count = await file.read(data.subarray(read));
    if (count === null) {
      throw new RangeError(
        `Loading the checkpoint ${dir} failed: ${WEIGHTS_FILE} ends after ${offset + read} bytes, but its ` +
          `manifest lists ${offset + length}. Resume from an intact checkpoint.`,
      );
    }
    read += count;
  }
  return data;
}
