/**
 * The cross-entropy of a unigram model: the baseline that a language model of playlists has to beat to
 * have learned more than track popularity.
 * @module
 */

/** Options of {@linkcode unigramCrossEntropy}. */
export interface UnigramOptions {
  /** Count added to every token, so unseen tokens keep a probability above zero. Default 1. */
  smoothing?: number;
}

/**
 * Fits a unigram model (each token's probability is its smoothed share of the training stream) and returns
 * its mean cross-entropy on the evaluation stream, in nats per token, the unit of Track2Seq's loss.
 *
 * The first evaluation token has no token before it, so a language model does not predict it, and it is
 * skipped here too.
 *
 * @param trainTokens The training stream, tokens in [0, vocabSize).
 * @param evaluationTokens The stream to score, such as the dev playlists' tokens.
 * @param vocabSize Number of tokens, special tokens included.
 * @param options Additive smoothing; see {@linkcode UnigramOptions}.
 * @returns Mean cross-entropy in nats per token; NaN when the evaluation stream has fewer than 2 tokens.
 * @throws {RangeError} When a token is outside [0, vocabSize) or the smoothing is negative, or when it is 0
 *   and an evaluation token never occurs in training.
 */
export function unigramCrossEntropy(
  trainTokens: ArrayLike<number>,
  evaluationTokens: ArrayLike<number>,
  vocabSize: number,
  options: UnigramOptions = {},
): number {
  const smoothing = options.smoothing ?? 1;
  if (!(smoothing >= 0)) {
    throw new RangeError(
      `Computing the unigram cross-entropy failed: smoothing must be >= 0, got ${smoothing}.`,
    );
  }

  const counts = new Float64Array(vocabSize).fill(smoothing);
  for (let i = 0; i < trainTokens.length; i++) counts[checkToken(trainTokens[i], vocabSize, "training")]++;
  const total = trainTokens.length + smoothing * vocabSize;

  if (evaluationTokens.length < 2) return NaN;
  let sum = 0;
  for (let i = 1; i < evaluationTokens.length; i++) {
    const count = counts[checkToken(evaluationTokens[i], vocabSize, "evaluation")];
    if (count === 0) {
      throw new RangeError(
        `Computing the unigram cross-entropy failed: evaluation token ${evaluationTokens[i]} never occurs ` +
          "in training. Use a smoothing above 0.",
      );
    }
    sum -= Math.log(count / total);
  }
  return sum / (evaluationTokens.length - 1);
}

function checkToken(token: number, vocabSize: number, stream: string): number {
  if (!Number.isInteger(token) || token < 0 || token >= vocabSize) {
    throw new RangeError(
      `Computing the unigram cross-entropy failed: ${stream} token ${token} is outside [0, ${vocabSize}).`,
    );
  }
  return token;
}
