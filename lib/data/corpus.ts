/**
 * The in-memory form of an ingested playlist collection that every stage after ingestion works on.
 * @module
 */

/** Track metadata, column-wise; index `i` of each array describes the track with id `i`. */
export interface TrackTable {
  /** `spotify:track:...` URIs, unique. */
  uri: string[];
  name: string[];
  /** Empty string where the input had no artist URI. */
  artistUri: string[];
  artistName: string[];
  /** Empty string where the input had no album URI. */
  albumUri: string[];
}

/** One playlist, with its tracks as ids into the corpus's {@linkcode TrackTable}, in playlist order. */
export interface Playlist {
  pid: number;
  name: string;
  /** Seconds since the epoch, or null where the input had no `modified_at`. */
  modifiedAt: number | null;
  tracks: Int32Array;
}

/** An ingested collection: all playlists and the tracks they reference. */
export interface Corpus {
  tracks: TrackTable;
  /** Sorted by ascending pid. */
  playlists: Playlist[];
  /** True when every input file was written by this project's synthetic generator. */
  synthetic: boolean;
  /** The folder or file the corpus was ingested from. */
  source: string;
}
