/**
 * Saving and loading Track2Seq checkpoints in the TensorFlow.js weights format. A checkpoint is a folder with
 * `model.json` and `weights.bin`, plus `history.json` when it stores a learning curve. The `model.json` file
 * has a `weightsManifest` whose single group points at `weights.bin`, and a `track2seq` block with the
 * network sizes, the step, the training options and the training position. `weights.bin` contains the raw
 * little-endian tensors: the model's weights, the optimizer's state and the carried LSTM state.
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
import { type NetworkConfig, Track2SeqModel, weightShapes } from "./network.ts";
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
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: specs }],
    track2seq: block,
  };

  const staging = `${dir}.tmp-${crypto.randomUUID()}`;
  await Deno.mkdir(staging, { recursive: true });
  try {
    await writeSynced(join(staging, WEIGHTS_FILE), new Uint8Array(data));
    if (extra.history !== undefined || extra.devHistory !== undefined) {
      const history: HistoryFile = { history: extra.history ?? [], devHistory: extra.devHistory ?? [] };
      await writeSynced(join(staging, HISTORY_FILE), new TextEncoder().encode(JSON.stringify(history)));
    }
    await writeSynced(
      join(staging, MODEL_FILE),
      new TextEncoder().encode(JSON.stringify(modelFile, null, 2) + "\n"),
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

  let model: Track2SeqModel;
  try {
    model = new Track2SeqModel(block.config, modelWeights);
  } catch (error) {
    tf.dispose(Object.values(tensors));
    throw new RangeError(`Loading the checkpoint ${dir} failed: ${(error as Error).message}`);
  }

  // The model took ownership of its tensors; the optimizer copies what it needs into its own variables.
  const leftover = Object.entries(tensors).filter(([name]) => !modelWeights.has(name)).map(([, tensor]) =>
    tensor
  );
  try {
    const position = restorePosition(block, tensors, dir);
    const optimizer = block.optimizer === undefined
      ? undefined
      : await restoreOptimizer(model, block.optimizer, tensors);
    return {
      model,
      optimizer,
      step: block.step,
      options: block.options,
      metadata: block.metadata,
      position,
      history: history?.history,
      devHistory: history?.devHistory,
    };
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

/** Rebuilds the training position of `block`, reading its carried LSTM state from `tensors`. */
function restorePosition(
  block: Track2SeqBlock,
  tensors: tf.NamedTensorMap,
  dir: string,
): TrainingPosition | undefined {
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
      carried[kind].push((tensor.dataSync() as Float32Array).slice());
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
async function writeSynced(path: string, data: Uint8Array): Promise<void> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  try {
    let written = 0;
    while (written < data.length) {
      written += await file.write(data.subarray(written));
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
