/**
 * The model vocabulary: which corpus tracks become LSTM tokens, and the mapping both ways.
 * @module
 */

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
