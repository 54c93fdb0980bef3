import * as tf from "@tensorflow/tfjs";
import { deepStrictEqual, ok, rejects, strictEqual, throws } from "node:assert/strict";
import type { Vocabulary } from "../lib/data/vocabulary.ts";
import { selectBackend } from "../lib/model/backend.ts";
import type { LstmState, Track2SeqModel } from "../lib/model/network.ts";
import { trainTrack2Seq } from "../lib/model/train.ts";
import { predictFullyGuided, predictGuided } from "../lib/predict/guided.ts";
import { DEFAULT_GUIDED_OPTIONS } from "../lib/predict/guided_options.ts";
import { InputSchedule } from "../lib/predict/input_schedule.ts";
import { Track2SeqRecommender } from "../lib/predict/track2seq_recommender.ts";
import type { PlaylistQuery, Recommendation, Recommender } from "../lib/recommender.ts";
import { patternStream, VOCAB_SIZE } from "./helpers/patterns.ts";
import { nextTokenProbabilities } from "./helpers/model.ts";

await selectBackend("wasm");

const { model } = await trainTrack2Seq(patternStream(300, 1), VOCAB_SIZE, {
  embeddingSize: 16,
  hiddenUnits: 32,
  window: 10,
  batchSize: 8,
  learningRate: 0.01,
  epochs: 4,
  seed: 3,
});

const FEW_STEPS = { steps: 30, topK: 5, count: 10 };

Deno.test("guided excludes seeds and special tokens", async () => {
  const seeds = [Int32Array.of(2, 3), Int32Array.of(8), Int32Array.of(13, 14, 15)];
  const results = await predictFullyGuided(model, seeds, { ...FEW_STEPS, topK: 20, count: 20 });

  strictEqual(results.length, 3);
  results.forEach(({ tokens }, i) => {
    for (const token of tokens) {
      ok(!seeds[i].includes(token), `playlist ${i} got its seed ${token}`);
      ok(token >= 2, `playlist ${i} got special token ${token}`);
    }
    // With topK covering the vocabulary, every allowed token gets some probability.
    strictEqual(tokens.length, VOCAB_SIZE - 2 - seeds[i].length);
  });
});

Deno.test("guided respects count", async () => {
  const tensorsBefore = tf.memory().numTensors;
  const [result] = await predictFullyGuided(model, [Int32Array.of(2, 3)], { ...FEW_STEPS, count: 3 });

  strictEqual(tf.memory().numTensors, tensorsBefore);
  strictEqual(result.tokens.length, 3);
  strictEqual(result.scores.length, 3);
  ok(result.scores[0] >= result.scores[1]);
  ok(result.scores[1] >= result.scores[2]);
});

Deno.test("guided is deterministic by seed", async () => {
  const seeds = [Int32Array.of(2, 8, 13), Int32Array.of(3, 9)];
  const first = await predictFullyGuided(model, seeds, { ...FEW_STEPS, seed: 7 });
  const again = await predictFullyGuided(model, seeds, { ...FEW_STEPS, seed: 7 });
  const other = await predictFullyGuided(model, seeds, { ...FEW_STEPS, seed: 8 });

  deepStrictEqual(again, first);
  ok(other[0].scores[0] !== first[0].scores[0], "another seed gave the same top score");
});

Deno.test("batching matches batch size 1", async () => {
  const seeds = [Int32Array.of(2), Int32Array.of(8, 9, 10), Int32Array.of(13, 14), Int32Array.of(2, 3, 4, 5)];
  for (const mode of ["fully", "semi"] as const) {
    for (const thesisCompatible of [false, true]) {
      const options = { ...FEW_STEPS, mode, thesisCompatible };
      const single = await predictGuided(model, seeds, { ...options, batchSize: 1 });
      const batched = await predictGuided(model, seeds, { ...options, batchSize: 3 });

      // Padded rows keep their state by selection, so every row computes exactly what it computes alone.
      for (let i = 0; i < seeds.length; i++) {
        deepStrictEqual(
          batched[i].tokens,
          single[i].tokens,
          `${mode} ${thesisCompatible}: playlist ${i} tokens`,
        );
        deepStrictEqual(
          batched[i].scores,
          single[i].scores,
          `${mode} ${thesisCompatible}: playlist ${i} scores`,
        );
      }
    }
  }
});

Deno.test("guided recommends the continuation", async () => {
  const seeds = [Int32Array.of(2, 3, 4), Int32Array.of(8, 9), Int32Array.of(13, 14, 15, 16)];
  const results = await predictFullyGuided(model, seeds, { count: 5 });

  // The inputs are seeds in random order, a context never seen in training, so only the set of the best
  // three is checked: it is the rest of the seeds' playlist.
  const sortedTop = (i: number) => Array.from(results[i].tokens.slice(0, 3)).sort((a, b) => a - b);
  deepStrictEqual(sortedTop(0), [5, 6, 7]);
  deepStrictEqual(sortedTop(1), [10, 11, 12]);
  deepStrictEqual(sortedTop(2), [17, 18, 19]);
});

Deno.test("guided rejects playlists without seeds", async () => {
  await rejects(predictFullyGuided(model, [Int32Array.of(2), new Int32Array(0)]), RangeError);
  await rejects(predictFullyGuided(model, [Int32Array.of(2, VOCAB_SIZE)]), RangeError);
  await rejects(predictFullyGuided(model, [Int32Array.of(2)], { topK: 0 }), RangeError);
});

/** Corpus tracks 100..117 are tokens 2..19; the corpus has 200 tracks. */
function testVocabulary(): Vocabulary {
  const tokenOfTrack = new Int32Array(200).fill(-1);
  const trackOfToken = new Int32Array(VOCAB_SIZE).fill(-1);
  for (let token = 2; token < VOCAB_SIZE; token++) {
    tokenOfTrack[98 + token] = token;
    trackOfToken[token] = 98 + token;
  }
  return { tokenOfTrack, trackOfToken, size: VOCAB_SIZE };
}

/** Recommends tracks 150, 151, ... minus seeds, scored 1000 down; records each call's count. */
class FixedRecommender implements Recommender {
  readonly name = "fixed";
  readonly counts: number[] = [];

  recommend(queries: PlaylistQuery[], count: number): Promise<Recommendation[]> {
    this.counts.push(count);
    return Promise.resolve(queries.map((query) => {
      const tracks: number[] = [];
      for (let track = 150; track < 200 && tracks.length < count; track++) {
        if (!query.seeds.includes(track)) tracks.push(track);
      }
      return {
        pid: query.pid,
        tracks: Int32Array.from(tracks),
        scores: Float32Array.from(tracks, (t) => 1000 - t),
      };
    }));
  }
}

Deno.test("recommender maps tracks and falls back", async () => {
  const fallback = new FixedRecommender();
  const recommender = new Track2SeqRecommender(model, testVocabulary(), fallback, { steps: 30 });
  const queries: PlaylistQuery[] = [
    { pid: 10, name: "a", seeds: Int32Array.of(100, 101, 150) },
    { pid: 11, name: "b", seeds: Int32Array.of(150) },
    { pid: 12, name: "c", seeds: new Int32Array(0) },
  ];
  const results = await recommender.recommend(queries, 5);

  strictEqual(recommender.name, "track2seq");
  deepStrictEqual(results.map((r) => r.pid), [10, 11, 12]);
  strictEqual(results[0].tracks.length, 5);
  for (const track of results[0].tracks) {
    ok(track >= 102 && track <= 117, `model recommended track ${track}`);
  }
  // Tokens 4..7, the rest of the seeds' playlist, are tracks 102..105.
  for (const track of results[0].tracks.slice(0, 3)) {
    ok(track >= 102 && track <= 105, `top track ${track} is not from the seeds' playlist`);
  }
  deepStrictEqual(Array.from(results[1].tracks), [151, 152, 153, 154, 155]);
  deepStrictEqual(Array.from(results[1].scores), [849, 848, 847, 846, 845]);
  deepStrictEqual(Array.from(results[2].tracks), [150, 151, 152, 153, 154]);
});

Deno.test("recommender fills up short lists", async () => {
  const fallback = new FixedRecommender();
  const recommender = new Track2SeqRecommender(model, testVocabulary(), fallback, { steps: 30, topK: 3 });
  const seeds = Int32Array.of(100, 150);
  const [result] = await recommender.recommend([{ pid: 1, name: "", seeds }], 30);

  strictEqual(result.tracks.length, 30);
  strictEqual(new Set(result.tracks).size, 30);
  ok(!result.tracks.includes(100));
  ok(!result.tracks.includes(150));
  const fromModel = Array.from(result.tracks).filter((track) => track < 150);
  ok(fromModel.length > 0 && fromModel.length < 30, `${fromModel.length} tracks from the model`);
  strictEqual(result.scores[result.scores.length - 1], 0);
  ok(result.scores[0] > 0);
  deepStrictEqual(fallback.counts, [30 + fromModel.length]);
});

Deno.test("recommender rejects another vocabulary", () => {
  const vocabulary = { ...testVocabulary(), size: VOCAB_SIZE + 1 };
  throws(() => new Track2SeqRecommender(model, vocabulary, new FixedRecommender()), RangeError);
});

/** Wraps `target` so that every step's input tokens are recorded, one array per step. */
function recordingInputs(target: Track2SeqModel): { model: Track2SeqModel; inputs: number[][] } {
  const inputs: number[][] = [];
  const recording = Object.create(target) as Track2SeqModel;
  recording.step = (tokens: tf.Tensor1D, state: LstmState, mask?: tf.Tensor2D) => {
    inputs.push(Array.from(tokens.dataSync()));
    return target.step(tokens, state, mask);
  };
  return { model: recording, inputs };
}

/** Returns the most probable token after `context` from a zero state, leaving out `excluded`. */
function bestAfter(context: number[], excluded: number[]): number {
  const probabilities = nextTokenProbabilities(model, context);
  let best = -1;
  for (let token = 0; token < probabilities.length; token++) {
    if (excluded.includes(token)) continue;
    if (best < 0 || probabilities[token] > probabilities[best]) best = token;
  }
  return best;
}

Deno.test("semi-guided advances through the seeds", async () => {
  const { model: recording, inputs } = recordingInputs(model);
  await predictGuided(recording, [Int32Array.of(13, 8, 2)], { ...FEW_STEPS, mode: "semi", steps: 8 });
  const fed = inputs.map((step) => step[0]);

  // End-of-playlist token, the seeds in order, then picks and seeds in turn, wrapping after the last seed.
  strictEqual(fed.length, 12);
  deepStrictEqual(fed.slice(0, 4), [0, 13, 8, 2]);
  deepStrictEqual([fed[5], fed[7], fed[9], fed[11]], [13, 8, 2, 13]);
  // Each pick is the argmax of the step before, seeds and special tokens excluded.
  for (const t of [4, 6, 8, 10]) {
    strictEqual(fed[t], bestAfter(fed.slice(0, t), [0, 1, 13, 8, 2]), `pick at step ${t}`);
  }
  // The model keeps the context of the last seed's playlist, 2 to 7, so it keeps continuing that playlist.
  for (const t of [4, 6, 8, 10]) ok(fed[t] >= 3 && fed[t] <= 7, `pick ${fed[t]} at step ${t}`);
});

Deno.test("semi-guided batches step by step", async () => {
  const seeds = [Int32Array.of(13, 8, 2), Int32Array.of(8)];
  const batched = recordingInputs(model);
  await predictGuided(batched.model, seeds, { ...FEW_STEPS, mode: "semi", steps: 4 });
  const alone = [];
  for (const playlistSeeds of seeds) {
    const single = recordingInputs(model);
    await predictGuided(single.model, [playlistSeeds], { ...FEW_STEPS, mode: "semi", steps: 4 });
    alone.push(single.inputs.map((step) => step[0]));
  }

  // One call per step for both playlists, as long as the longer playlist's 1 + 3 + 4 steps.
  strictEqual(batched.inputs.length, 8);
  ok(batched.inputs.every((step) => step.length === 2));
  // Batches are ordered by seed count, so the one-seed playlist is row 0. Its 1 + 1 + 4 steps come first.
  deepStrictEqual(batched.inputs.map((step) => step[0]).slice(0, 6), alone[1]);
  deepStrictEqual(batched.inputs.map((step) => step[1]), alone[0]);
  deepStrictEqual([alone[1][1], alone[1][3], alone[1][5]], [8, 8, 8]);
});

Deno.test("thesis semi-guided repeats the first seed", async () => {
  const { model: recording, inputs } = recordingInputs(model);
  const steps = 16;
  await predictGuided(recording, [Int32Array.of(13, 8, 2)], {
    ...FEW_STEPS,
    mode: "semi",
    steps,
    thesisCompatible: true,
  });
  const fed = inputs.map((step) => step[0]);

  deepStrictEqual(fed.slice(0, 4), [0, 13, 8, 2]);
  // The original fed the last seed again, then a pick and the first seed in turn.
  strictEqual(fed[4], 2);
  for (let j = 2; j < steps; j += 2) strictEqual(fed[4 + j], 13, `prediction step ${j}`);
  const picks = Array.from({ length: steps / 2 }, (_, i) => fed[4 + 2 * i + 1]);
  for (const pick of picks) ok(![0, 1, 13, 8, 2].includes(pick), `pick ${pick} is excluded`);
  // The pick is an arbitrary member of the top-k, not always the argmax.
  const argmaxes = picks.map((_, i) => bestAfter(fed.slice(0, 4 + 2 * i + 1), [0, 1, 13, 8, 2]));
  ok(picks.some((pick, i) => pick !== argmaxes[i]), `every pick was the argmax: ${picks}`);
});

Deno.test("thesis top-k grows with the step", async () => {
  const settings = { ...DEFAULT_GUIDED_OPTIONS, topK: 5, steps: 4, thesisCompatible: true };
  const schedule = new InputSchedule(Int32Array.of(2, 3, 4), settings, () => 0);
  const fixed = new InputSchedule(Int32Array.of(2, 3, 4), { ...settings, thesisCompatible: false }, () => 0);

  // One end-of-playlist step and three seed steps take topK + steps, then prediction step i takes topK + i.
  deepStrictEqual(Array.from({ length: 8 }, (_, t) => schedule.topKAt(t)), [9, 9, 9, 9, 5, 6, 7, 8]);
  deepStrictEqual(Array.from({ length: 8 }, (_, t) => fixed.topKAt(t)), [5, 5, 5, 5, 5, 5, 5, 5]);

  // With topK 1, the seed step of the thesis run already scores 1 + steps tokens.
  const options = { steps: 10, topK: 1, count: 20 };
  const [plain] = await predictGuided(model, [Int32Array.of(2)], options);
  const [grown] = await predictGuided(model, [Int32Array.of(2)], { ...options, thesisCompatible: true });
  ok(plain.tokens.length <= 11, `${plain.tokens.length} candidates with a fixed top-k of 1`);
  ok(grown.tokens.length >= 11, `${grown.tokens.length} candidates with a growing top-k`);
});

Deno.test("thesis recommender skips seedless playlists", async () => {
  const fallback = new FixedRecommender();
  const recommender = new Track2SeqRecommender(model, testVocabulary(), fallback, {
    steps: 30,
    topK: 3,
    thesisCompatible: true,
  });
  const queries: PlaylistQuery[] = [
    { pid: 1, name: "", seeds: Int32Array.of(100, 150) },
    { pid: 2, name: "", seeds: Int32Array.of(150) },
  ];
  const results = await recommender.recommend(queries, 30);

  deepStrictEqual(results.map((r) => r.pid), [1, 2]);
  // The model's own continuation, shorter than 30, is not filled up.
  ok(results[0].tracks.length > 0 && results[0].tracks.length < 30, `${results[0].tracks.length} tracks`);
  ok(Array.from(results[0].tracks).every((track) => track >= 101 && track <= 117));
  strictEqual(results[1].tracks.length, 0);
  strictEqual(results[1].scores.length, 0);
  deepStrictEqual(fallback.counts, []);
});

Deno.test("recommender passes the mode on", async () => {
  const queries: PlaylistQuery[] = [{ pid: 1, name: "", seeds: Int32Array.of(111, 106, 100) }];
  const fully = new Track2SeqRecommender(model, testVocabulary(), new FixedRecommender(), { steps: 30 });
  const semi = new Track2SeqRecommender(model, testVocabulary(), new FixedRecommender(), {
    steps: 30,
    mode: "semi",
  });
  const [fullyResult] = await fully.recommend(queries, 10);
  const [semiResult] = await semi.recommend(queries, 10);
  const [direct] = await predictGuided(model, [Int32Array.of(13, 8, 2)], {
    steps: 30,
    mode: "semi",
    count: 10,
  });

  deepStrictEqual(Array.from(semiResult.tracks), Array.from(direct.tokens, (token) => 98 + token));
  ok(semiResult.scores[0] !== fullyResult.scores[0], "semi and fully guided gave the same top score");
});

Deno.test("semi-guided feeds a seed without a pick", () => {
  const settings = { ...DEFAULT_GUIDED_OPTIONS, mode: "semi" as const, steps: 3, startWithEos: false };
  const schedule = new InputSchedule(Int32Array.of(5, 6), settings, () => 0);
  const noAllowedToken = { indices: Int32Array.of(0, 1), values: Float32Array.of(0, 0), offset: 0, k: 2 };
  const pick = { indices: Int32Array.of(9, 1), values: Float32Array.of(0.5, 0), offset: 0, k: 2 };

  strictEqual(schedule.tokenAt(0, undefined), 5);
  strictEqual(schedule.tokenAt(1, pick), 6);
  // Every allowed probability is 0, so the next seed is fed in place of the pick, and the pointer advances.
  strictEqual(schedule.tokenAt(2, noAllowedToken), 5);
  strictEqual(schedule.tokenAt(3, pick), 6);
  strictEqual(schedule.tokenAt(4, pick), 9);
});
