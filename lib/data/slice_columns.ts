/**
 * The columns of one slice file as ingestion builds them: playlists, track occurrences as track ids, and
 * the counts that the ingest report sums up.
 * @module
 */

import { OPTIONAL_TRACK_FIELDS, type PlaylistFields, type SliceSink, type TrackView } from "../mpd/scan.ts";
import type { MpdPlaylist } from "../mpd/schema.ts";
/** Turns track occurrences into track ids, such as the ingestion's `TrackDictionary`. */
export interface TrackResolver {
  /** Returns the id of the occurrence's track, adding the track when it is new. */
  resolve(track: TrackView): number;
  /** The number of ids given out so far; every id is below it. */
  readonly size: number;
}

/** Optional playlist fields whose absence the report counts. */
export const OPTIONAL_PLAYLIST_FIELDS = [
  "name",
  "description",
  "modified_at",
  "num_tracks",
  "num_albums",
  "num_artists",
  "num_followers",
  "num_edits",
  "duration_ms",
  "collaborative",
] as const satisfies readonly (keyof MpdPlaylist)[];

export { OPTIONAL_TRACK_FIELDS };

/** Per optional field, the number of playlists or track occurrences that lacked it. */
export interface MissingFieldCounts {
  playlist: Record<(typeof OPTIONAL_PLAYLIST_FIELDS)[number], number>;
  track: Record<(typeof OPTIONAL_TRACK_FIELDS)[number], number>;
}

/** The counts of one slice, or of a whole ingestion, that the ingest report shows. */
export interface SliceCounts {
  /** Playlists in the tables. */
  playlists: number;
  /** Track occurrences in the tables. */
  track_occurrences: number;
  /** Counted over every playlist read, skipped ones included. */
  missing: MissingFieldCounts;
  /**
   * Playlists in the tables whose `num_tracks` differs from the length of their `tracks` array. A skipped
   * empty playlist is counted only under `skipped`.
   */
  num_tracks_mismatches: number;
  /** Playlists left out of the tables, by reason. */
  skipped: {
    /** Pids of playlists whose `tracks` array is empty: they have nothing to learn from or to hold out. */
    empty_playlists: number[];
  };
  /** Playlists that contain some track more than once. They are kept with every repeat. */
  repeated_tracks: {
    playlists: number;
    /** Occurrences of a track that an earlier position of the same playlist already has. */
    occurrences: number;
  };
}

/** Returns counts of zero. */
export function emptyCounts(): SliceCounts {
  return {
    playlists: 0,
    track_occurrences: 0,
    missing: {
      playlist: Object.fromEntries(OPTIONAL_PLAYLIST_FIELDS.map((key) => [key, 0])) as MissingFieldCounts[
        "playlist"
      ],
      track: Object.fromEntries(OPTIONAL_TRACK_FIELDS.map((key) => [key, 0])) as MissingFieldCounts["track"],
    },
    num_tracks_mismatches: 0,
    skipped: { empty_playlists: [] },
    repeated_tracks: { playlists: 0, occurrences: 0 },
  };
}

/** Adds `counts` to `total`. */
export function addCounts(total: SliceCounts, counts: SliceCounts): void {
  total.playlists += counts.playlists;
  total.track_occurrences += counts.track_occurrences;
  for (const key of OPTIONAL_PLAYLIST_FIELDS) total.missing.playlist[key] += counts.missing.playlist[key];
  for (const key of OPTIONAL_TRACK_FIELDS) total.missing.track[key] += counts.missing.track[key];
  total.num_tracks_mismatches += counts.num_tracks_mismatches;
  total.skipped.empty_playlists.push(...counts.skipped.empty_playlists);
  total.repeated_tracks.playlists += counts.repeated_tracks.playlists;
  total.repeated_tracks.occurrences += counts.repeated_tracks.occurrences;
}

/** One slice's kept playlists and their track occurrences as columns, in input order. */
export interface SliceRows {
  pid: number[];
  name: (string | null)[];
  description: (string | null)[];
  modifiedAt: (number | null)[];
  numTracks: (number | null)[];
  numFollowers: (number | null)[];
  numEdits: (number | null)[];
  collaborative: (boolean | null)[];
  /** Index of each playlist's first row in the occurrence columns; its rows run to the next one's. */
  firstOccurrence: number[];
  /** Occurrence columns; only the first {@linkcode occurrences} entries are in use. */
  pos: Int32Array;
  trackId: Int32Array;
  occurrences: number;
}

/**
 * Collects one slice's playlists and track occurrences as columns, in input order, resolving track URIs
 * through a {@linkcode TrackResolver}. Playlists with no tracks are counted and left out.
 */
export class SliceColumns implements SliceSink, SliceRows {
  /** Kept playlists, in input order. */
  readonly pid: number[] = [];
  readonly name: (string | null)[] = [];
  readonly description: (string | null)[] = [];
  readonly modifiedAt: (number | null)[] = [];
  readonly numTracks: (number | null)[] = [];
  readonly numFollowers: (number | null)[] = [];
  readonly numEdits: (number | null)[] = [];
  readonly collaborative: (boolean | null)[] = [];
  /** Index of each kept playlist's first row in the occurrence columns. */
  readonly firstOccurrence: number[] = [];
  /** Pids of every playlist read, skipped ones included, for the check across slices. */
  readonly pidsRead: number[] = [];

  /** Occurrence columns; only the first {@linkcode occurrences} entries are in use. */
  pos = new Int32Array(1 << 12);
  trackId = new Int32Array(1 << 12);
  occurrences = 0;

  readonly #dictionary: TrackResolver;
  readonly #missingPlaylist = new Int32Array(OPTIONAL_PLAYLIST_FIELDS.length);
  /** Occurrences by their `present` bits, from which the missing counts of track fields follow. */
  readonly #presentHistogram = new Int32Array(1 << OPTIONAL_TRACK_FIELDS.length);
  #mismatches = 0;
  readonly #emptyPids: number[] = [];
  #repeatPlaylists = 0;
  #repeatOccurrences = 0;
  /** First occurrence row of the playlist being read. */
  #playlistStart = 0;
  /** Per track id, the serial number of the last playlist that contained it, to find repeats. */
  #lastPlaylist = new Int32Array(1 << 12);
  #serial = 0;

  constructor(dictionary: TrackResolver) {
    this.#dictionary = dictionary;
  }

  track(track: TrackView, index: number): void {
    const id = this.#dictionary.resolve(track);
    const row = this.occurrences;
    if (row === this.pos.length) this.#growOccurrences();
    this.pos[row] = track.pos ?? index;
    this.trackId[row] = id;
    this.occurrences = row + 1;

    this.#presentHistogram[track.present]++;
  }

  playlist(playlist: PlaylistFields, trackCount: number): void {
    for (let k = 0; k < OPTIONAL_PLAYLIST_FIELDS.length; k++) {
      if (playlist[OPTIONAL_PLAYLIST_FIELDS[k]] === undefined) this.#missingPlaylist[k]++;
    }
    this.pidsRead.push(playlist.pid);

    const start = this.#playlistStart;
    this.#playlistStart = this.occurrences;
    if (trackCount === 0) {
      this.#emptyPids.push(playlist.pid);
      return;
    }
    if (playlist.num_tracks !== undefined && playlist.num_tracks !== trackCount) this.#mismatches++;
    this.#countRepeats(start, this.occurrences);

    this.pid.push(playlist.pid);
    this.name.push(playlist.name ?? null);
    this.description.push(playlist.description ?? null);
    this.modifiedAt.push(playlist.modified_at ?? null);
    this.numTracks.push(playlist.num_tracks ?? null);
    this.numFollowers.push(playlist.num_followers ?? null);
    this.numEdits.push(playlist.num_edits ?? null);
    this.collaborative.push(playlist.collaborative === undefined ? null : playlist.collaborative === "true");
    this.firstOccurrence.push(start);
  }

  /** Returns the counts of the slice. */
  counts(): SliceCounts {
    const counts = emptyCounts();
    counts.playlists = this.pid.length;
    counts.track_occurrences = this.occurrences;
    OPTIONAL_PLAYLIST_FIELDS.forEach((key, k) => counts.missing.playlist[key] = this.#missingPlaylist[k]);
    this.#presentHistogram.forEach((occurrences, present) => {
      OPTIONAL_TRACK_FIELDS.forEach((key, bit) => {
        if ((present & (1 << bit)) === 0) counts.missing.track[key] += occurrences;
      });
    });
    counts.num_tracks_mismatches = this.#mismatches;
    counts.skipped.empty_playlists = [...this.#emptyPids];
    counts.repeated_tracks = { playlists: this.#repeatPlaylists, occurrences: this.#repeatOccurrences };
    return counts;
  }

  #countRepeats(start: number, end: number): void {
    const serial = ++this.#serial;
    const size = this.#dictionary.size;
    if (size > this.#lastPlaylist.length) {
      const grown = new Int32Array(Math.max(size, this.#lastPlaylist.length * 2));
      grown.set(this.#lastPlaylist);
      this.#lastPlaylist = grown;
    }
    let repeats = 0;
    for (let row = start; row < end; row++) {
      const id = this.trackId[row];
      if (this.#lastPlaylist[id] === serial) repeats++;
      else this.#lastPlaylist[id] = serial;
    }
    if (repeats > 0) {
      this.#repeatPlaylists++;
      this.#repeatOccurrences += repeats;
    }
  }

  #growOccurrences(): void {
    const pos = new Int32Array(this.pos.length * 2);
    pos.set(this.pos);
    this.pos = pos;
    const trackId = new Int32Array(this.trackId.length * 2);
    trackId.set(this.trackId);
    this.trackId = trackId;
  }
}
