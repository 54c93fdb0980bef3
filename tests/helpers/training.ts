import * as tf from "@tensorflow/tfjs";
import { strictEqual } from "node:assert/strict";
import { type TrainOptions, trainTrack2Seq } from "../../lib/model/train.ts";

/**
 * Trains on `tokens` with `options` and checks that only the model's weights and their optimizer state
 * remain as tensors. It then disposes the model and optimizer and checks that no tensor is left.
 */
export async function assertTrainingLeavesNoTensors(
  tokens: Int32Array,
  vocabSize: number,
  options: Partial<TrainOptions>,
): Promise<void> {
  const before = tf.memory().numTensors;
  const result = await trainTrack2Seq(tokens, vocabSize, options);
  const weights = result.model.namedWeights().length;

  // Each weight in the wasm heap has a variable and two Adam moments, and Adam adds two decay accumulators.
  // With host tables, only the LSTM weights are in the heap.
  strictEqual(tf.memory().numTensors - before, 3 * weights + 2);
  result.model.dispose();
  result.optimizer.dispose();
  strictEqual(tf.memory().numTensors, before);
}
