/**
 * The interface that every playlist-continuation method implements, so evaluation treats them alike.
 * @module
 */

/** A playlist to continue: its title and its seed tracks (track ids of the corpus, in order). */
export interface PlaylistQuery {
  pid: number;
  name: string;
  seeds: Int32Array;
}

/** A ranked continuation: track ids of the corpus, best first, with one score per track. */
export interface Recommendation {
  pid: number;
  tracks: Int32Array;
  scores: Float32Array;
}

/** A fitted method that recommends tracks for playlists. */
export interface Recommender {
  /** The method name used in results files, such as `popularity` or `track2seq`. */
  readonly name: string;
  /**
   * Recommends up to `count` tracks for each query, best first, never a seed track of that query.
   * Returns one recommendation per query, in query order.
   */
  recommend(queries: PlaylistQuery[], count: number): Promise<Recommendation[]>;
}
