/**
 * Options of guided prediction, their defaults and their checks.
 * @module
 */

/**
 * The input rule of the steps after the seeds:
 * - `fully`: each step is fed a seed token drawn at random.
 * - `semi`: steps alternate between the model's own best pick from the step before and the next seed token.
 */
export type GuidanceMode = "fully" | "semi";

/** Options of guided prediction. Every field has a default in {@linkcode DEFAULT_GUIDED_OPTIONS}. */
export interface GuidedOptions {
  /** The input rule of the steps after the seeds. Default `fully`. */
  mode: GuidanceMode;
  /** Steps run after the seeds. Default 600. */
  steps: number;
  /** Tokens per step whose probabilities are added to the candidate scores. Default 100. */
  topK: number;
  /** Tokens returned per playlist, at most. Default 500. */
  count: number;
  /** Seed of the random draws: the seed tokens of fully guided steps, and thesis-compatible picks. Default 2018. */
  seed: number;
  /** Playlists advanced together as one batch. Default 64. */
  batchSize: number;
  /**
   * Feed the end-of-playlist token before the seeds, without scoring that step. Default true. In the
   * training stream every playlist follows that token, with the state carried over from the playlist before,
   * so a trained model rarely starts from a zero state. The token makes the first seed's context closer to
   * training.
   */
  startWithEos: boolean;
  /**
   * Reproduce two faults of the original Track2Seq code, for comparison. Default false.
   * - The per-step top-k grows with the step: the seed steps take `topK + steps` tokens, and prediction
   *   step i (from 0) takes `topK + i`, where the original's loop variable shadowed its `n`.
   * - Semi-guided prediction feeds the last seed again, then alternates between a pick and the first seed,
   *   because the original never advanced its seed pointer. The pick is drawn uniformly from the step's
   *   top-k, standing in for the arbitrary member that the original's unsorted partition returned.
   */
  thesisCompatible: boolean;
}

/** Default options: those of the original study, without its faults. */
export const DEFAULT_GUIDED_OPTIONS: GuidedOptions = {
  mode: "fully",
  steps: 600,
  topK: 100,
  count: 500,
  seed: 2018,
  batchSize: 64,
  startWithEos: true,
  thesisCompatible: false,
};

/** Applies the defaults to `options` and checks the result. @throws {RangeError} naming the invalid option. */
export function resolveGuidedOptions(options: Partial<GuidedOptions>): GuidedOptions {
  const settings: GuidedOptions = { ...DEFAULT_GUIDED_OPTIONS };
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) Object.assign(settings, { [key]: value });
  }

  for (const key of ["topK", "count", "batchSize"] as const) {
    if (!Number.isInteger(settings[key]) || settings[key] < 1) {
      throw new RangeError(
        `Guided prediction failed: ${key} must be a positive integer, got ${settings[key]}.`,
      );
    }
  }
  if (!Number.isInteger(settings.steps) || settings.steps < 0) {
    throw new RangeError(
      `Guided prediction failed: steps must be a non-negative integer, got ${settings.steps}.`,
    );
  }
  if (settings.mode !== "fully" && settings.mode !== "semi") {
    throw new RangeError(`Guided prediction failed: mode must be "fully" or "semi", got "${settings.mode}".`);
  }
  return settings;
}

/**
 * Checks that every playlist has seeds inside the vocabulary.
 * @throws {RangeError} naming the first playlist without seeds or with a token outside [0, vocabSize).
 */
export function validateSeeds(seeds: Int32Array[], vocabSize: number): void {
  seeds.forEach((playlistSeeds, position) => {
    if (playlistSeeds.length === 0) {
      throw new RangeError(
        `Guided prediction failed: playlist ${position} has no seed token. Recommend for such playlists ` +
          `with another method, such as popularity, and pass only playlists with seeds.`,
      );
    }
    for (const token of playlistSeeds) {
      if (!Number.isInteger(token) || token < 0 || token >= vocabSize) {
        throw new RangeError(
          `Guided prediction failed: playlist ${position} has seed token ${token}, outside the model's ` +
            `vocabulary [0, ${vocabSize}). Map seed tracks with the vocabulary the model was trained on.`,
        );
      }
    }
  });
}
