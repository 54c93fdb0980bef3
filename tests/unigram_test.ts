import { ok, strictEqual, throws } from "node:assert/strict";
import { unigramCrossEntropy } from "../lib/eval/unigram.ts";

Deno.test("unigramCrossEntropy hand-computed value", () => {
  // Counts 3 and 1 plus one each: p(0) = 4/6, p(1) = 2/6. The first evaluation token is not scored.
  const value = unigramCrossEntropy([0, 0, 0, 1], [1, 0, 1], 2);

  ok(Math.abs(value - -(Math.log(4 / 6) + Math.log(2 / 6)) / 2) < 1e-12, `${value}`);
});

Deno.test("unigramCrossEntropy uniform without training", () => {
  const value = unigramCrossEntropy([], [0, 1, 2, 3], 4);

  ok(Math.abs(value - Math.log(4)) < 1e-12, `${value}`);
});

Deno.test("unigramCrossEntropy short evaluation is NaN", () => {
  strictEqual(unigramCrossEntropy([0, 1], [1], 2), NaN);
});

Deno.test("unigramCrossEntropy rejects invalid input", () => {
  throws(() => unigramCrossEntropy([0, 2], [0, 1], 2), RangeError);
  throws(() => unigramCrossEntropy([0], [0, 1], 2, { smoothing: 0 }), /never occurs in training/);
  throws(() => unigramCrossEntropy([0], [0, 1], 2, { smoothing: -1 }), RangeError);
});
