/**
 * One training thread of `trainSkipGram`: it receives a {@linkcode SkipGramWorkerStart}, trains its range of
 * sentences on the shared matrices, and posts a {@linkcode SkipGramWorkerMessage} after each epoch and at
 * the end.
 * @module
 */

import { createRandom } from "../util/random.ts";
import { type SkipGramWorkerMessage, type SkipGramWorkerStart, trainSentenceThread } from "./skipgram.ts";

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<SkipGramWorkerStart>) => void) | null;
  postMessage(message: SkipGramWorkerMessage): void;
};

scope.onmessage = (event) => {
  const { job, range, seed } = event.data;
  const work = trainSentenceThread(job, range, createRandom(seed), (epoch, work) => {
    scope.postMessage({ kind: "epoch", epoch, work });
  });
  scope.postMessage({ kind: "done", work });
};
