/**
 * Types of the Spotify Million Playlist Dataset (MPD) slice files, `mpd.slice.<start>-<end>.json`.
 *
 * Fields marked optional are often missing in cut-down copies of the dataset; readers must accept that.
 * @module
 */

/** One track occurrence inside a playlist. */
export interface MpdTrack {
  /** 0-based position in the playlist. */
  pos?: number;
  /** `spotify:track:<22 characters>`. */
  track_uri: string;
  track_name?: string;
  artist_uri?: string;
  artist_name?: string;
  album_uri?: string;
  album_name?: string;
  duration_ms?: number;
}

/** One playlist of a slice file. */
export interface MpdPlaylist {
  pid: number;
  name?: string;
  description?: string;
  /** Seconds since the epoch, midnight GMT. */
  modified_at?: number;
  num_tracks?: number;
  num_albums?: number;
  num_artists?: number;
  num_followers?: number;
  num_edits?: number;
  duration_ms?: number;
  /** The strings "true" or "false", as in the MPD. */
  collaborative?: string;
  tracks: MpdTrack[];
}

/** The `info` header of a slice file. */
export interface MpdSliceInfo {
  generated_on: string;
  slice: string;
  version: string;
  /** Present and true in files written by this project's generator. */
  synthetic?: boolean;
  /** Free text that says where a synthetic file came from. */
  description?: string;
}

/** A whole slice file. */
export interface MpdSlice {
  info: MpdSliceInfo;
  playlists: MpdPlaylist[];
}
