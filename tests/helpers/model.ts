import * as tf from "@tensorflow/tfjs";
import type { Track2SeqModel } from "../../lib/model/network.ts";

/** Returns the next-token probabilities, [vocabSize], after feeding `context` from a zero state. */
export function nextTokenProbabilities(model: Track2SeqModel, context: number[]): Float32Array {
  return tf.tidy(() => {
    let state = model.zeroState(1);
    let logits: tf.Tensor2D | undefined;
    for (const token of context) {
      const output = model.step(tf.tensor1d([token], "int32"), state);
      state = output.state;
      logits = output.logits;
    }
    return tf.softmax(logits as tf.Tensor2D).dataSync() as Float32Array;
  });
}
