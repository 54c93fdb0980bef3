/**
 * Saving and loading Track2Seq checkpoints in the TensorFlow.js weights format. A checkpoint is a folder with
 * `model.json` and `weights.bin`. The `model.json` file has a `weightsManifest` whose single group points at
 * `weights.bin`, and a `track2seq` block with the network sizes, the step and the training options.
 * `weights.bin` contains the raw little-endian tensors.
 *
 * TensorFlow.js has no `file://` save handler under Deno, so the files are written here directly.
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { join } from "node:path";
import { type NetworkConfig, Track2SeqModel, weightShapes } from "./network.ts";
import type { TrainingState } from "./train.ts";

/** The `format` field of a Track2Seq `model.json`. */
export const CHECKPOINT_FORMAT = "track2seq";

/** A tensor with its name in the weights manifest. */
type NamedTensor = { name: string; tensor: tf.Tensor };

const MODEL_FILE = "model.json";
const WEIGHTS_FILE = "weights.bin";
const OPTIMIZER_PREFIX = "optimizer/";

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
  optimizer?: { name: "adam"; learningRate: number; beta1: number; beta2: number; epsilon: number };
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

  if (extra.optimizer !== undefined) {
    named.push(...await optimizerWeights(model, extra.optimizer));
    const config = extra.optimizer.getConfig();
    block.optimizer = {
      name: "adam",
      learningRate: Number(config.learningRate),
      beta1: Number(config.beta1),
      beta2: Number(config.beta2),
      epsilon: Number(config.epsilon),
    };
  }

  const { data, specs } = await tf.io.encodeWeights(named);
  for (const spec of specs) {
    spec.group = spec.name.startsWith(OPTIMIZER_PREFIX) ? "optimizer" : "model";
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
    await Deno.writeFile(join(staging, WEIGHTS_FILE), new Uint8Array(data));
    await Deno.writeTextFile(join(staging, MODEL_FILE), JSON.stringify(modelFile, null, 2) + "\n");
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
    const optimizer = block.optimizer === undefined
      ? undefined
      : await restoreOptimizer(model, block.optimizer, tensors);
    return { model, optimizer, step: block.step, options: block.options, metadata: block.metadata };
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    tf.dispose(leftover);
  }
}

/**
 * Returns the optimizer's iteration count and Adam moments under checkpoint names. Adam keeps its moments by
 * position, in the order in which gradients were applied, which is the model's weight order.
 */
async function optimizerWeights(model: Track2SeqModel, optimizer: tf.AdamOptimizer): Promise<NamedTensor[]> {
  const weights = await optimizer.getWeights();
  const [iterations, ...moments] = weights;
  const named = model.namedWeights();
  if (moments.length !== 0 && moments.length !== 2 * named.length) {
    throw new RangeError(
      `Saving the checkpoint failed: the optimizer has ${moments.length} moments, expected ` +
        `${
          2 * named.length
        } for the model's ${named.length} weights. Save the optimizer that trained this model.`,
    );
  }

  const result: NamedTensor[] = [{ name: `${OPTIMIZER_PREFIX}iterations`, tensor: iterations.tensor }];
  for (let i = 0; i < moments.length; i++) {
    const weight = named[i % named.length];
    if (!tf.util.arraysEqual(moments[i].tensor.shape, weight.variable.shape)) {
      throw new RangeError(
        `Saving the checkpoint failed: optimizer moment ${moments[i].name} has shape ` +
          `[${moments[i].tensor.shape}], but weight ${weight.name} has [${weight.variable.shape}].`,
      );
    }
    const kind = i < named.length ? "m" : "v";
    result.push({ name: `${OPTIMIZER_PREFIX}${weight.name}/${kind}`, tensor: moments[i].tensor });
  }
  return result;
}

async function restoreOptimizer(
  model: Track2SeqModel,
  config: NonNullable<Track2SeqBlock["optimizer"]>,
  tensors: tf.NamedTensorMap,
): Promise<tf.AdamOptimizer> {
  const optimizer = tf.train.adam(config.learningRate, config.beta1, config.beta2, config.epsilon);
  const iterations = tensors[`${OPTIMIZER_PREFIX}iterations`];
  const named = model.namedWeights();
  const first = named.map(({ name }) => tensors[`${OPTIMIZER_PREFIX}${name}/m`]);
  const second = named.map(({ name }) => tensors[`${OPTIMIZER_PREFIX}${name}/v`]);
  if (iterations === undefined) {
    return optimizer;
  }

  // A checkpoint saved before the first update has an iteration count but no moments.
  if (first.every((t) => t === undefined) && second.every((t) => t === undefined)) {
    return optimizer;
  }
  const missing = named.filter((_, i) => first[i] === undefined || second[i] === undefined).map(({ name }) =>
    name
  );
  if (missing.length > 0) {
    optimizer.dispose();
    throw new RangeError(
      `Loading the checkpoint failed: optimizer moments are missing for ${missing.join(", ")}. ` +
        `Load it without optimizer state by removing the "optimizer" entry of the track2seq block.`,
    );
  }

  await optimizer.setWeights([
    { name: "iter", tensor: iterations },
    ...named.map(({ variable }, i) => ({ name: `${variable.name}/m`, tensor: first[i] as tf.Tensor })),
    ...named.map(({ variable }, i) => ({ name: `${variable.name}/v`, tensor: second[i] as tf.Tensor })),
  ]);
  return optimizer;
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
