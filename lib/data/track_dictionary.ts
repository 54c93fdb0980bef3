/**
 * The dictionary of unique tracks that ingestion grows slice by slice: an id per track URI, in order of
 * first occurrence, and each track's metadata.
 * @module
 */

import { TRACK_TEXT_FIELDS, type TrackTextField, type TrackView } from "../mpd/scan.ts";
import { AsciiKeyIndex } from "./ascii_key_index.ts";

/** Metadata fields of a track, by slot: the text fields in `TRACK_TEXT_FIELDS` order, then duration_ms. */
const DURATION_SLOT = TRACK_TEXT_FIELDS.length;
const FIELD_COUNT = DURATION_SLOT + 1;

/** Bits of `TrackView.present` for the text fields and duration_ms, which follow `pos` (bit 0). */
const METADATA_BITS = ((1 << FIELD_COUNT) - 1) << 1;

/** One track's row, as in `tracks.parquet`. */
export interface TrackRow {
  uri: string;
  text: Record<TrackTextField, string | null>;
  durationMs: number | null;
}

/**
 * Track ids by URI, with the metadata of each track taken from its first occurrence and filled in from
 * later occurrences where the first one lacked a field.
 *
 * Changes since {@linkcode mark} can be undone with {@linkcode rollback}, so a slice read in part can be
 * discarded, and listed with {@linkcode changedSinceMark}, so each slice's part records what it changed.
 */
export class TrackDictionary {
  /** Ids of ASCII URIs, looked up by their bytes; every real track URI is ASCII. */
  readonly #asciiIds = new AsciiKeyIndex();
  /** Ids of the other URIs. */
  readonly #otherIds = new Map<string, number>();
  /** A buffer for the bytes of an ASCII URI given as a string. */
  #scratch = new Uint8Array(256);
  /** Key bytes in the ASCII index at the mark. */
  #markAsciiBytes = 0;
  /** `track_uri` by id. */
  readonly uri: string[] = [];
  /** Text fields by slot, each indexed by id; null where no occurrence had the field. */
  readonly text: (string | null)[][] = TRACK_TEXT_FIELDS.map(() => []);
  /** `duration_ms` by id; null where no occurrence had it. */
  readonly durationMs: (number | null)[] = [];
  /** 1 for ids whose metadata has every field, so later occurrences need no look at it. */
  #complete = new Uint8Array(1024);
  #markSize = 0;
  /** Ids filled in since the mark, each with the slot it filled. */
  #fills: number[] = [];

  /** The number of tracks. */
  get size(): number {
    return this.uri.length;
  }

  /** Returns the id of a URI, or -1 when the dictionary does not contain it. */
  idOf(uri: string): number {
    const length = this.#encodeAscii(uri);
    if (length < 0) return this.#otherIds.get(uri) ?? -1;
    return this.#asciiIds.find(this.#scratch, 0, length);
  }

  /** Returns the id of the occurrence's track, adding the track or filling its missing fields. */
  resolve(track: TrackView): number {
    const bytes = track.uriBytes;
    const known = bytes === undefined
      ? this.idOf(track.uri)
      : this.#asciiIds.find(bytes, track.uriStart, track.uriEnd);
    if (known < 0) return this.#add(track.uri, track);
    if (this.#complete[known] === 0 && (track.present & METADATA_BITS) !== 0) this.#fill(known, track);
    return known;
  }

  /** Writes an ASCII string's bytes to the scratch buffer and returns their number, or -1 if not ASCII. */
  #encodeAscii(uri: string): number {
    if (uri.length > this.#scratch.length) this.#scratch = new Uint8Array(uri.length * 2);
    for (let k = 0; k < uri.length; k++) {
      const code = uri.charCodeAt(k);
      if (code >= 0x80) return -1;
      this.#scratch[k] = code;
    }
    return uri.length;
  }

  #addKey(uri: string, id: number): void {
    const length = this.#encodeAscii(uri);
    if (length < 0) this.#otherIds.set(uri, id);
    else this.#asciiIds.insert(this.#scratch, 0, length, id);
  }

  #add(uri: string, track: TrackView): number {
    const id = this.uri.length;
    this.#addKey(uri, id);
    this.uri.push(uri);
    let complete = 1;
    for (let slot = 0; slot < TRACK_TEXT_FIELDS.length; slot++) {
      const value = track.text(TRACK_TEXT_FIELDS[slot]) ?? null;
      if (value === null) complete = 0;
      this.text[slot].push(value);
    }
    const duration = track.durationMs ?? null;
    if (duration === null) complete = 0;
    this.durationMs.push(duration);
    this.#setComplete(id, complete);
    return id;
  }

  #fill(id: number, track: TrackView): void {
    let complete = 1;
    for (let slot = 0; slot < TRACK_TEXT_FIELDS.length; slot++) {
      if (this.text[slot][id] !== null) continue;
      const value = track.text(TRACK_TEXT_FIELDS[slot]);
      if (value === undefined) {
        complete = 0;
        continue;
      }
      this.text[slot][id] = value;
      if (id < this.#markSize) this.#fills.push(id, slot);
    }
    if (this.durationMs[id] === null) {
      if (track.durationMs === undefined) {
        complete = 0;
      } else {
        this.durationMs[id] = track.durationMs;
        if (id < this.#markSize) this.#fills.push(id, DURATION_SLOT);
      }
    }
    this.#setComplete(id, complete);
  }

  #setComplete(id: number, complete: number): void {
    if (id >= this.#complete.length) {
      const grown = new Uint8Array(Math.max(this.#complete.length * 2, id + 1));
      grown.set(this.#complete);
      this.#complete = grown;
    }
    this.#complete[id] = complete;
  }

  /** Starts recording changes, dropping the record of earlier ones. */
  mark(): void {
    this.#markSize = this.uri.length;
    this.#markAsciiBytes = this.#asciiIds.byteLength;
    this.#fills = [];
  }

  /** Undoes every change since the last {@linkcode mark}. */
  rollback(): void {
    this.#asciiIds.truncate(this.#markAsciiBytes, this.#markSize);
    for (let id = this.#markSize; id < this.uri.length; id++) this.#otherIds.delete(this.uri[id]);
    this.uri.length = this.#markSize;
    for (const column of this.text) column.length = this.#markSize;
    this.durationMs.length = this.#markSize;

    for (let k = 0; k < this.#fills.length; k += 2) {
      const id = this.#fills[k];
      const slot = this.#fills[k + 1];
      if (slot === DURATION_SLOT) this.durationMs[id] = null;
      else this.text[slot][id] = null;
      this.#complete[id] = 0;
    }
    this.#fills = [];
  }

  /** The first id added since the last {@linkcode mark}. */
  get markSize(): number {
    return this.#markSize;
  }

  /** Ids added or filled in since the last {@linkcode mark}, ascending. */
  changedSinceMark(): number[] {
    const filled = new Set<number>();
    for (let k = 0; k < this.#fills.length; k += 2) filled.add(this.#fills[k]);
    const ids = [...filled].sort((a, b) => a - b);
    for (let id = this.#markSize; id < this.uri.length; id++) ids.push(id);
    return ids;
  }

  /**
   * Sets a track's row as a part recorded it: adds the track when `id` is the next id, or replaces the
   * row of a known id.
   *
   * @throws {RangeError} When `id` is beyond the next id, or the URI of a known id differs.
   */
  restore(id: number, row: TrackRow): void {
    if (id > this.uri.length || (id < this.uri.length && this.uri[id] !== row.uri)) {
      throw new RangeError(
        `Restoring track ${id} (${row.uri}) failed: the dictionary has ${this.uri.length} tracks` +
          (id < this.uri.length ? ` and id ${id} is ${this.uri[id]}` : ""),
      );
    }
    if (id === this.uri.length) {
      this.#addKey(row.uri, id);
      this.uri.push(row.uri);
      for (const column of this.text) column.push(null);
      this.durationMs.push(null);
    }
    let complete = 1;
    for (let slot = 0; slot < TRACK_TEXT_FIELDS.length; slot++) {
      const value = row.text[TRACK_TEXT_FIELDS[slot]];
      this.text[slot][id] = value;
      if (value === null) complete = 0;
    }
    this.durationMs[id] = row.durationMs;
    if (row.durationMs === null) complete = 0;
    this.#setComplete(id, complete);
  }
}
