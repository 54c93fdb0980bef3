/**
 * The model vocabulary: which corpus tracks become LSTM tokens, and the mapping both ways.
 * @module
 */

import type { Corpus } from "./corpus.ts";

/** Token that ends every playlist in the training stream. */
export const EOS_TOKEN = 0;
/** Token for a track outside the vocabulary; reserved, since out-of-vocabulary tracks are dropped. */
export const UNK_TOKEN = 1;
/** Number of special tokens before the first track token. */
export const SPECIAL_TOKENS = 2;

/** A mapping between corpus track ids and model tokens. Track tokens are ordered by descending count. */
export interface Vocabulary {
  /** Token of each corpus track id, or -1 when the track is out of vocabulary. */
  tokenOfTrack: Int32Array;
  /** Corpus track id of each token, or -1 for the special tokens. */
  trackOfToken: Int32Array;
  /** Number of tokens, special tokens included. */
  size: number;
}

/** Options of {@linkcode buildVocabulary}. */
export interface VocabularyOptions {
  /** A training track joins the vocabulary when its count is strictly greater than this. Default 5. */
  minCountExclusive: number;
}

/**
 * Builds the thesis vocabulary: a track is kept when it occurs more than `minCountExclusive` times over
 * the training playlists, or when it occurs in an evaluation playlist. Track tokens are numbered by
 * descending training count (ties by track id) after the special tokens.
 */
export function buildVocabulary(
  corpus: Corpus,
  trainPlaylists: number[],
  evaluationPlaylists: number[],
  options: Partial<VocabularyOptions> = {},
): Vocabulary {
  const { minCountExclusive } = { minCountExclusive: 5, ...options };
  const trackCount = corpus.tracks.uri.length;

  const counts = new Int32Array(trackCount);
  for (const index of trainPlaylists) {
    for (const track of corpus.playlists[index].tracks) counts[track]++;
  }
  const kept = new Uint8Array(trackCount);
  for (let track = 0; track < trackCount; track++) kept[track] = counts[track] > minCountExclusive ? 1 : 0;
  for (const index of evaluationPlaylists) {
    for (const track of corpus.playlists[index].tracks) kept[track] = 1;
  }

  const tracks: number[] = [];
  for (let track = 0; track < trackCount; track++) if (kept[track]) tracks.push(track);
  tracks.sort((a, b) => counts[b] - counts[a] || a - b);

  const tokenOfTrack = new Int32Array(trackCount).fill(-1);
  const trackOfToken = new Int32Array(tracks.length + SPECIAL_TOKENS).fill(-1);
  tracks.forEach((track, i) => {
    tokenOfTrack[track] = i + SPECIAL_TOKENS;
    trackOfToken[i + SPECIAL_TOKENS] = track;
  });
  return { tokenOfTrack, trackOfToken, size: trackOfToken.length };
}

/**
 * Concatenates the playlists' tracks as tokens, each playlist followed by {@linkcode EOS_TOKEN}, in the
 * given order. Out-of-vocabulary tracks are dropped, as in the thesis.
 */
export function tokenStream(corpus: Corpus, playlistIndices: number[], vocabulary: Vocabulary): Int32Array {
  let length = 0;
  for (const index of playlistIndices) length += corpus.playlists[index].tracks.length + 1;

  const tokens = new Int32Array(length);
  let at = 0;
  for (const index of playlistIndices) {
    for (const track of corpus.playlists[index].tracks) {
      const token = vocabulary.tokenOfTrack[track];
      if (token >= 0) tokens[at++] = token;
    }
    tokens[at++] = EOS_TOKEN;
  }
  return tokens.slice(0, at);
}
