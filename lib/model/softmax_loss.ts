/**
 * The losses that train the output layer: the full softmax over the vocabulary and the sampled softmax over
 * the target and a shared set of negatives.
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import type { Track2SeqModel } from "./network.ts";
import type { NegativeSample } from "./negative_sampler.ts";
import type { OutputSlices } from "./output_slices.ts";

/**
 * Computes the per-row full-softmax cross-entropy, [rows], of the output projection of `hidden` against
 * `labels`.
 *
 * One custom op covers projection and loss, so the [rows, vocabSize] matrices are touched as few times as
 * possible: the forward pass saves exp(logits - max) and its row sums, and the backward pass turns them into
 * softmax - one-hot without another exp. The bias gradient is a product with a row of ones, because wasm
 * sums over the first axis by transposing the whole matrix first.
 *
 * @param hidden [rows, hiddenUnits].
 * @param kernel [hiddenUnits, vocabSize].
 * @param bias [vocabSize].
 * @param labels target tokens, int32, [rows].
 */
export function fullSoftmaxLosses(
  hidden: tf.Tensor2D,
  kernel: tf.Tensor,
  bias: tf.Tensor,
  labels: tf.Tensor1D,
): tf.Tensor1D {
  const rows = hidden.shape[0];
  const classes = bias.shape[0];
  const flatIndices = tf.add(tf.mul(tf.range(0, rows, 1, "int32"), tf.scalar(classes, "int32")), labels);

  const crossEntropy = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [h, w, b, labelInput] = args as tf.Tensor[];
    const save = args[4] as tf.GradSaveFunc;
    const logits = tf.fused.matMul({ a: h as tf.Tensor2D, b: w as tf.Tensor2D, bias: b });
    const rowMax = tf.max(logits, 1, true);
    const shiftedExp = tf.exp(tf.sub(logits, rowMax));
    const rowSum = tf.sum(shiftedExp, 1, true);
    const logNormalizer = tf.add(tf.log(rowSum), rowMax);
    const picked = tf.gather(tf.reshape(logits, [-1]), flatIndices);
    save([h, w, shiftedExp, rowSum, labelInput]);

    return {
      value: tf.sub(tf.reshape(logNormalizer, [-1]), picked),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [savedHidden, savedKernel, savedExp, savedSum, savedLabels] = saved;
        const rowScale = tf.expandDims(dy as tf.Tensor, 1);

        // d loss / d logits = softmax * dy - one-hot * dy, with the one-hot part scattered at the targets.
        const scaled = tf.mul(savedExp, tf.div(rowScale, savedSum));
        const targetPositions = tf.stack([tf.range(0, rows, 1, "int32"), savedLabels], 1);
        const targetPart = tf.scatterND(targetPositions, dy as tf.Tensor1D, [rows, classes]);
        const gradLogits = tf.sub(scaled, targetPart) as tf.Tensor2D;

        const gradHidden = tf.matMul(gradLogits, savedKernel as tf.Tensor2D, false, true);
        const gradKernel = tf.matMul(savedHidden as tf.Tensor2D, gradLogits, true, false);
        const gradBias = tf.reshape(tf.matMul(tf.ones([1, rows]), gradLogits), [classes]);
        return [gradHidden, gradKernel, gradBias, tf.zerosLike(savedLabels)];
      },
    };
  });
  return crossEntropy(hidden, kernel, bias, labels) as tf.Tensor1D;
}

/**
 * Computes the per-row softmax cross-entropy, [rows], of `logits` [rows, classes] against integer `labels`.
 * Its gradient with respect to the logits is softmax - one-hot, computed directly, so the backward pass
 * touches the [rows, classes] matrix only a few times.
 */
function tokenLosses(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  const [rows, classes] = logits.shape;
  const flatIndices = tf.add(tf.mul(tf.range(0, rows, 1, "int32"), tf.scalar(classes, "int32")), labels);

  // The labels are an input of the custom op, so the engine keeps them alive for the backward pass.
  const crossEntropy = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor2D;
    const labelInput = args[1] as tf.Tensor1D;
    const save = args[2] as tf.GradSaveFunc;
    const logNormalizer = tf.logSumExp(x, 1);
    const picked = tf.gather(tf.reshape(x, [-1]), flatIndices);
    save([x, logNormalizer, labelInput]);

    return {
      value: tf.sub(logNormalizer, picked),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [savedLogits, savedNormalizer, savedLabels] = saved;
        const probabilities = tf.exp(tf.sub(savedLogits, tf.expandDims(savedNormalizer, 1)));
        const difference = tf.sub(
          probabilities,
          tf.oneHot(savedLabels as tf.Tensor1D, classes, 1, 0, "float32"),
        );
        return [tf.mul(difference, tf.expandDims(dy as tf.Tensor, 1)), tf.zerosLike(savedLabels)];
      },
    };
  });
  return crossEntropy(logits, labels) as tf.Tensor1D;
}

/**
 * Computes the mean sampled-softmax loss: for each row a softmax over its target and the shared negatives.
 * Every logit has log(expected count) subtracted (Jean et al., 2015), and negatives equal to the row's target
 * are masked.
 *
 * @param hidden top LSTM outputs, [rows, hiddenUnits].
 * @param targets target tokens, int32, [rows].
 */
export function sampledSoftmaxLoss(
  model: Track2SeqModel,
  hidden: tf.Tensor2D,
  targets: tf.Tensor1D,
  sample: NegativeSample,
): tf.Scalar {
  const negatives = tf.tensor1d(sample.negatives, "int32");
  return sampledSoftmaxFromWeights(hidden, {
    targetWeights: tf.transpose(tf.gather(model.outputKernel, targets, 1)),
    targetBias: tf.gather(model.outputBias, targets),
    negativeWeights: tf.gather(model.outputKernel, negatives, 1) as tf.Tensor2D,
    negativeBias: tf.gather(model.outputBias, negatives),
  }, sample);
}

/**
 * Computes the mean sampled-softmax loss of {@linkcode sampledSoftmaxLoss} from output weights that the
 * caller has gathered already, such as rows uploaded from host tables.
 *
 * @param weights `targetWeights` [rows, hiddenUnits] and `targetBias` [rows] of each row's target;
 *   `negativeWeights` [hiddenUnits, S] and `negativeBias` [S] of the negatives.
 */
export function sampledSoftmaxFromWeights(
  hidden: tf.Tensor2D,
  weights: {
    targetWeights: tf.Tensor;
    targetBias: tf.Tensor;
    negativeWeights: tf.Tensor2D;
    negativeBias: tf.Tensor;
  },
  sample: NegativeSample,
): tf.Scalar {
  const rows = hidden.shape[0];
  const targetLogits = tf.sub(
    tf.add(tf.sum(tf.mul(hidden, weights.targetWeights), 1), weights.targetBias),
    tf.tensor1d(sample.targetLogExpected),
  );

  let negativeLogits = tf.add(
    tf.matMul(hidden, weights.negativeWeights),
    tf.sub(weights.negativeBias, tf.tensor1d(sample.logExpected)),
  );
  if (sample.hitMask !== null) {
    negativeLogits = tf.add(negativeLogits, tf.tensor2d(sample.hitMask, [rows, sample.negatives.length]));
  }

  const logits = tf.concat([tf.expandDims(targetLogits, 1), negativeLogits], 1) as tf.Tensor2D;
  return tf.mean(tokenLosses(logits, tf.zeros([rows], "int32")));
}

/**
 * Computes the per-row full-softmax cross-entropy, [rows], of `model`'s output projection of `hidden`
 * against `labels`, one slice of the output table at a time, so no [rows, vocabSize] tensor is ever built.
 * The log-sum-exp of each slice is merged into a running one (log(e^a + e^b) = m + log(e^(a-m) + e^(b-m))
 * with m = max(a, b)). Forward only, for evaluation.
 *
 * @param hidden [rows, hiddenUnits].
 * @param labels target tokens, int32, [rows].
 * @param slices the output table of `model`, uploaded in slices.
 */
export function slicedSoftmaxLosses(
  model: Track2SeqModel,
  hidden: tf.Tensor2D,
  labels: Int32Array,
  slices: OutputSlices,
): tf.Tensor1D {
  return tf.tidy(() => {
    // A tidy per slice frees each slice's [rows, tokens] logits before the next slice is projected.
    let normalizer: tf.Tensor1D | undefined;
    for (const { kernel, bias } of slices.slices) {
      const previous: tf.Tensor1D | undefined = normalizer;
      normalizer = tf.tidy(() => {
        const logits = tf.fused.matMul({ a: hidden, b: kernel, bias }) as tf.Tensor2D;
        const sliceNormalizer = tf.logSumExp(logits, 1) as tf.Tensor1D;
        if (previous === undefined) return sliceNormalizer;
        const high = tf.maximum(previous, sliceNormalizer);
        return tf.add(
          high,
          tf.log(tf.add(tf.exp(tf.sub(previous, high)), tf.exp(tf.sub(sliceNormalizer, high)))),
        ) as tf.Tensor1D;
      });
      previous?.dispose();
    }

    const labelTensor = tf.tensor1d(labels, "int32");
    let targetLogits: tf.Tensor;
    if (model.host === null) {
      const targetWeights = tf.transpose(tf.gather(model.outputKernel, labelTensor, 1));
      targetLogits = tf.add(
        tf.sum(tf.mul(hidden, targetWeights), 1),
        tf.gather(model.outputBias, labelTensor),
      );
    } else {
      const { kernel, bias } = model.host.outputRows(labels);
      targetLogits = tf.add(tf.sum(tf.mul(hidden, kernel), 1), bias);
    }
    return tf.sub(normalizer as tf.Tensor1D, targetLogits) as tf.Tensor1D;
  });
}
