/**
 * The dictionary of unique tracks that ingestion grows slice by slice: an id per track URI, in order of
 * first occurrence, and each track's metadata.
 *
 * The metadata is kept as UTF-8 bytes in one buffer, copied from the slice file where the scanner found
 * plain ASCII, so a new track needs no JavaScript strings. The rows leave the dictionary as CSV bytes
 * ({@linkcode TrackDictionary.csv}), which nodejs-polars 0.25.2 parses in Rust. In CPU profiles of
 * `bench/ingest_run.ts` on 2 cores, that cost less than decoding each field and handing the strings to
 * nodejs-polars one by one, which converts each string on its own.
 * @module
 */

import { Buffer } from "node:buffer";
import pl from "nodejs-polars";
import { decodeStringSpan, TRACK_TEXT_FIELDS, type TrackTextField, type TrackView } from "../mpd/scan.ts";
import { AsciiKeyIndex } from "./ascii_key_index.ts";

/** Text columns of a track, by slot: `track_uri`, then the fields of `TRACK_TEXT_FIELDS` in order. */
const URI_SLOT = 0;
const TEXT_SLOTS = 1 + TRACK_TEXT_FIELDS.length;
/** The slot that the record of filled fields uses for duration_ms, after the text slots. */
const DURATION_SLOT = TEXT_SLOTS;

/** Bits of `TrackView.present` for the text fields and duration_ms, which follow `pos` (bit 0). */
const METADATA_BITS = ((1 << (TRACK_TEXT_FIELDS.length + 1)) - 1) << 1;
/** The bit of `TrackView.present` for duration_ms. */
const DURATION_BIT = 1 << (TRACK_TEXT_FIELDS.length + 1);

/** The marker of a missing text field in the lengths, and of a missing duration. */
const MISSING = -1;

/** The largest metadata buffer, in bytes, because its offsets are 32-bit. */
const MAX_ARENA_BYTES = 2 ** 32 - 1;

const QUOTE = 0x22;
const COMMA = 0x2c;
const NEWLINE = 0x0a;
const DIGIT_0 = 0x30;
/** Digits of the largest integer that {@linkcode ByteWriter.integer} writes here, 2^31 - 1. */
const MAX_INTEGER_DIGITS = 10;

const encoder = new TextEncoder();
const utf8 = new TextDecoder();

/** The columns of `tracks.parquet`, in order, as {@linkcode TrackDictionary.csv} writes them. */
export const TRACK_TABLE_SCHEMA = {
  track_id: pl.Int32,
  track_uri: pl.Utf8,
  ...Object.fromEntries(TRACK_TEXT_FIELDS.map((field) => [field, pl.Utf8])),
  duration_ms: pl.Int32,
} as Record<string, pl.DataType>;

const CSV_HEADER = encoder.encode(Object.keys(TRACK_TABLE_SCHEMA).join(",") + "\n");

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

  /** UTF-8 contents of the text columns, one after another. */
  #arena = new Uint8Array(1 << 16);
  #arenaLength = 0;
  #markArenaLength = 0;
  /** Per id and slot (`id * TEXT_SLOTS + slot`): where the content starts in the arena. */
  #starts = new Uint32Array(1024 * TEXT_SLOTS);
  /** Per id and slot: the content's length in bytes, or MISSING. */
  #lengths = new Int32Array(1024 * TEXT_SLOTS);
  /** Per id: bit `slot` is set when the content contains a double quote, which CSV doubles. */
  #quotes = new Uint8Array(1024);
  /** `duration_ms` by id, or MISSING. */
  #durations = new Int32Array(1024);
  /** 1 for ids whose metadata has every field, so later occurrences need no look at it. */
  #complete = new Uint8Array(1024);
  #size = 0;
  #markSize = 0;
  /** Ids filled in since the mark, each with the slot it filled. */
  #fills: number[] = [];

  /** The number of tracks. */
  get size(): number {
    return this.#size;
  }

  /** Returns the id of a URI, or -1 when the dictionary does not contain it. */
  idOf(uri: string): number {
    const length = this.#encodeAscii(uri);
    if (length < 0) return this.#otherIds.get(uri) ?? -1;
    return this.#asciiIds.find(this.#scratch, 0, length);
  }

  /** Returns the `track_uri` of an id below {@linkcode size}. */
  uriOf(id: number): string {
    return this.#text(id, URI_SLOT) as string;
  }

  /** Returns the row of an id below {@linkcode size}. */
  row(id: number): TrackRow {
    const text = {} as Record<TrackTextField, string | null>;
    TRACK_TEXT_FIELDS.forEach((field, k) => text[field] = this.#text(id, 1 + k));
    const duration = this.#durations[id];
    return { uri: this.uriOf(id), text, durationMs: duration === MISSING ? null : duration };
  }

  /** Returns the id of the occurrence's track, adding the track or filling its missing fields. */
  resolve(track: TrackView): number {
    const bytes = track.uriBytes;
    const known = bytes === undefined
      ? this.idOf(track.uri)
      : this.#asciiIds.find(bytes, track.uriStart, track.uriEnd);
    if (known < 0) return this.#add(track);
    if (this.#complete[known] === 0 && (track.present & METADATA_BITS) !== 0) this.#fill(known, track);
    return known;
  }

  /**
   * Returns the rows of the given ids, in that order, as CSV with a header line: the columns of
   * {@linkcode TRACK_TABLE_SCHEMA}, every present text quoted and a missing one empty, so
   * {@linkcode trackTable} reads a missing field as null and an empty text as "".
   *
   * @param ids Ids below {@linkcode size}; all of them, ascending, when unset.
   */
  csv(ids?: ArrayLike<number>): Uint8Array {
    const count = ids === undefined ? this.#size : ids.length;
    const lengths = this.#lengths;
    const starts = this.#starts;
    const arena = this.#arena;

    // The exact size, but for doubled quotes, which the writer grows the buffer for.
    let size = CSV_HEADER.length;
    for (let k = 0; k < count; k++) {
      const id = ids === undefined ? k : ids[k];
      size += MAX_INTEGER_DIGITS * 2 + TEXT_SLOTS * 3 + 2;
      for (let slot = 0; slot < TEXT_SLOTS; slot++) size += Math.max(0, lengths[id * TEXT_SLOTS + slot]);
    }
    const out = new ByteWriter(size);
    out.bytes(CSV_HEADER, 0, CSV_HEADER.length);

    for (let k = 0; k < count; k++) {
      const id = ids === undefined ? k : ids[k];
      out.integer(id);
      const base = id * TEXT_SLOTS;
      const quotes = this.#quotes[id];
      for (let slot = 0; slot < TEXT_SLOTS; slot++) {
        out.byte(COMMA);
        const length = lengths[base + slot];
        if (length === MISSING) continue;
        out.byte(QUOTE);
        const start = starts[base + slot];
        if ((quotes & (1 << slot)) === 0) out.bytes(arena, start, start + length);
        else out.doublingQuotes(arena, start, start + length);
        out.byte(QUOTE);
      }
      out.byte(COMMA);
      const duration = this.#durations[id];
      if (duration !== MISSING) out.integer(duration);
      out.byte(NEWLINE);
    }
    return out.result();
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

  #add(track: TrackView): number {
    const id = this.#size;
    this.#reserve(id + 1);
    this.#size = id + 1;
    this.#quotes[id] = 0;

    const bytes = track.uriBytes;
    if (bytes === undefined) {
      const uri = track.uri;
      this.#addKey(uri, id);
      this.#storeString(id, URI_SLOT, uri);
    } else {
      this.#asciiIds.insert(bytes, track.uriStart, track.uriEnd, id);
      this.#storeAscii(id, URI_SLOT, bytes, track.uriStart, track.uriEnd);
    }

    const present = track.present;
    let complete = 1;
    for (let k = 0; k < TRACK_TEXT_FIELDS.length; k++) {
      if ((present & (2 << k)) === 0) {
        this.#lengths[id * TEXT_SLOTS + 1 + k] = MISSING;
        complete = 0;
      } else {
        this.#storeField(id, k, track);
      }
    }
    if ((present & DURATION_BIT) === 0) {
      this.#durations[id] = MISSING;
      complete = 0;
    } else {
      this.#durations[id] = track.durationMs as number;
    }
    this.#complete[id] = complete;
    return id;
  }

  #fill(id: number, track: TrackView): void {
    const present = track.present;
    let complete = 1;
    for (let k = 0; k < TRACK_TEXT_FIELDS.length; k++) {
      const slot = 1 + k;
      if (this.#lengths[id * TEXT_SLOTS + slot] !== MISSING) continue;
      if ((present & (2 << k)) === 0) {
        complete = 0;
        continue;
      }
      this.#storeField(id, k, track);
      if (id < this.#markSize) this.#fills.push(id, slot);
    }
    if (this.#durations[id] === MISSING) {
      if ((present & DURATION_BIT) === 0) {
        complete = 0;
      } else {
        this.#durations[id] = track.durationMs as number;
        if (id < this.#markSize) this.#fills.push(id, DURATION_SLOT);
      }
    }
    this.#complete[id] = complete;
  }

  /** Stores the text field `TRACK_TEXT_FIELDS[k]` of a track that has it. */
  #storeField(id: number, k: number, track: TrackView): void {
    const source = track.textBytes;
    if (source === undefined) {
      this.#storeString(id, 1 + k, track.text(TRACK_TEXT_FIELDS[k]) as string);
      return;
    }
    const start = track.textStarts[k];
    const end = track.textEnds[k];
    const form = track.textForms[k];
    // Plain ASCII is copied. Other bytes go through the decoder, which replaces invalid UTF-8 as the
    // JSON.parse path does, and escapes are decoded.
    if (form === 0) this.#storeAscii(id, 1 + k, source, start, end);
    else this.#storeString(id, 1 + k, decodeStringSpan(source, start, end, form));
  }

  /** Stores ASCII content without double quotes, copied from `bytes[start:end]`. */
  #storeAscii(id: number, slot: number, bytes: Uint8Array, start: number, end: number): void {
    const length = end - start;
    const at = this.#reserveArena(length);
    const arena = this.#arena;
    if (length <= 64) {
      for (let k = 0; k < length; k++) arena[at + k] = bytes[start + k];
    } else {
      arena.set(bytes.subarray(start, end), at);
    }
    this.#arenaLength = at + length;
    this.#starts[id * TEXT_SLOTS + slot] = at;
    this.#lengths[id * TEXT_SLOTS + slot] = length;
    this.#quotes[id] &= ~(1 << slot);
  }

  #storeString(id: number, slot: number, value: string): void {
    const at = this.#reserveArena(value.length * 3);
    const { written } = encoder.encodeInto(value, this.#arena.subarray(at));
    this.#arenaLength = at + written;
    this.#starts[id * TEXT_SLOTS + slot] = at;
    this.#lengths[id * TEXT_SLOTS + slot] = written;
    if (value.includes('"')) this.#quotes[id] |= 1 << slot;
    else this.#quotes[id] &= ~(1 << slot);
  }

  #text(id: number, slot: number): string | null {
    const length = this.#lengths[id * TEXT_SLOTS + slot];
    if (length === MISSING) return null;
    const start = this.#starts[id * TEXT_SLOTS + slot];
    return utf8.decode(this.#arena.subarray(start, start + length));
  }

  /** Makes room for `length` more bytes in the arena and returns where they start. */
  #reserveArena(length: number): number {
    const at = this.#arenaLength;
    if (at + length > this.#arena.length) {
      if (at + length > MAX_ARENA_BYTES) {
        throw new RangeError(
          `Storing track metadata failed: it would exceed ${MAX_ARENA_BYTES} bytes with ${this.#size} ` +
            "tracks; ingest fewer slice files at once",
        );
      }
      let grownLength = this.#arena.length * 2;
      while (grownLength < at + length) grownLength *= 2;
      const grown = new Uint8Array(Math.min(grownLength, MAX_ARENA_BYTES));
      grown.set(this.#arena.subarray(0, at));
      this.#arena = grown;
    }
    return at;
  }

  /** Makes room for `count` ids in the per-id arrays. */
  #reserve(count: number): void {
    if (count <= this.#complete.length) return;
    const capacity = Math.max(count, this.#complete.length * 2);
    const grow = <T extends Uint8Array | Int32Array | Uint32Array>(array: T, size: number): T => {
      const grown = new (array.constructor as new (length: number) => T)(size);
      grown.set(array);
      return grown;
    };
    this.#starts = grow(this.#starts, capacity * TEXT_SLOTS);
    this.#lengths = grow(this.#lengths, capacity * TEXT_SLOTS);
    this.#quotes = grow(this.#quotes, capacity);
    this.#durations = grow(this.#durations, capacity);
    this.#complete = grow(this.#complete, capacity);
  }

  /** Starts recording changes, dropping the record of earlier ones. */
  mark(): void {
    this.#markSize = this.#size;
    this.#markAsciiBytes = this.#asciiIds.byteLength;
    this.#markArenaLength = this.#arenaLength;
    this.#fills = [];
  }

  /** Undoes every change since the last {@linkcode mark}. */
  rollback(): void {
    this.#asciiIds.truncate(this.#markAsciiBytes, this.#markSize);
    if (this.#otherIds.size > 0) {
      for (let id = this.#markSize; id < this.#size; id++) this.#otherIds.delete(this.uriOf(id));
    }
    this.#size = this.#markSize;
    this.#arenaLength = this.#markArenaLength;

    for (let k = 0; k < this.#fills.length; k += 2) {
      const id = this.#fills[k];
      const slot = this.#fills[k + 1];
      if (slot === DURATION_SLOT) this.#durations[id] = MISSING;
      else this.#lengths[id * TEXT_SLOTS + slot] = MISSING;
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
    for (let id = this.#markSize; id < this.#size; id++) ids.push(id);
    return ids;
  }

  /**
   * Sets a track's row as a part recorded it: adds the track when `id` is the next id, or replaces the
   * row of a known id.
   *
   * @throws {RangeError} When `id` is beyond the next id, or the URI of a known id differs.
   */
  restore(id: number, row: TrackRow): void {
    if (id > this.#size || (id < this.#size && this.uriOf(id) !== row.uri)) {
      throw new RangeError(
        `Restoring track ${id} (${row.uri}) failed: the dictionary has ${this.#size} tracks` +
          (id < this.#size ? ` and id ${id} is ${this.uriOf(id)}` : ""),
      );
    }
    if (id === this.#size) {
      this.#reserve(id + 1);
      this.#size = id + 1;
      this.#quotes[id] = 0;
      this.#addKey(row.uri, id);
      this.#storeString(id, URI_SLOT, row.uri);
    }
    let complete = 1;
    for (let k = 0; k < TRACK_TEXT_FIELDS.length; k++) {
      const value = row.text[TRACK_TEXT_FIELDS[k]];
      if (value === null) {
        this.#lengths[id * TEXT_SLOTS + 1 + k] = MISSING;
        complete = 0;
      } else {
        this.#storeString(id, 1 + k, value);
      }
    }
    this.#durations[id] = row.durationMs ?? MISSING;
    if (row.durationMs === null) complete = 0;
    this.#complete[id] = complete;
  }
}

/** Reads the CSV of {@linkcode TrackDictionary.csv} into a frame with the columns of `tracks.parquet`. */
export function trackTable(csv: Uint8Array): pl.DataFrame {
  return pl.readCSV(Buffer.from(csv.buffer, csv.byteOffset, csv.byteLength), {
    schema: TRACK_TABLE_SCHEMA,
    hasHeader: true,
  });
}

/** A growable byte buffer with writers for the CSV that {@linkcode TrackDictionary.csv} builds. */
class ByteWriter {
  #buffer: Uint8Array;
  #length = 0;

  constructor(capacity: number) {
    this.#buffer = new Uint8Array(Math.max(capacity, 64));
  }

  byte(value: number): void {
    if (this.#length === this.#buffer.length) this.#grow(1);
    this.#buffer[this.#length++] = value;
  }

  bytes(source: Uint8Array, start: number, end: number): void {
    const length = end - start;
    if (this.#length + length > this.#buffer.length) this.#grow(length);
    const buffer = this.#buffer;
    const at = this.#length;
    if (length <= 64) {
      for (let k = 0; k < length; k++) buffer[at + k] = source[start + k];
    } else {
      buffer.set(source.subarray(start, end), at);
    }
    this.#length = at + length;
  }

  /** Writes the bytes with each double quote doubled, as CSV quotes them. */
  doublingQuotes(source: Uint8Array, start: number, end: number): void {
    for (let k = start; k < end; k++) {
      this.byte(source[k]);
      if (source[k] === QUOTE) this.byte(QUOTE);
    }
  }

  /** Writes an integer from 0 to 2^31 - 1 in decimal. */
  integer(value: number): void {
    if (this.#length + MAX_INTEGER_DIGITS > this.#buffer.length) this.#grow(MAX_INTEGER_DIGITS);
    const buffer = this.#buffer;
    let digits = 1;
    for (let rest = value; rest >= 10; rest = (rest / 10) | 0) digits++;
    let at = this.#length + digits;
    this.#length = at;
    let rest = value;
    do {
      buffer[--at] = DIGIT_0 + (rest % 10);
      rest = (rest / 10) | 0;
    } while (rest > 0);
  }

  result(): Uint8Array {
    return this.#buffer.subarray(0, this.#length);
  }

  #grow(extra: number): void {
    let length = this.#buffer.length * 2;
    while (length < this.#length + extra) length *= 2;
    const grown = new Uint8Array(length);
    grown.set(this.#buffer.subarray(0, this.#length));
    this.#buffer = grown;
  }
}
