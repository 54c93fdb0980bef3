/**
 * Readable tables of tracks: seeds and continuations with their names, scores and hits.
 * @module
 */

import type { Corpus } from "../data/corpus.ts";

/** One row of {@linkcode describeTracks}. */
export interface TrackRow {
  /** Position in the list, from 1. */
  rank: number;
  track: string;
  artist: string;
  /** The method's score, where scores were given. */
  score?: number;
  /** Whether the track is in the playlist's ground truth, where the ground truth was given. */
  hit?: boolean;
}

/** Options of {@linkcode describeTracks}. */
export interface DescribeTracksOptions {
  /** One score per track, such as a continuation's summed probabilities. Default: no score column. */
  scores?: ArrayLike<number>;
  /** Track ids of the ground truth, to mark hits. Default: no hit column. */
  groundTruth?: ArrayLike<number>;
  /** Rows returned at most. Default 10. */
  limit?: number;
}

/**
 * Lists the first tracks of a list by name and artist, with their scores and whether each is a hit.
 *
 * @param corpus The corpus whose track ids `tracks` holds.
 * @param tracks Track ids, best first.
 * @param options Scores, ground truth and row limit; see {@linkcode DescribeTracksOptions}.
 */
export function describeTracks(
  corpus: Corpus,
  tracks: ArrayLike<number>,
  options: DescribeTracksOptions = {},
): TrackRow[] {
  const truth = options.groundTruth === undefined ? undefined : new Set(Array.from(options.groundTruth));
  const count = Math.min(tracks.length, options.limit ?? 10);

  const rows: TrackRow[] = [];
  for (let i = 0; i < count; i++) {
    const track = tracks[i];
    const row: TrackRow = {
      rank: i + 1,
      track: corpus.tracks.name[track] || corpus.tracks.uri[track],
      artist: corpus.tracks.artistName[track],
    };
    if (options.scores !== undefined) row.score = options.scores[i];
    if (truth !== undefined) row.hit = truth.has(track);
    rows.push(row);
  }
  return rows;
}
