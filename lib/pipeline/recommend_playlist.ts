/**
 * Continuing one playlist, given by title and seed track URIs, with a profile's trained Track2Seq model.
 * @module
 */

import type { CwvaRecommender, SimilarPlaylists } from "../cwva/cwva.ts";
import { normalizeTitle } from "../cwva/normalize.ts";
import { Track2SeqCwvaRecommender } from "../cwva/track2seq_cwva.ts";
import type { PlaylistQuery, Recommendation } from "../recommender.ts";
import type { LoadedTrack2Seq, TrainedProfile } from "./trained_profile.ts";

/** Seed tracks that CWVA guesses from a title for Track2Seq, as in the study's track2seq_cwva method. */
const TITLE_SEED_COUNT = 100;

/** A playlist to continue. */
export interface PlaylistRequest {
  /** The playlist's title, passed on to the recommender; Track2Seq itself continues from the seeds. */
  title: string;
  /** Seed track URIs, in playlist order. */
  seedUris: string[];
}

/** The outcome of each seed track of a request. */
export interface SeedOutcome {
  /** Seeds that the model was fed, in order. */
  used: string[];
  /** Seeds that the profile's corpus does not contain; skipped. */
  unknown: string[];
  /**
   * Seeds in the corpus but outside the model's vocabulary, skipped. The vocabulary contains the tracks
   * that occur more than 5 times in the training playlists or occur in a dev or test playlist.
   */
  outOfVocabulary: string[];
}

/** One recommended track. */
export interface RecommendedTrack {
  /** 1 for the best. */
  rank: number;
  uri: string;
  /** Empty where the input had no name. */
  name: string;
  artistName: string;
  /** Summed model probability, the fallback's score, or 0 for tracks filled in after the model's. */
  score: number;
}

/**
 * The method that produced a recommendation, named as in the study's results:
 * - `track2seq`: Track2Seq continued the usable seeds;
 * - `track2seq_cwva`: no seed was usable, so CWVA guessed seed tracks from the title and the recommendation
 *   merges its ranking with Track2Seq's continuation of them, as the study's track2seq_cwva method does;
 * - `popularity`: no seed was usable and the title is empty or has only stop words, so the most popular
 *   training tracks.
 */
export type RecommendationMethod = "track2seq" | "track2seq_cwva" | "popularity";

/** The result of {@linkcode recommendPlaylist}. */
export interface PlaylistRecommendation {
  seeds: SeedOutcome;
  method: RecommendationMethod;
  /** Seed tracks that CWVA guessed from the title, as URIs, best first; empty unless `method` is track2seq_cwva. */
  titleSeeds: string[];
  /**
   * The similarity measure by which CWVA found training playlists for the title, when `method` is
   * track2seq_cwva. It is "vectors" when a word of the title has a learned vector. It is "edit-distance" when
   * no word has one, so CWVA compared the title's letters with the training titles. Undefined for other
   * methods.
   */
  titleMatch: SimilarPlaylists["method"] | undefined;
  /** True when `method` is popularity. */
  popularityFallback: boolean;
  tracks: RecommendedTrack[];
}

/** Loaders of the models that {@linkcode recommendPlaylist} uses only when the request needs them. */
export interface PlaylistModels {
  /** Loads the Track2Seq model; the model is disposed before `recommendPlaylist` returns. */
  loadTrack2Seq: () => Promise<LoadedTrack2Seq>;
  /** Fits CWVA over the training playlists as the study does (see `fitProfileCwva`). */
  fitCwva: () => CwvaRecommender | Promise<CwvaRecommender>;
}

/**
 * Recommends up to `count` tracks to continue a playlist, never one of its seeds.
 *
 * With a usable seed, Track2Seq continues the seeds. Without one (no seed, or only seeds that are unknown
 * or outside the model's vocabulary), a title that keeps a word after normalization goes through CWVA
 * title-to-seeds and Track2Seq, as the study's track2seq_cwva method. CWVA matches the training titles by
 * word vectors, or by edit distance when no word of the title has a vector, as `titleMatch` reports.
 * Otherwise, for an empty title or one of stop words only (such as "Music"), the recommendation comes from
 * the popularity baseline, and nothing is loaded or fitted.
 *
 * @param profile The profile's corpus, split and popularity baseline.
 * @param request The title and seed URIs.
 * @param count The number of tracks, at most.
 * @param models Loads the Track2Seq model and fits CWVA, each only when needed.
 */
export async function recommendPlaylist(
  profile: TrainedProfile,
  request: PlaylistRequest,
  count: number,
  models: PlaylistModels,
): Promise<PlaylistRecommendation> {
  const { corpus, split } = profile;
  const idOfUri = new Map(corpus.tracks.uri.map((uri, id) => [uri, id]));
  const seeds: SeedOutcome = { used: [], unknown: [], outOfVocabulary: [] };
  const seedIds: number[] = [];
  for (const uri of request.seedUris) {
    const id = idOfUri.get(uri);
    if (id === undefined) {
      seeds.unknown.push(uri);
    } else {
      // Known tracks outside the vocabulary still count as seeds, so they are never recommended back.
      seedIds.push(id);
      if (split.vocabulary.tokenOfTrack[id] < 0) seeds.outOfVocabulary.push(uri);
      else seeds.used.push(uri);
    }
  }

  const query = { pid: 0, name: request.title, seeds: Int32Array.from(seedIds) };
  let method: RecommendationMethod = "popularity";
  let titleSeeds: Int32Array = new Int32Array();
  let titleMatch: SimilarPlaylists["method"] | undefined;
  let answer: Recommendation | undefined;
  if (seeds.used.length > 0) {
    method = "track2seq";
    answer = await withTrack2Seq(models, (model) => model.recommender.recommend([query], count));
  } else if (normalizeTitle(request.title).length > 0) {
    const cwva = await models.fitCwva();
    const titleQuery = { pid: 0, name: request.title, seeds: new Int32Array() };
    titleSeeds = cwva.cwvaSeeds(titleQuery, TITLE_SEED_COUNT);
    if (titleSeeds.length > 0) {
      method = "track2seq_cwva";
      titleMatch = cwva.similarityMethod(request.title);
      answer = await withTrack2Seq(
        models,
        (model) => continueTitle(model, cwva, titleQuery, query.seeds, count),
      );
    }
  }
  answer ??= profile.popularity.recommendOne(query, count);

  const scores = answer.scores;
  const tracks = Array.from(answer.tracks, (id, index): RecommendedTrack => ({
    rank: index + 1,
    uri: corpus.tracks.uri[id],
    name: corpus.tracks.name[id],
    artistName: corpus.tracks.artistName[id],
    score: scores[index],
  }));
  return {
    seeds,
    method,
    titleSeeds: Array.from(titleSeeds, (id) => corpus.tracks.uri[id]),
    titleMatch,
    popularityFallback: method === "popularity",
    tracks,
  };
}

/** Loads the Track2Seq model, runs `use` with it and disposes of it. */
async function withTrack2Seq(
  models: PlaylistModels,
  use: (model: LoadedTrack2Seq) => Promise<Recommendation[]>,
): Promise<Recommendation> {
  const model = await models.loadTrack2Seq();
  try {
    const [answer] = await use(model);
    return answer;
  } finally {
    model.dispose();
  }
}

/**
 * Recommends for a title with the study's track2seq_cwva method, leaving out `exclude`: the request's
 * known seeds, which the model cannot use. Track2SeqCwvaRecommender guesses seeds only for a playlist
 * without seeds, so they stay out of the query and are filtered from its recommendation instead.
 */
async function continueTitle(
  model: LoadedTrack2Seq,
  cwva: CwvaRecommender,
  query: PlaylistQuery,
  exclude: Int32Array,
  count: number,
): Promise<Recommendation[]> {
  const recommender = new Track2SeqCwvaRecommender(model.recommender, cwva, TITLE_SEED_COUNT);
  const [answer] = await recommender.recommend([query], count + exclude.length);
  const excluded = new Set(exclude);
  const keep = Array.from(answer.tracks.keys()).filter((k) => !excluded.has(answer.tracks[k])).slice(
    0,
    count,
  );
  return [{
    pid: answer.pid,
    tracks: Int32Array.from(keep, (k) => answer.tracks[k]),
    scores: Float32Array.from(keep, (k) => answer.scores[k]),
  }];
}
