/**
 * A fast reader of MPD slice files that walks the UTF-8 bytes once and hands each playlist and track to a
 * sink, without building a JSON object tree.
 *
 * {@linkcode scanSlice} accepts a subset of what {@linkcode parseSlice} accepts and gives the same values
 * for it. It returns null, and the caller falls back to `parseSlice`, for any input that is invalid or takes
 * a form it does not handle: numbers with a fraction or exponent, keys with escapes, duplicate keys, values
 * nested more than {@linkcode MAX_SKIPPED_DEPTH} deep. The fallback then gives the precise error for an
 * invalid file. {@linkcode feedSlice} hands an already parsed slice to the same sink, so both paths produce
 * the same columns.
 * @module
 */

import { validateSlice } from "./read.ts";
import type { MpdPlaylist, MpdSlice, MpdSliceInfo, MpdTrack } from "./schema.ts";

/** Optional track fields, in the bit order of {@linkcode TrackView.present}. */
export const OPTIONAL_TRACK_FIELDS = [
  "pos",
  "track_name",
  "artist_uri",
  "artist_name",
  "album_uri",
  "album_name",
  "duration_ms",
] as const satisfies readonly (keyof MpdTrack)[];

/** String fields of a track besides `track_uri`. */
export const TRACK_TEXT_FIELDS = [
  "track_name",
  "artist_uri",
  "artist_name",
  "album_uri",
  "album_name",
] as const satisfies readonly (keyof MpdTrack)[];

/** A string field of a track besides `track_uri`. */
export type TrackTextField = (typeof TRACK_TEXT_FIELDS)[number];

/** A playlist's fields without its tracks. */
export type PlaylistFields = Omit<MpdPlaylist, "tracks">;

/** One track occurrence. A sink may read it only during the {@linkcode SliceSink.track} call. */
export interface TrackView {
  /** The decoded `track_uri`. */
  readonly uri: string;
  /**
   * The buffer that contains the `track_uri` content from `uriStart` to `uriEnd` when that content is ASCII
   * without escapes, and so equals `uri` byte for byte; undefined otherwise. A reader can look the URI up
   * in it without decoding.
   */
  readonly uriBytes: Uint8Array | undefined;
  readonly uriStart: number;
  readonly uriEnd: number;
  /** `pos`, or undefined when it is missing or null. */
  readonly pos: number | undefined;
  /** `duration_ms`, or undefined when it is missing or null. */
  readonly durationMs: number | undefined;
  /** Bit i is set when `OPTIONAL_TRACK_FIELDS[i]` is present and not null. */
  readonly present: number;
  /** Decodes a string field; undefined when it is missing or null. */
  text(field: TrackTextField): string | undefined;
  /**
   * The buffer that contains the text fields' contents, the quotes excluded, or undefined when the view has
   * only decoded strings. A reader can copy the content of a plain ASCII field without decoding it.
   */
  readonly textBytes: Uint8Array | undefined;
  /**
   * Start, end (exclusive) and form of each present text field's content in `textBytes`, by index in
   * `TRACK_TEXT_FIELDS`. The form is 0 for plain ASCII without escapes, as {@linkcode decodeStringSpan}
   * takes it.
   */
  readonly textStarts: Int32Array;
  readonly textEnds: Int32Array;
  readonly textForms: Uint8Array;
}

/** Receives a slice's content in file order. */
export interface SliceSink {
  /** Receives a track; `index` is its index in the playlist's `tracks` array. */
  track(track: TrackView, index: number): void;
  /**
   * Receives a playlist after all of its tracks, because `tracks` may come before `pid` in the file.
   * @param trackCount The length of its `tracks` array.
   */
  playlist(playlist: PlaylistFields, trackCount: number): void;
}

/** The part of a slice that {@linkcode scanSlice} and {@linkcode feedSlice} return, beside the sink calls. */
export interface SliceHeader {
  /** The `info` object, or undefined when it is missing or null. */
  info: MpdSliceInfo | undefined;
}

/** Unknown values nested deeper than this make {@linkcode scanSlice} return null. */
export const MAX_SKIPPED_DEPTH = 64;

const MAX_INT32 = 2 ** 31 - 1;
/** Integers with more digits than this take the fallback, which checks them against the safe range. */
const MAX_FAST_DIGITS = 15;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const MINUS = 0x2d;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

// Field codes. Track fields 0 to 6 follow OPTIONAL_TRACK_FIELDS, so a code is also its bit in `present`.
const T_POS = 0;
const T_DURATION = 6;
const T_URI = 7;
const P_PID = 0;
const P_NAME = 1;
const P_DESCRIPTION = 2;
const P_MODIFIED_AT = 3;
const P_DURATION = 4;
const P_NUM_TRACKS = 5;
const P_NUM_ALBUMS = 6;
const P_NUM_ARTISTS = 7;
const P_NUM_FOLLOWERS = 8;
const P_NUM_EDITS = 9;
const P_COLLABORATIVE = 10;
const P_TRACKS = 11;
const P_NUM_HOLDOUTS = 12;
const UNKNOWN = -1;
/** The previous key's code that {@linkcode Scanner.scanKey} takes for an object's first key. */
const FIRST_KEY = -2;

const encoder = new TextEncoder();

// Byte classes inside strings: plain ASCII, beyond ASCII, and the rest (quote, backslash, control
// characters). Reading past the end gives undefined, which is no class, so the loop stops there too.
const PLAIN = 0;
const BEYOND_ASCII = 1;
const SPECIAL = 2;
/** 1 for the four JSON whitespace bytes. */
const IS_WHITESPACE = new Uint8Array(256).map((_, byte) =>
  byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09 ? 1 : 0
);
const BYTE_CLASS = new Uint8Array(256).map((_, byte) => {
  if (byte >= 0x80) return BEYOND_ASCII;
  if (byte < 0x20 || byte === QUOTE || byte === BACKSLASH) return SPECIAL;
  return PLAIN;
});
const utf8 = new TextDecoder();

/** The number of signature values; a power of two. */
const SIGNATURES = 1024;

/** Computes a key's signature from its length and three bytes, which distinguishes a table's known keys. */
function keySignature(bytes: Uint8Array, start: number, end: number): number {
  const length = end - start;
  return ((length * 31) ^ (bytes[start] * 7) ^ (bytes[end - 1] * 131) ^ bytes[start + (length >> 1)]) &
    (SIGNATURES - 1);
}

/**
 * Known keys with their field codes, found by signature and one comparison. The codes of a table run from
 * 0 to the number of keys minus 1, in the order given, so a code is also the key's index in `keys`.
 */
interface KeyTable {
  /** Index into `keys` by signature, or -1. */
  bySignature: Int16Array;
  keys: Uint8Array[];
  /** Each key as it appears in compact JSON: quoted and followed by the colon, `"key":`. */
  patterns: Uint8Array[];
  /**
   * The code of the key that followed each code the last time, or {@linkcode UNKNOWN}; the last entry is
   * the first key of the last object. Files write every object's keys in one order, so the scanner first
   * compares the bytes at the position with the predicted key and looks the key up only on a mismatch.
   */
  next: Int8Array;
}

function keyTable(keys: string[]): KeyTable {
  const table: KeyTable = {
    bySignature: new Int16Array(SIGNATURES).fill(-1),
    keys: [],
    patterns: [],
    next: new Int8Array(keys.length + 1).fill(UNKNOWN),
  };
  for (const key of keys) {
    const bytes = encoder.encode(key);
    const signature = keySignature(bytes, 0, bytes.length);
    if (table.bySignature[signature] !== -1) {
      throw new Error(`Building the key table failed: "${key}" shares its signature; change keySignature`);
    }
    table.bySignature[signature] = table.keys.length;
    table.keys.push(bytes);
    table.patterns.push(encoder.encode(`"${key}":`));
  }
  return table;
}

// The keys of each table in the order of their codes.
const TRACK_KEYS = keyTable([...OPTIONAL_TRACK_FIELDS, "track_uri"]);
const PLAYLIST_KEYS = keyTable([
  "pid",
  "name",
  "description",
  "modified_at",
  "duration_ms",
  "num_tracks",
  "num_albums",
  "num_artists",
  "num_followers",
  "num_edits",
  "collaborative",
  "tracks",
  "num_holdouts",
]);
const SLICE_KEYS = keyTable(["info", "playlists"]);

/** Thrown inside the scanner when the input needs the fallback; never leaves {@linkcode scanSlice}. */
class Fallback {}
const FALLBACK = new Fallback();

/**
 * The spans of a track's string fields in the file, decoded only when the sink requests them. The scanner
 * hands one instance, refilled for each track, to the sink.
 */
export class ScannedTrack implements TrackView {
  uriBytes: Uint8Array | undefined = undefined;
  uriStart = 0;
  uriEnd = 0;
  /** The form of the `track_uri` content, as {@linkcode decodeStringSpan} takes it. */
  uriForm = 0;
  pos: number | undefined = undefined;
  durationMs: number | undefined = undefined;
  present = 0;
  textBytes: Uint8Array = new Uint8Array(0);
  readonly textStarts = new Int32Array(TRACK_TEXT_FIELDS.length);
  readonly textEnds = new Int32Array(TRACK_TEXT_FIELDS.length);
  readonly textForms = new Uint8Array(TRACK_TEXT_FIELDS.length);

  get uri(): string {
    return decodeStringSpan(this.textBytes, this.uriStart, this.uriEnd, this.uriForm);
  }

  text(field: TrackTextField): string | undefined {
    const slot = TRACK_TEXT_FIELDS.indexOf(field);
    if ((this.present & (1 << (slot + 1))) === 0) return undefined;
    return decodeStringSpan(this.textBytes, this.textStarts[slot], this.textEnds[slot], this.textForms[slot]);
  }
}

/**
 * Decodes the content of a JSON string in `bytes` between `start` and `end`, the quotes excluded.
 *
 * @param form 0 for plain ASCII, with bit 1 set when the content has escapes and bit 2 when it has bytes
 *   beyond ASCII, as the scanner records it.
 */
export function decodeStringSpan(bytes: Uint8Array, start: number, end: number, form: number): string {
  if (form === 0) {
    // Pure ASCII without escapes: each byte is one UTF-16 code unit.
    if (end - start <= 1024) {
      return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
    }
    return utf8.decode(bytes.subarray(start, end));
  }
  if ((form & 1) === 0) return utf8.decode(bytes.subarray(start, end));
  return JSON.parse(utf8.decode(bytes.subarray(start - 1, end + 1))) as string;
}

/** The scanner state: the bytes, the position, and the last string's span. */
class Scanner {
  readonly bytes: Uint8Array;
  i = 0;
  stringStart = 0;
  stringEnd = 0;
  /** The form of the last string, as {@linkcode decodeStringSpan} takes it. */
  stringForm = 0;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  skipWhitespace(): void {
    const bytes = this.bytes;
    let i = this.i;
    while (IS_WHITESPACE[bytes[i]] === 1) i++;
    this.i = i;
  }

  /** Consumes `byte` after optional whitespace, or falls back. */
  expect(byte: number): void {
    this.skipWhitespace();
    if (this.bytes[this.i] !== byte) throw FALLBACK;
    this.i++;
  }

  /**
   * Consumes a string at the position, recording its span and form. Escapes are checked for their JSON
   * form, and raw control characters make the input fall back, as they are invalid JSON.
   */
  scanString(): void {
    const bytes = this.bytes;
    let i = this.i;
    if (bytes[i] !== QUOTE) throw FALLBACK;
    i++;
    const start = i;
    let form = 0;
    for (;;) {
      // Most bytes are plain ASCII, so the inner loop only looks them up in the class table.
      let kind = BYTE_CLASS[bytes[i]];
      while (kind === PLAIN) kind = BYTE_CLASS[bytes[++i]];
      if (kind === BEYOND_ASCII) {
        form |= 2;
        i++;
        continue;
      }
      const b = bytes[i];
      if (b === QUOTE) break;
      if (b !== BACKSLASH) throw FALLBACK; // a control character, or the end of the input
      form |= 1;
      const escaped = bytes[i + 1];
      if (escaped === 0x75) {
        for (let k = 2; k < 6; k++) if (!isHexDigit(bytes[i + k])) throw FALLBACK;
        i += 6;
      } else if (
        escaped === QUOTE || escaped === BACKSLASH || escaped === 0x2f || escaped === 0x62 ||
        escaped === 0x66 || escaped === 0x6e || escaped === 0x72 || escaped === 0x74
      ) {
        i += 2;
      } else {
        throw FALLBACK;
      }
    }
    this.stringStart = start;
    this.stringEnd = i;
    this.stringForm = form;
    this.i = i + 1;
  }

  /** Decodes the last scanned string. */
  lastString(): string {
    return decodeStringSpan(this.bytes, this.stringStart, this.stringEnd, this.stringForm);
  }

  /**
   * Consumes an object key and the colon after it, and returns its code in `table`, or UNKNOWN.
   *
   * @param previous The code of the object's previous key, UNKNOWN when that key was unknown, or
   *   FIRST_KEY for the object's first key.
   */
  scanKey(table: KeyTable, previous: number): number {
    this.skipWhitespace();
    const slot = previous === FIRST_KEY ? table.next.length - 1 : previous;
    const predicted = slot === UNKNOWN ? UNKNOWN : table.next[slot];
    if (predicted !== UNKNOWN && this.matchKey(table.patterns[predicted])) return predicted;

    this.scanString();
    // A key with escapes could spell a known key in another way; the fallback decodes it.
    if (this.stringForm !== 0) throw FALLBACK;
    const code = lookUpKey(this.bytes, this.stringStart, this.stringEnd, table);
    if (slot !== UNKNOWN) table.next[slot] = code;
    this.expect(COLON);
    this.skipWhitespace();
    return code;
  }

  /**
   * Consumes a key's pattern (`"key":`, see {@linkcode KeyTable.patterns}) and the whitespace after it when
   * the bytes at the position start with it, and returns true; otherwise consumes nothing and returns
   * false, and the caller reads the key in full, with any whitespace before the colon.
   */
  matchKey(pattern: Uint8Array): boolean {
    const bytes = this.bytes;
    const start = this.i;
    const length = pattern.length;
    for (let k = 0; k < length; k++) if (bytes[start + k] !== pattern[k]) return false;
    this.i = start + length;
    this.skipWhitespace();
    return true;
  }

  /** Returns true and consumes `null` when it is at the position. */
  scanNull(): boolean {
    const bytes = this.bytes;
    const i = this.i;
    if (bytes[i] !== 0x6e) return false;
    if (bytes[i + 1] !== 0x75 || bytes[i + 2] !== 0x6c || bytes[i + 3] !== 0x6c) throw FALLBACK;
    this.i = i + 4;
    return true;
  }

  /**
   * Consumes a non-negative integer of at most {@linkcode MAX_FAST_DIGITS} digits with no fraction or
   * exponent, and returns it when it is at most `max`. Anything else falls back.
   */
  scanInteger(max: number): number {
    const bytes = this.bytes;
    let i = this.i;
    const start = i;
    let value = 0;
    let b = bytes[i];
    while (b >= DIGIT_0 && b <= DIGIT_9) {
      value = value * 10 + (b - DIGIT_0);
      b = bytes[++i];
    }
    const digits = i - start;
    if (digits === 0 || digits > MAX_FAST_DIGITS) throw FALLBACK;
    if (digits > 1 && bytes[start] === DIGIT_0) throw FALLBACK; // leading zeros are invalid JSON
    if (b === 0x2e || b === 0x65 || b === 0x45) throw FALLBACK;
    if (value > max) throw FALLBACK;
    this.i = i;
    return value;
  }

  /** Consumes one JSON value of any type, checking its syntax. */
  skipValue(depth: number): void {
    if (depth > MAX_SKIPPED_DEPTH) throw FALLBACK;
    this.skipWhitespace();
    const bytes = this.bytes;
    const b = bytes[this.i];
    if (b === QUOTE) {
      this.scanString();
    } else if (b === OPEN_BRACE) {
      this.i++;
      this.skipWhitespace();
      if (bytes[this.i] === CLOSE_BRACE) {
        this.i++;
        return;
      }
      for (;;) {
        this.skipWhitespace();
        this.scanString();
        this.expect(COLON);
        this.skipValue(depth + 1);
        if (this.endOfMembers(CLOSE_BRACE)) return;
      }
    } else if (b === OPEN_BRACKET) {
      this.i++;
      this.skipWhitespace();
      if (bytes[this.i] === CLOSE_BRACKET) {
        this.i++;
        return;
      }
      for (;;) {
        this.skipValue(depth + 1);
        if (this.endOfMembers(CLOSE_BRACKET)) return;
      }
    } else if (b === 0x74) {
      this.scanLiteral("true");
    } else if (b === 0x66) {
      this.scanLiteral("false");
    } else if (b === 0x6e) {
      this.scanNull();
    } else if (b === MINUS || (b >= DIGIT_0 && b <= DIGIT_9)) {
      this.skipNumber();
    } else {
      throw FALLBACK;
    }
  }

  /** Consumes a comma and returns false, or consumes `close` and returns true. */
  endOfMembers(close: number): boolean {
    this.skipWhitespace();
    const b = this.bytes[this.i++];
    if (b === COMMA) return false;
    if (b === close) return true;
    throw FALLBACK;
  }

  scanLiteral(literal: string): void {
    for (let k = 0; k < literal.length; k++) {
      if (this.bytes[this.i + k] !== literal.charCodeAt(k)) throw FALLBACK;
    }
    this.i += literal.length;
  }

  /** Consumes a number in the full JSON grammar: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)? */
  skipNumber(): void {
    const bytes = this.bytes;
    let i = this.i;
    if (bytes[i] === MINUS) i++;
    if (bytes[i] === DIGIT_0) i++;
    else if (isDigit(bytes[i])) { while (isDigit(bytes[i])) i++; }
    else throw FALLBACK;
    if (bytes[i] === 0x2e) {
      i++;
      if (!isDigit(bytes[i])) throw FALLBACK;
      while (isDigit(bytes[i])) i++;
    }
    if (bytes[i] === 0x65 || bytes[i] === 0x45) {
      i++;
      if (bytes[i] === 0x2b || bytes[i] === MINUS) i++;
      if (!isDigit(bytes[i])) throw FALLBACK;
      while (isDigit(bytes[i])) i++;
    }
    this.i = i;
  }
}

function isDigit(b: number): boolean {
  return b >= DIGIT_0 && b <= DIGIT_9;
}

function isHexDigit(b: number): boolean {
  return (b >= DIGIT_0 && b <= DIGIT_9) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);
}

function lookUpKey(bytes: Uint8Array, start: number, end: number, table: KeyTable): number {
  if (end === start) return UNKNOWN;
  const entry = table.bySignature[keySignature(bytes, start, end)];
  if (entry < 0) return UNKNOWN;
  const key = table.keys[entry];
  if (key.length !== end - start) return UNKNOWN;
  for (let k = 0; k < key.length; k++) if (bytes[start + k] !== key[k]) return UNKNOWN;
  return entry;
}

/**
 * Reads a slice file's bytes and hands its playlists and tracks to `sink`, checking what
 * {@linkcode validateSlice} checks.
 *
 * @param bytes The file's content, UTF-8, with or without a byte order mark.
 * @param sink Receives the tracks and playlists. After a null return it may have received part of the
 *   slice, which the caller must discard.
 * @param file The file name used in the `info` check.
 * @returns The slice's `info`, or null when the input is invalid or takes a form this reader does not
 *   handle. Read such input with `parseSlice` and {@linkcode feedSlice}.
 */
export function scanSlice(bytes: Uint8Array, sink: SliceSink, file: string): SliceHeader | null {
  const scanner = new Scanner(bytes);
  try {
    return scanTopLevel(scanner, sink, file);
  } catch (error) {
    if (error === FALLBACK) return null;
    // Reading past the end yields undefined bytes, which fail every comparison. The scanner itself throws
    // nothing else, so any other error comes from the sink.
    throw error;
  }
}

function scanTopLevel(scanner: Scanner, sink: SliceSink, file: string): SliceHeader {
  const bytes = scanner.bytes;
  // TextDecoder drops a leading byte order mark before JSON.parse, so the scanner skips it too.
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) scanner.i = 3;
  scanner.expect(OPEN_BRACE);

  let info: MpdSliceInfo | undefined;
  let seen = 0;
  let previous = FIRST_KEY;
  scanner.skipWhitespace();
  if (bytes[scanner.i] === CLOSE_BRACE) throw FALLBACK; // no "playlists"
  for (;;) {
    const code = scanner.scanKey(SLICE_KEYS, previous);
    previous = code;
    if (code !== UNKNOWN) {
      if (seen & (1 << code)) throw FALLBACK;
      seen |= 1 << code;
    }
    if (code === 0) {
      info = scanInfo(scanner, file);
    } else if (code === 1) {
      scanPlaylists(scanner, sink);
    } else {
      scanner.skipValue(1);
    }
    if (scanner.endOfMembers(CLOSE_BRACE)) break;
  }
  if ((seen & 2) === 0) throw FALLBACK;
  scanner.skipWhitespace();
  if (scanner.i !== bytes.length) throw FALLBACK;
  return { info };
}

/** Reads `info` with JSON.parse, since it is small, and checks it as `validateSlice` does. */
function scanInfo(scanner: Scanner, file: string): MpdSliceInfo | undefined {
  if (scanner.scanNull()) return undefined;
  const start = scanner.i;
  scanner.skipValue(1);
  const info: unknown = JSON.parse(utf8.decode(scanner.bytes.subarray(start, scanner.i)));
  try {
    validateSlice({ info, playlists: [] }, file);
  } catch {
    throw FALLBACK;
  }
  return info as MpdSliceInfo;
}

function scanPlaylists(scanner: Scanner, sink: SliceSink): void {
  if (scanner.bytes[scanner.i] !== OPEN_BRACKET) throw FALLBACK;
  scanner.i++;
  scanner.skipWhitespace();
  if (scanner.bytes[scanner.i] === CLOSE_BRACKET) {
    scanner.i++;
    return;
  }

  const track = new ScannedTrack();
  track.textBytes = scanner.bytes;
  const pids = new Set<number>();
  const positions = new Set<number>();
  for (;;) {
    scanner.skipWhitespace();
    scanPlaylist(scanner, sink, track, pids, positions);
    if (scanner.endOfMembers(CLOSE_BRACKET)) return;
  }
}

function scanPlaylist(
  scanner: Scanner,
  sink: SliceSink,
  track: ScannedTrack,
  pids: Set<number>,
  positions: Set<number>,
): void {
  if (scanner.bytes[scanner.i] !== OPEN_BRACE) throw FALLBACK;
  scanner.i++;
  scanner.skipWhitespace();
  if (scanner.bytes[scanner.i] === CLOSE_BRACE) throw FALLBACK; // no pid

  const playlist: PlaylistFields = { pid: -1 };
  let seen = 0;
  let previous = FIRST_KEY;
  let trackCount = -1;
  for (;;) {
    const code = scanner.scanKey(PLAYLIST_KEYS, previous);
    previous = code;
    if (code !== UNKNOWN) {
      if (seen & (1 << code)) throw FALLBACK;
      seen |= 1 << code;
    }
    if (code === P_TRACKS) trackCount = scanTracks(scanner, sink, track, positions);
    else scanPlaylistField(scanner, playlist, code);
    if (scanner.endOfMembers(CLOSE_BRACE)) break;
  }

  if ((seen & (1 << P_PID)) === 0 || trackCount < 0) throw FALLBACK;
  if (pids.has(playlist.pid)) throw FALLBACK;
  pids.add(playlist.pid);
  sink.playlist(playlist, trackCount);
}

/** Reads the value of the playlist field `code`, other than `tracks`, into `playlist`. */
function scanPlaylistField(scanner: Scanner, playlist: PlaylistFields, code: number): void {
  if (code === P_PID) {
    playlist.pid = scanner.scanInteger(MAX_INT32);
    return;
  }
  if (code === P_NUM_HOLDOUTS) throw FALLBACK; // a challenge set, which the fallback rejects
  if (code === UNKNOWN) {
    scanner.skipValue(2);
    return;
  }
  if (scanner.scanNull()) return;

  switch (code) {
    case P_NAME:
      playlist.name = scanText(scanner);
      break;
    case P_DESCRIPTION:
      playlist.description = scanText(scanner);
      break;
    case P_MODIFIED_AT:
      playlist.modified_at = scanner.scanInteger(Number.MAX_SAFE_INTEGER);
      break;
    case P_DURATION:
      playlist.duration_ms = scanner.scanInteger(Number.MAX_SAFE_INTEGER);
      break;
    case P_NUM_TRACKS:
      playlist.num_tracks = scanner.scanInteger(MAX_INT32);
      break;
    case P_NUM_ALBUMS:
      playlist.num_albums = scanner.scanInteger(MAX_INT32);
      break;
    case P_NUM_ARTISTS:
      playlist.num_artists = scanner.scanInteger(MAX_INT32);
      break;
    case P_NUM_FOLLOWERS:
      playlist.num_followers = scanner.scanInteger(MAX_INT32);
      break;
    case P_NUM_EDITS:
      playlist.num_edits = scanner.scanInteger(MAX_INT32);
      break;
    case P_COLLABORATIVE: {
      const value = scanText(scanner);
      if (value !== "true" && value !== "false") throw FALLBACK;
      playlist.collaborative = value;
      break;
    }
  }
}

function scanText(scanner: Scanner): string {
  scanner.scanString();
  return scanner.lastString();
}

/** Reads a `tracks` array, hands each track to the sink, and returns the number of tracks. */
function scanTracks(scanner: Scanner, sink: SliceSink, track: ScannedTrack, positions: Set<number>): number {
  const bytes = scanner.bytes;
  if (bytes[scanner.i] !== OPEN_BRACKET) throw FALLBACK;
  scanner.i++;
  scanner.skipWhitespace();
  if (bytes[scanner.i] === CLOSE_BRACKET) {
    scanner.i++;
    return 0;
  }

  // Positions are tracked in a set only once a pos differs from the track's index, as in validateSlice.
  let tracking = false;
  positions.clear();
  let index = 0;
  for (;; index++) {
    scanner.skipWhitespace();
    scanTrack(scanner, track);
    const pos = track.pos ?? index;
    if (pos !== index || tracking) {
      if (!tracking) {
        for (let k = 0; k < index; k++) positions.add(k);
        tracking = true;
      }
      if (positions.has(pos)) throw FALLBACK;
      positions.add(pos);
    }
    sink.track(track, index);
    if (scanner.endOfMembers(CLOSE_BRACKET)) return index + 1;
  }
}

function scanTrack(scanner: Scanner, track: ScannedTrack): void {
  const bytes = scanner.bytes;
  if (bytes[scanner.i] !== OPEN_BRACE) throw FALLBACK;
  scanner.i++;
  track.pos = undefined;
  track.durationMs = undefined;
  scanner.skipWhitespace();
  if (bytes[scanner.i] === CLOSE_BRACE) throw FALLBACK; // no track_uri

  let seen = 0;
  let previous = FIRST_KEY;
  let present = 0;
  for (;;) {
    const code = scanner.scanKey(TRACK_KEYS, previous);
    previous = code;
    if (code !== UNKNOWN) {
      if (seen & (1 << code)) throw FALLBACK;
      seen |= 1 << code;
    }
    present |= scanTrackField(scanner, track, code);
    if (scanner.endOfMembers(CLOSE_BRACE)) break;
  }

  if ((seen & (1 << T_URI)) === 0) throw FALLBACK;
  track.present = present;
}

/** Reads the value of the track field `code` into `track` and returns its bit of `present`, or 0. */
function scanTrackField(scanner: Scanner, track: ScannedTrack, code: number): number {
  if (code === T_URI) {
    scanner.scanString();
    if (scanner.stringEnd === scanner.stringStart) throw FALLBACK;
    track.uriStart = scanner.stringStart;
    track.uriEnd = scanner.stringEnd;
    track.uriForm = scanner.stringForm;
    track.uriBytes = scanner.stringForm === 0 ? scanner.bytes : undefined;
    return 0;
  }
  if (code === UNKNOWN) {
    scanner.skipValue(3);
    return 0;
  }
  if (scanner.scanNull()) return 0;

  if (code === T_POS) {
    track.pos = scanner.scanInteger(MAX_INT32);
  } else if (code === T_DURATION) {
    track.durationMs = scanner.scanInteger(MAX_INT32);
  } else {
    // A text field: codes 1 to 5 are TRACK_TEXT_FIELDS in order.
    scanner.scanString();
    const slot = code - 1;
    track.textStarts[slot] = scanner.stringStart;
    track.textEnds[slot] = scanner.stringEnd;
    track.textForms[slot] = scanner.stringForm;
  }
  return 1 << code;
}

/** Wraps a parsed track as a {@linkcode TrackView}. */
class ParsedTrack implements TrackView {
  track: MpdTrack = { track_uri: "" };
  readonly uriBytes = undefined;
  readonly uriStart = 0;
  readonly uriEnd = 0;
  readonly textBytes = undefined;
  readonly textStarts = new Int32Array(0);
  readonly textEnds = new Int32Array(0);
  readonly textForms = new Uint8Array(0);

  get uri(): string {
    return this.track.track_uri;
  }
  get pos(): number | undefined {
    return this.track.pos;
  }
  get durationMs(): number | undefined {
    return this.track.duration_ms;
  }
  get present(): number {
    let present = 0;
    for (let bit = 0; bit < OPTIONAL_TRACK_FIELDS.length; bit++) {
      if (this.track[OPTIONAL_TRACK_FIELDS[bit]] !== undefined) present |= 1 << bit;
    }
    return present;
  }
  text(field: TrackTextField): string | undefined {
    return this.track[field];
  }
}

/**
 * Hands a slice parsed and validated by `parseSlice` to `sink`, in the order {@linkcode scanSlice} uses.
 *
 * @returns The slice's `info`.
 */
export function feedSlice(slice: MpdSlice, sink: SliceSink): SliceHeader {
  const view = new ParsedTrack();
  for (const playlist of slice.playlists) {
    for (let index = 0; index < playlist.tracks.length; index++) {
      view.track = playlist.tracks[index];
      sink.track(view, index);
    }
    const { tracks, ...fields } = playlist;
    sink.playlist(fields, tracks.length);
  }
  return { info: slice.info };
}
