/**
 * One training step: forward and backward pass over a window of all streams, and the Adam update.
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import type { NegativeSampler } from "./negative_sampler.ts";
import type { LstmState, Track2SeqModel } from "./network.ts";
import { fullSoftmaxLosses, sampledSoftmaxLoss } from "./softmax_loss.ts";
import type { WindowBatch } from "./token_stream.ts";

/**
 * Runs one forward and backward pass and applies the Adam update. Returns the loss and the carried state.
 * The loss is read with `await data()`, because the webgpu backend cannot read synchronously under Deno.
 */
export async function trainStep(
  model: Track2SeqModel,
  optimizer: tf.AdamOptimizer,
  variables: tf.Variable[],
  batch: WindowBatch,
  streams: number,
  state: LstmState,
  carryAfter: number,
  settings: { sampler?: NegativeSampler; clipNorm?: number },
): Promise<{ loss: number; state: LstmState }> {
  const negatives = settings.sampler?.sample(batch.targets);
  let carried: LstmState | undefined;

  const lossTensor = tf.tidy(() => {
    const inputs = tf.tensor1d(batch.inputs, "int32");
    const targets = tf.tensor1d(batch.targets, "int32");

    const { value, grads } = tf.variableGrads(() => {
      const { hidden, state: next } = model.run(inputs, streams, state, carryAfter);
      carried = { h: next.h.map((t) => tf.keep(t)), c: next.c.map((t) => tf.keep(t)) };
      return negatives === undefined
        ? tf.mean(fullSoftmaxLosses(hidden, model.outputKernel, model.outputBias, targets))
        : sampledSoftmaxLoss(model, hidden, targets, negatives);
    }, variables);

    const gradients = variables.map((variable) => ({ name: variable.name, tensor: grads[variable.name] }));
    if (settings.clipNorm !== undefined) {
      clipByGlobalNorm(gradients, settings.clipNorm);
    }
    optimizer.applyGradients(gradients);
    return value;
  });

  let loss: number;
  try {
    loss = (await lossTensor.data() as Float32Array)[0];
  } catch (error) {
    tf.dispose([...carried!.h, ...carried!.c]);
    throw error;
  } finally {
    lossTensor.dispose();
  }
  if (!Number.isFinite(loss)) {
    tf.dispose([...carried!.h, ...carried!.c]);
    throw new Error(
      `Training failed: the loss became ${loss}. Lower learningRate or set clipNorm, then train again.`,
    );
  }
  return { loss, state: carried as LstmState };
}

/** Rescales `gradients` in place so their global L2 norm is at most `clipNorm`. Call inside `tf.tidy`. */
export function clipByGlobalNorm(gradients: { name: string; tensor: tf.Tensor }[], clipNorm: number): void {
  const squares = gradients.map(({ tensor }) => tf.sum(tf.square(tensor)));
  const norm = tf.sqrt(tf.addN(squares));
  const scale = tf.div(clipNorm, tf.maximum(norm, clipNorm));
  for (const gradient of gradients) {
    gradient.tensor = tf.mul(gradient.tensor, scale);
  }
}
