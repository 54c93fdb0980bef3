/**
 * Candidate tables of guided prediction: the summed probabilities of the tokens that made some step's top-k.
 * @module
 */

/** A ranked continuation in model tokens: best first, with the summed probability of each token. */
export interface TokenScores {
  tokens: Int32Array;
  scores: Float32Array;
}

/**
 * Adds one row of top-k results to a candidate table, skipping zero probabilities and, when `allowed` is
 * given, the tokens whose entry in `allowed.values` (read from `allowed.offset`) is 0.
 */
export function addTopK(
  scores: Map<number, number>,
  values: Float32Array,
  indices: Int32Array,
  offset: number,
  topK: number,
  allowed?: { values: Float32Array; offset: number },
): void {
  for (let j = 0; j < topK; j++) {
    const token = indices[offset + j];
    const probability = values[offset + j];
    // With fewer allowed tokens than topK, the top-k also returns excluded tokens, whose probability is 0.
    if (probability <= 0 || allowed?.values[allowed.offset + token] === 0) continue;
    scores.set(token, (scores.get(token) ?? 0) + probability);
  }
}

/** Returns the `count` best candidates by summed probability. Ties go to the lower token id. */
export function rank(scores: Map<number, number>, count: number): TokenScores {
  const entries = [...scores.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, count);
  return {
    tokens: Int32Array.from(entries, ([token]) => token),
    scores: Float32Array.from(entries, ([, score]) => score),
  };
}
