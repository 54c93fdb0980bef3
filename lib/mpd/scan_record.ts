/**
 * A record of what {@linkcode scanSlice} hands to its sink, kept as spans into the file's bytes, so the scan
 * can run in a worker and the sink calls can be replayed on another thread in the same order.
 * @module
 */

import {
  type PlaylistFields,
  ScannedTrack,
  type SliceSink,
  TRACK_TEXT_FIELDS,
  type TrackView,
} from "./scan.ts";

const TEXT_FIELDS = TRACK_TEXT_FIELDS.length;

// Offsets of a track's values within its row of SliceRecord.tracks.
const URI_START = 0;
const URI_END = 1;
const URI_FORM = 2;
const POS = 3;
const DURATION = 4;
const PRESENT = 5;
const TEXT_STARTS = 6;
const TEXT_ENDS = TEXT_STARTS + TEXT_FIELDS;
const TEXT_FORMS = TEXT_ENDS + TEXT_FIELDS;
/** Int32 values per track in {@linkcode SliceRecord.tracks}. */
export const TRACK_STRIDE = TEXT_FORMS + TEXT_FIELDS;

/** Bits of `TrackView.present` for `pos` and `duration_ms`, as in `OPTIONAL_TRACK_FIELDS`. */
const POS_BIT = 1 << 0;
const DURATION_BIT = 1 << 6;

/** The sink calls of one scanned slice. */
export interface SliceRecord {
  /** {@linkcode TRACK_STRIDE} values per track, in call order. Only the first `trackRows` rows are in use. */
  tracks: Int32Array;
  trackRows: number;
  /** The playlists in call order, each with the length of its `tracks` array. */
  playlists: PlaylistFields[];
  trackCounts: number[];
}

/**
 * A sink that records the calls of {@linkcode scanSlice} as spans into the scanned bytes. It accepts only
 * the track views that `scanSlice` hands out.
 */
export class SliceRecorder implements SliceSink {
  #tracks: Int32Array;
  #rows = 0;
  readonly #playlists: PlaylistFields[] = [];
  readonly #trackCounts: number[] = [];

  /** @param tracks A buffer to reuse for the track rows, grown when too small. */
  constructor(tracks: Int32Array = new Int32Array(TRACK_STRIDE << 12)) {
    this.#tracks = tracks;
  }

  track(view: TrackView): void {
    if (!(view instanceof ScannedTrack)) {
      throw new TypeError("Recording a slice failed: SliceRecorder records only the tracks of scanSlice");
    }
    const base = this.#rows * TRACK_STRIDE;
    if (base + TRACK_STRIDE > this.#tracks.length) {
      const grown = new Int32Array(Math.max(this.#tracks.length * 2, base + TRACK_STRIDE));
      grown.set(this.#tracks);
      this.#tracks = grown;
    }
    const row = this.#tracks;
    row[base + URI_START] = view.uriStart;
    row[base + URI_END] = view.uriEnd;
    row[base + URI_FORM] = view.uriForm;
    row[base + POS] = view.pos ?? 0;
    row[base + DURATION] = view.durationMs ?? 0;
    row[base + PRESENT] = view.present;
    for (let k = 0; k < TEXT_FIELDS; k++) {
      row[base + TEXT_STARTS + k] = view.textStarts[k];
      row[base + TEXT_ENDS + k] = view.textEnds[k];
      row[base + TEXT_FORMS + k] = view.textForms[k];
    }
    this.#rows++;
  }

  playlist(playlist: PlaylistFields, trackCount: number): void {
    this.#playlists.push(playlist);
    this.#trackCounts.push(trackCount);
  }

  /** Returns the record of the calls so far. */
  record(): SliceRecord {
    return {
      tracks: this.#tracks,
      trackRows: this.#rows,
      playlists: this.#playlists,
      trackCounts: this.#trackCounts,
    };
  }
}

/**
 * Makes the sink calls of a record on `sink`, in the order `scanSlice` made them, with track views that
 * read their strings from `bytes`, the bytes that were scanned.
 */
export function replaySlice(record: SliceRecord, bytes: Uint8Array, sink: SliceSink): void {
  const track = new ScannedTrack();
  track.textBytes = bytes;
  const rows = record.tracks;
  let base = 0;
  for (let p = 0; p < record.playlists.length; p++) {
    const count = record.trackCounts[p];
    for (let index = 0; index < count; index++, base += TRACK_STRIDE) {
      const form = rows[base + URI_FORM];
      const present = rows[base + PRESENT];
      track.uriStart = rows[base + URI_START];
      track.uriEnd = rows[base + URI_END];
      track.uriForm = form;
      track.uriBytes = form === 0 ? bytes : undefined;
      track.pos = (present & POS_BIT) === 0 ? undefined : rows[base + POS];
      track.durationMs = (present & DURATION_BIT) === 0 ? undefined : rows[base + DURATION];
      track.present = present;
      for (let k = 0; k < TEXT_FIELDS; k++) {
        track.textStarts[k] = rows[base + TEXT_STARTS + k];
        track.textEnds[k] = rows[base + TEXT_ENDS + k];
        track.textForms[k] = rows[base + TEXT_FORMS + k];
      }
      sink.track(track, index);
    }
    sink.playlist(record.playlists[p], count);
  }
}
