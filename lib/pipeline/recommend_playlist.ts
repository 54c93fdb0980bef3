/**
 * Continuing one playlist, given by title and seed track URIs, with a profile's trained Track2Seq model.
 * @module
 */

import type { LoadedTrack2Seq, TrainedProfile } from "./trained_profile.ts";

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

/** The result of {@linkcode recommendPlaylist}. */
export interface PlaylistRecommendation {
  seeds: SeedOutcome;
  /** True when no seed was usable, so the recommendation is the most popular training tracks. */
  popularityFallback: boolean;
  tracks: RecommendedTrack[];
}

/**
 * Recommends up to `count` tracks to continue a playlist, never one of its seeds.
 *
 * With no usable seed, the recommendation comes from the popularity baseline and `loadModel` is not
 * called.
 *
 * @param profile The profile's corpus, split and popularity baseline.
 * @param request The title and seed URIs.
 * @param count The number of tracks, at most.
 * @param loadModel Loads the Track2Seq model; the model is disposed before this returns.
 */
export async function recommendPlaylist(
  profile: TrainedProfile,
  request: PlaylistRequest,
  count: number,
  loadModel: () => Promise<LoadedTrack2Seq>,
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
  const popularityFallback = seeds.used.length === 0;
  let answer;
  if (popularityFallback) {
    answer = profile.popularity.recommendOne(query, count);
  } else {
    const model = await loadModel();
    try {
      [answer] = await model.recommender.recommend([query], count);
    } finally {
      model.dispose();
    }
  }

  const tracks = Array.from(answer.tracks, (id, index): RecommendedTrack => ({
    rank: index + 1,
    uri: corpus.tracks.uri[id],
    name: corpus.tracks.name[id],
    artistName: corpus.tracks.artistName[id],
    score: answer.scores[index],
  }));
  return { seeds, popularityFallback, tracks };
}
