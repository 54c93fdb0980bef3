/**
 * One training step of a model whose embedding and output tables live in host memory (tables `host`).
 *
 * The step uploads only the rows its batch reads: the embedding rows of the distinct input tokens, and the
 * output rows and biases of the distinct targets and negatives. They become temporary variables, so one
 * backward pass gives the gradients of the LSTM weights and of exactly those rows. The LSTM weights are
 * updated by the TensorFlow.js Adam optimizer, the rows by {@linkcode SparseAdam} in host memory. The loss is
 * the sampled softmax of the in-heap path, computed from the uploaded rows.
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import type { HostTables } from "./host_tables.ts";
import type { NegativeSampler } from "./negative_sampler.ts";
import type { LstmState, Track2SeqModel } from "./network.ts";
import { sampledSoftmaxFromWeights } from "./softmax_loss.ts";
import type { SparseAdam } from "./sparse_adam.ts";
import type { WindowBatch } from "./token_stream.ts";
import { clipByGlobalNorm } from "./train_step.ts";

/**
 * Numbers tokens by first appearance, so a list of tokens becomes a list of distinct rows plus each token's
 * row. One index serves every step; its table of slots, 4 bytes per token, is reset after each use.
 */
export class RowIndex {
  private readonly slots: Int32Array;

  constructor(vocabSize: number) {
    this.slots = new Int32Array(vocabSize).fill(-1);
  }

  /**
   * Returns the distinct tokens of all `lists`, in order of first appearance, and per list each token's
   * position among them.
   */
  collect(...lists: Int32Array[]): { tokens: Int32Array; positions: Int32Array[] } {
    const distinct: number[] = [];
    const positions = lists.map((list) => {
      const local = new Int32Array(list.length);
      for (let i = 0; i < list.length; i++) {
        const token = list[i];
        let slot = this.slots[token];
        if (slot < 0) {
          slot = distinct.length;
          this.slots[token] = slot;
          distinct.push(token);
        }
        local[i] = slot;
      }
      return local;
    });
    for (const token of distinct) this.slots[token] = -1;
    return { tokens: Int32Array.from(distinct), positions };
  }
}

/** Settings of a host-table step besides the model, batch and state. */
export interface HostStepSettings {
  /** Adam for the LSTM weights, which are the model's variables in the wasm heap. */
  optimizer: tf.AdamOptimizer;
  /** Lazy Adam for the host tables. */
  tableOptimizer: SparseAdam;
  sampler: NegativeSampler;
  rowIndex: RowIndex;
  clipNorm?: number;
}

/**
 * Runs one forward and backward pass with the sampled softmax, updates the LSTM weights with Adam and the
 * uploaded rows of the host tables with lazy Adam. Returns the loss and the carried state.
 */
export async function hostTrainStep(
  model: Track2SeqModel,
  batch: WindowBatch,
  streams: number,
  state: LstmState,
  carryAfter: number,
  settings: HostStepSettings,
): Promise<{ loss: number; state: LstmState }> {
  const tables = model.host as HostTables;
  const sample = settings.sampler.sample(batch.targets);
  const inputs = settings.rowIndex.collect(batch.inputs);
  const outputs = settings.rowIndex.collect(batch.targets, sample.negatives);
  const [inputPositions] = inputs.positions;
  const [targetPositions, negativePositions] = outputs.positions;
  const lstmVariables = model.namedWeights().map((weight) => weight.variable);

  const uploaded = tf.tidy(() => {
    const rows = tables.outputRows(outputs.tokens);
    return {
      embedding: tf.variable(tables.embeddingRows(inputs.tokens), true),
      outputKernel: tf.variable(rows.kernel, true),
      outputBias: tf.variable(rows.bias, true),
    };
  });
  let carried: LstmState | undefined;
  // The gradients of the uploaded rows, kept out of the tidy scope and read back after it.
  let tableGradients: tf.Tensor[] = [];

  let lossTensor: tf.Tensor;
  try {
    lossTensor = tf.tidy(() => {
      const inputRows = tf.tensor1d(inputPositions, "int32");
      const targetRows = tf.tensor1d(targetPositions, "int32");
      const negativeRows = tf.tensor1d(negativePositions, "int32");
      const tableVariables = [uploaded.embedding, uploaded.outputKernel, uploaded.outputBias];

      const { value, grads } = tf.variableGrads(() => {
        const embedded = tf.gather(uploaded.embedding, inputRows) as tf.Tensor2D;
        const { hidden, state: next } = model.runEmbedded(embedded, streams, state, carryAfter);
        carried = { h: next.h.map((t) => tf.keep(t)), c: next.c.map((t) => tf.keep(t)) };
        return sampledSoftmaxFromWeights(hidden, {
          targetWeights: tf.gather(uploaded.outputKernel, targetRows),
          targetBias: tf.gather(uploaded.outputBias, targetRows),
          negativeWeights: tf.transpose(tf.gather(uploaded.outputKernel, negativeRows)) as tf.Tensor2D,
          negativeBias: tf.gather(uploaded.outputBias, negativeRows),
        }, sample);
      }, [...lstmVariables, ...tableVariables]);

      const gradients = [...lstmVariables, ...tableVariables].map((variable) => ({
        name: variable.name,
        tensor: grads[variable.name],
      }));
      if (settings.clipNorm !== undefined) {
        clipByGlobalNorm(gradients, settings.clipNorm);
      }
      const first = lstmVariables.length;
      tableGradients = gradients.slice(first).map(({ tensor }) => tf.keep(tensor));
      settings.optimizer.applyGradients(gradients.slice(0, first));
      return value;
    });
  } finally {
    tf.dispose([uploaded.embedding, uploaded.outputKernel, uploaded.outputBias]);
  }

  // Read with `await data()`, because the webgpu backend cannot read synchronously under Deno.
  let read: Float32Array[];
  try {
    read = await Promise.all(
      [lossTensor, ...tableGradients].map(async (tensor) => await tensor.data() as Float32Array),
    );
  } catch (error) {
    if (carried !== undefined) tf.dispose([...carried.h, ...carried.c]);
    throw error;
  } finally {
    tf.dispose([lossTensor, ...tableGradients]);
  }
  const [lossValue, embedding, outputKernel, outputBias] = read;
  const loss = lossValue[0];
  if (!Number.isFinite(loss)) {
    if (carried !== undefined) tf.dispose([...carried.h, ...carried.c]);
    throw new Error(
      `Training failed: the loss became ${loss}. Lower learningRate or set clipNorm, then train again.`,
    );
  }
  settings.tableOptimizer.update(tables, {
    embedding: { tokens: inputs.tokens, values: embedding },
    outputKernel: { tokens: outputs.tokens, values: outputKernel },
    outputBias: { tokens: outputs.tokens, values: outputBias },
  });
  return { loss, state: carried as LstmState };
}
