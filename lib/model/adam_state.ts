/**
 * Adam's state in a checkpoint: the iteration count, the two moments of every weight and the running decay
 * products, under names that follow the model's weights rather than TensorFlow.js variable names.
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import type { Track2SeqModel } from "./network.ts";

/** The prefix of the optimizer's weight names in a checkpoint. */
export const OPTIMIZER_PREFIX = "optimizer/";

/** A tensor with its name in the weights manifest. */
export type NamedTensor = { name: string; tensor: tf.Tensor };

/** Adam's hyperparameters as a checkpoint stores them. */
export interface AdamConfig {
  name: "adam";
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

/** Returns the hyperparameters of `optimizer`. */
export function adamConfig(optimizer: tf.AdamOptimizer): AdamConfig {
  const config = optimizer.getConfig();
  return {
    name: "adam",
    learningRate: Number(config.learningRate),
    beta1: Number(config.beta1),
    beta2: Number(config.beta2),
    epsilon: Number(config.epsilon),
  };
}

/**
 * Returns the optimizer's iteration count and Adam moments under checkpoint names. Adam keeps its moments by
 * position, in the order in which gradients were applied, which is the model's weight order.
 */
export async function optimizerWeights(
  model: Track2SeqModel,
  optimizer: tf.AdamOptimizer,
): Promise<NamedTensor[]> {
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
  const decay = adamDecayPowers(optimizer);
  if (decay !== undefined) {
    result.push({ name: `${OPTIMIZER_PREFIX}beta1_power`, tensor: decay.accBeta1 });
    result.push({ name: `${OPTIMIZER_PREFIX}beta2_power`, tensor: decay.accBeta2 });
  }
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

export async function restoreOptimizer(
  model: Track2SeqModel,
  config: AdamConfig,
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

  // setWeights recomputes the decay powers as beta^(iterations + 1), which can differ in the last bits
  // from the running products that training accumulates. The saved products make a resumed run exact.
  const decay = adamDecayPowers(optimizer);
  const savedBeta1 = tensors[`${OPTIMIZER_PREFIX}beta1_power`];
  const savedBeta2 = tensors[`${OPTIMIZER_PREFIX}beta2_power`];
  if (decay !== undefined && savedBeta1 !== undefined && savedBeta2 !== undefined) {
    decay.accBeta1.assign(savedBeta1);
    decay.accBeta2.assign(savedBeta2);
  }
  return optimizer;
}

/**
 * Returns Adam's running products beta1^t and beta2^t, which its bias correction divides by. They are
 * private fields of AdamOptimizer in @tensorflow/tfjs-core 4.22. A version without them makes this return
 * undefined, so checkpoints store no products and resumed runs may differ in the last bits.
 */
function adamDecayPowers(
  optimizer: tf.AdamOptimizer,
): { accBeta1: tf.Variable; accBeta2: tf.Variable } | undefined {
  const fields = optimizer as unknown as { accBeta1?: unknown; accBeta2?: unknown };
  if (fields.accBeta1 instanceof tf.Variable && fields.accBeta2 instanceof tf.Variable) {
    return { accBeta1: fields.accBeta1, accBeta2: fields.accBeta2 };
  }
  return undefined;
}
