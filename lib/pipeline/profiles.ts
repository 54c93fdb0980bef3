/**
 * Named configurations of the whole study: how much synthetic data, how large the evaluation, how long
 * the training.
 * @module
 */

import type { W2vOptions } from "../baselines/w2v.ts";
import type { WmfOptions } from "../baselines/wmf.ts";
import type { CwvaOptions } from "../cwva/cwva.ts";

/** Every method of the study, in the order of the thesis table. */
export const ALL_METHODS = ["popularity", "w2v", "wmf", "cwva", "track2seq", "track2seq_cwva"];

/** Everything that decides a run's results. */
export interface StudyConfig {
  /** Profile name; artifacts go to `data/<name>/` and `figures/<name>/`. */
  name: string;
  /** Number of synthetic playlists to generate; unused when `mpdDir` is set. */
  playlists: number;
  /** A folder (or one file) of real MPD slices to read instead of generating data. */
  mpdDir?: string;
  /** Seed of the generator, the split and the model. */
  seed: number;
  /** Dev and test sizes; when unset, 1% of the playlists each, as in the thesis. */
  devSize?: number;
  testSize?: number;
  /** Track2Seq training settings. */
  training: {
    /** Number of passes over the training stream. */
    epochs: number;
    /** Stop after this many batches even if the epochs are not done; unset means no cap. */
    maxSteps?: number;
    /** Tokens per truncated back-propagation window. */
    window: number;
    /** Tokens between the starts of consecutive windows. Unset means `window`, where the original used 5. */
    stride?: number;
    batchSize: number;
    softmax: "full" | "sampled";
    /** Negatives per batch of the sampled softmax. */
    sampledNegatives: number;
    learningRate: number;
    /**
     * The storage of the embedding and output tables: `heap` (wasm heap, up to about 200,000 tracks) or
     * `host` (JavaScript memory, 3,084 bytes per track, sampled softmax only). Unset means `heap`.
     */
    tables?: "heap" | "host";
  };
  /** Methods to evaluate, by name: popularity, wmf, w2v, cwva, track2seq, track2seq_cwva. */
  methods: string[];
  /** Options of the baselines, over their defaults (those of the thesis). */
  baselines?: {
    wmf?: Partial<Omit<WmfOptions, "fallback">>;
    w2v?: Partial<Omit<W2vOptions, "fallback">>;
    cwva?: Partial<Omit<CwvaOptions, "fallback" | "vectors">>;
  };
  /** Guided prediction settings. */
  prediction: {
    /** Prediction steps after the seeds (the thesis's n). */
    steps: number;
    /** Candidates taken from each step's distribution. */
    topK: number;
    /** `fully` (a random seed per step) or `semi` (model picks and seeds in turn); unset means `fully`. */
    mode?: "fully" | "semi";
    /** Reproduce the original code's prediction faults, for comparison; unset means off. */
    thesisCompatible?: boolean;
  };
}

const THESIS_TRAINING: StudyConfig["training"] = {
  epochs: 1,
  window: 50,
  batchSize: 32,
  softmax: "full",
  sampledNegatives: 1000,
  learningRate: 0.001,
};

/** The profiles that `deno task reproduce --profile NAME` accepts. */
export const PROFILES: Record<string, StudyConfig> = {
  /** A couple of minutes on two cores, for CI: proves every stage runs, not that the model learns. */
  smoke: {
    name: "smoke",
    playlists: 3000,
    seed: 2018,
    devSize: 24,
    testSize: 60,
    training: { ...THESIS_TRAINING, maxSteps: 40 },
    methods: ALL_METHODS,
    baselines: { wmf: { factors: 32, iterations: 5 }, w2v: { epochs: 1 } },
    prediction: { steps: 100, topK: 100 },
  },
  /** The embedded synthetic data at a size where the LSTM clearly learns, in under 30 minutes on 2 cores. */
  default: {
    name: "default",
    playlists: 20000,
    seed: 2018,
    devSize: 200,
    testSize: 600,
    // One epoch of the full softmax left the LSTM barely past the unigram distribution (dev loss 8.04 against
    // a unigram entropy of 8.50 nats). The sampled softmax runs about 2.5x faster on wasm, so three epochs fit
    // the time budget and reach a dev loss of 7.13 (both measured on this profile, 2 cores).
    training: { ...THESIS_TRAINING, softmax: "sampled", epochs: 3 },
    methods: ALL_METHODS,
    prediction: { steps: 600, topK: 100 },
  },
  /** A real MPD folder, given with `--mpd DIR`: thesis sizes (1% dev and 1% test, 10,000 each on the full MPD). */
  mpd: {
    name: "mpd",
    playlists: 0,
    seed: 2018,
    training: THESIS_TRAINING,
    methods: ALL_METHODS,
    prediction: { steps: 600, topK: 100 },
  },
};

/**
 * Looks up a profile by name.
 *
 * @param realDataHint The end of the error message: how to select real MPD data with the command that
 *   called this. Default: the hint for `deno task reproduce`, which takes `--mpd DIR`.
 * @throws {RangeError} Naming the known profiles, when `name` is not one of them.
 */
export function getProfile(name: string, realDataHint = "or --mpd DIR for real data"): StudyConfig {
  const profile = PROFILES[name];
  if (!profile) {
    throw new RangeError(
      `Unknown profile "${name}": use one of ${Object.keys(PROFILES).join(", ")}, ${realDataHint}.`,
    );
  }
  return structuredClone(profile);
}
