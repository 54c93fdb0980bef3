import type { TrainOptions } from "../../lib/model/train.ts";
import { createRandom } from "../../lib/util/random.ts";

/** Three playlists over tokens 2..19; inside a playlist each token determines the next. */
export const PLAYLISTS = [[2, 3, 4, 5, 6, 7], [8, 9, 10, 11, 12], [13, 14, 15, 16, 17, 18, 19]];
export const VOCAB_SIZE = 20;

/** `count` playlists drawn at random from PLAYLISTS, each followed by the end-of-playlist token 0. */
export function patternStream(count: number, seed: number): Int32Array {
  const random = createRandom(seed);
  const tokens: number[] = [];
  for (let i = 0; i < count; i++) tokens.push(...PLAYLISTS[Math.floor(random() * PLAYLISTS.length)], 0);
  return Int32Array.from(tokens);
}

/** A tiny network trained with the sampled softmax on windows of 10 tokens that start every 4 tokens. */
export const SMALL_SAMPLED: Partial<TrainOptions> = {
  embeddingSize: 8,
  hiddenUnits: 16,
  window: 10,
  stride: 4,
  batchSize: 8,
  learningRate: 0.01,
  epochs: 5,
  softmax: "sampled",
  sampledNegatives: 5,
  seed: 5,
};
