/**
 * Reading and validation of MPD slice files, `mpd.slice.<start>-<end>.json`.
 *
 * Only `playlists`, each playlist's integer `pid` and `tracks`, and each track's `track_uri` are required,
 * because cut-down copies of the MPD drop other fields. A field that is present must have the MPD type. A
 * field whose value is `null` counts as missing and is removed from the parsed object, since some exports
 * write missing values as `null`.
 * @module
 */

import { join } from "node:path";
import type { MpdPlaylist, MpdSlice } from "./schema.ts";

/** Names of slice files: `mpd.slice.<start>-<end>.json`, with the first and last pid of the slice. */
export const SLICE_FILE_PATTERN = /^mpd\.slice\.(\d+)-(\d+)\.json$/;

/** The largest pid, pos, count or track duration that ingestion can store as a 32-bit integer. */
const MAX_INT32 = 2 ** 31 - 1;

const PLAYLIST_STRING_FIELDS = ["name", "description"] as const;
const PLAYLIST_COUNT_FIELDS = [
  "num_tracks",
  "num_albums",
  "num_artists",
  "num_followers",
  "num_edits",
] as const;
const TRACK_STRING_FIELDS = ["track_name", "artist_uri", "artist_name", "album_uri", "album_name"] as const;

const NEXT_STEP = "pass a folder of mpd.slice.<start>-<end>.json files or one such file";
/** The next step for a file that is in the input but is not a slice. */
const NOT_A_SLICE_STEP = "remove it from the input folder, or replace it with the slice file it should be";

/** The entries of an MPD input: its slice files, and the entries of the folder that are not slice files. */
export interface MpdInputFiles {
  /** Paths of the slice files, sorted by the start pid in their names. */
  slices: string[];
  /**
   * Names of the other entries of the input folder, such as the MPD's `stats.json` or a README, sorted, with
   * a trailing `/` on folders. Ingestion does not read them. Empty when the input is one file.
   */
  ignored: string[];
}

/**
 * Lists the slice files of an MPD input, sorted by the start pid in their names.
 *
 * @param input A folder that contains `mpd.slice.<start>-<end>.json` files, or the path of one slice file,
 *   which may have any name.
 * @returns Paths of the slice files.
 * @throws {Deno.errors.NotFound} When `input` does not exist, or is a folder without slice files.
 * @throws {TypeError} When a file in the folder starts with `mpd.slice.` and ends with `.json` but has no
 *   start and end pid in its name.
 */
export async function listSliceFiles(input: string): Promise<string[]> {
  return (await listMpdInput(input)).slices;
}

/**
 * Lists the slice files of an MPD input and the other entries of its folder, which ingestion ignores.
 *
 * @param input A folder that contains `mpd.slice.<start>-<end>.json` files, or the path of one slice file,
 *   which may have any name.
 * @throws {Deno.errors.NotFound} When `input` does not exist, or is a folder without slice files.
 * @throws {TypeError} When a file in the folder starts with `mpd.slice.` and ends with `.json` but has no
 *   start and end pid in its name.
 */
export async function listMpdInput(input: string): Promise<MpdInputFiles> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(input);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(`MPD input not found: ${input} does not exist; ${NEXT_STEP}`);
    }
    throw error;
  }
  if (!info.isDirectory) return { slices: [input], ignored: [] };

  const slices: { path: string; start: number }[] = [];
  const ignored: string[] = [];
  for await (const entry of Deno.readDir(input)) {
    if (!entry.isFile || !entry.name.startsWith("mpd.slice.") || !entry.name.endsWith(".json")) {
      ignored.push(entry.isDirectory ? `${entry.name}/` : entry.name);
      continue;
    }
    const match = SLICE_FILE_PATTERN.exec(entry.name);
    if (match === null) {
      throw new TypeError(
        `Invalid slice file name ${join(input, entry.name)}: expected mpd.slice.<start>-<end>.json ` +
          "with the first and last pid; rename or remove the file",
      );
    }
    slices.push({ path: join(input, entry.name), start: Number(match[1]) });
  }
  ignored.sort();
  if (slices.length === 0) {
    const found = ignored.length === 0 ? "it is empty" : `it contains only ${describeNames(ignored)}`;
    throw new Deno.errors.NotFound(
      `No MPD slice files in ${input} (${found}): expected files named mpd.slice.<start>-<end>.json; ` +
        'point to the MPD "data" folder, or run "deno task generate --out DIR" to make synthetic slices',
    );
  }
  slices.sort((a, b) => a.start - b.start || (a.path < b.path ? -1 : 1));
  return { slices: slices.map((slice) => slice.path), ignored };
}

/** Names at most five entries of a folder listing, then the count of the rest. */
function describeNames(names: string[]): string {
  const listed = names.slice(0, 5).join(", ");
  return names.length > 5 ? `${listed} and ${names.length - 5} more` : listed;
}

/**
 * Reads and validates one slice file.
 *
 * @param path Path of the file; error messages name it.
 * @returns The parsed slice, with `null` fields removed.
 * @throws {SyntaxError} When the file is not valid JSON.
 * @throws {TypeError} When the JSON is not an MPD slice or a field has the wrong type.
 * @throws {RangeError} When a number is out of range, or a pos repeats within a playlist.
 * @throws {Error} When a pid repeats within the file.
 */
export async function readSlice(path: string): Promise<MpdSlice> {
  return parseSlice(await Deno.readTextFile(path), path);
}

/**
 * Parses and validates the text of one slice file.
 *
 * @param text The JSON text.
 * @param file The file name used in error messages.
 * @returns The parsed slice, with `null` fields removed.
 * @throws {SyntaxError} When the text is not valid JSON.
 * @throws {TypeError} When the JSON is not an MPD slice or a field has the wrong type.
 * @throws {RangeError} When a number is out of range, or a pos repeats within a playlist.
 * @throws {Error} When a pid repeats within the file.
 */
export function parseSlice(text: string, file: string): MpdSlice {
  return validateSlice(parseJson(text, file), file);
}

/**
 * Reads one playlist in the MPD shape from a JSON file, such as a playlist to continue: an object with a
 * `tracks` array of objects that each have a `track_uri`, and optionally a `name` and the other MPD
 * playlist fields. Its `pid` may be missing, and then is 0.
 *
 * @param path Path of the file; error messages name it.
 * @returns The playlist, with `null` fields removed.
 * @throws {Deno.errors.NotFound} When the file does not exist.
 * @throws {SyntaxError} When the file is not valid JSON.
 * @throws {TypeError} When the JSON is not one playlist or a field has the wrong type.
 * @throws {RangeError} When a number is out of range, or a pos repeats.
 */
export async function readPlaylistFile(path: string): Promise<MpdPlaylist> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(`Playlist file not found: ${path} does not exist`);
    }
    throw error;
  }
  const value = parseJson(text, path);
  if (isObject(value) && Array.isArray(value.playlists)) {
    throw new TypeError(
      `${path} contains a "playlists" array of ${value.playlists.length}, not one playlist: pass a file ` +
        'with one playlist object, such as {"name": "...", "tracks": [{"track_uri": "spotify:track:..."}]}',
    );
  }
  return validatePlaylist(value, path, undefined);
}

/** Space, tab, line feed and carriage return. */
const JSON_WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

/** Parses JSON text, or throws a SyntaxError that names the file and says whether it looks truncated. */
function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    const advice = looksTruncated(text, error)
      ? "the file may be truncated; re-download or remove it"
      : "the file is damaged or not JSON; re-download or remove it";
    throw new SyntaxError(`${file} is not valid JSON (${error.message}): ${advice}`);
  }
}

/**
 * Tells whether a JSON syntax error comes from text that stops early, as an interrupted download leaves it.
 *
 * V8 reports most such cuts as an unexpected end or an unterminated string, but a cut after a complete
 * value gives an error such as "Expected ',' or '}' after property value" at the end of the text. So an
 * error at or after the last non-whitespace character also counts as truncation.
 */
function looksTruncated(text: string, error: SyntaxError): boolean {
  if (/end of JSON input|Unterminated/i.test(error.message)) return true;
  const position = /at position (\d+)/.exec(error.message);
  if (position === null) return false;
  // Only the four JSON whitespace characters: String.trimEnd would also drop others, such as U+00A0, that
  // JSON.parse rejects after a complete value.
  let end = text.length;
  while (end > 0 && JSON_WHITESPACE.has(text.charCodeAt(end - 1))) end--;
  return Number(position[1]) >= end;
}

/**
 * Checks that a parsed JSON value is an MPD slice, and removes its `null` fields.
 *
 * @param value The parsed JSON; it is modified in place.
 * @param file The file name used in error messages.
 * @returns `value`, typed as a slice.
 * @throws {TypeError} When the value is not an MPD slice or a field has the wrong type.
 * @throws {RangeError} When a number is out of range, or a pos repeats within a playlist.
 * @throws {Error} When a pid repeats within the file.
 */
export function validateSlice(value: unknown, file: string): MpdSlice {
  if (!isObject(value) || !Array.isArray(value.playlists)) {
    const got = isObject(value) ? `an object with keys ${describeKeys(value)}` : describeType(value);
    throw new TypeError(
      `${file} is not an MPD slice: expected a JSON object with a "playlists" array, got ${got}; ` +
        NOT_A_SLICE_STEP,
    );
  }
  const playlists: unknown[] = value.playlists;
  if (isObject(playlists[0]) && "num_holdouts" in playlists[0]) {
    throw new TypeError(
      `${file} is not an MPD slice: its playlists have "num_holdouts", as in the RecSys Challenge set, ` +
        `which contains no complete playlists; ${NOT_A_SLICE_STEP}`,
    );
  }
  validateInfo(value, file);

  const indexOfPid = new Map<number, number>();
  for (let index = 0; index < playlists.length; index++) {
    const playlist = validatePlaylist(playlists[index], file, index);
    const earlier = indexOfPid.get(playlist.pid);
    if (earlier !== undefined) {
      throw new Error(
        `${file}: pid ${playlist.pid} appears twice, at playlist indexes ${earlier} and ${index}; ` +
          "every playlist needs its own pid, so remove or renumber one of them",
      );
    }
    indexOfPid.set(playlist.pid, index);
  }
  return value as unknown as MpdSlice;
}

function validateInfo(slice: Record<string, unknown>, file: string): void {
  if (slice.info === undefined || slice.info === null) {
    delete slice.info;
    return;
  }
  if (!isObject(slice.info)) {
    throw new TypeError(`${file}: field "info" must be an object, got ${describeType(slice.info)}`);
  }
  for (const key of ["generated_on", "slice", "version", "description"]) {
    const field = slice.info[key];
    if (field !== undefined && field !== null && typeof field !== "string") {
      throw new TypeError(`${file}: field "info.${key}" must be a string, got ${describeType(field)}`);
    }
  }
  const synthetic = slice.info.synthetic;
  if (synthetic !== undefined && synthetic !== null && typeof synthetic !== "boolean") {
    throw new TypeError(`${file}: field "info.synthetic" must be a boolean, got ${describeType(synthetic)}`);
  }
}

/**
 * Checks one playlist and removes its `null` fields.
 *
 * @param index The playlist's index in a slice's `playlists` array, or undefined for a file that contains
 *   one playlist. Such a playlist may lack a `pid`, which is then set to 0, and its errors name the file
 *   alone when it has no pid.
 */
function validatePlaylist(value: unknown, file: string, index: number | undefined): MpdPlaylist {
  const at = index === undefined ? file : `${file}, playlist index ${index}`;
  if (!isObject(value)) {
    throw new TypeError(`${at}: must be an object, got ${describeType(value)}`);
  }
  const pid = value.pid;
  let where: string;
  if ((pid === undefined || pid === null) && index === undefined) {
    value.pid = 0;
    where = file;
  } else {
    if (pid === undefined || pid === null) {
      throw new TypeError(`${at}: field "pid" is missing; every playlist needs an integer pid`);
    }
    if (typeof pid !== "number") {
      throw new TypeError(`${at}: field "pid" must be an integer, got ${describeType(pid)}`);
    }
    if (!Number.isInteger(pid) || pid < 0 || pid > MAX_INT32) {
      throw new RangeError(`${at}: field "pid" must be an integer from 0 to ${MAX_INT32}, got ${pid}`);
    }
    where = index === undefined
      ? `${file}, playlist pid ${pid}`
      : `${file}, playlist pid ${pid} (index ${index})`;
  }

  for (const key of PLAYLIST_STRING_FIELDS) checkString(value, key, where, key);
  // These two may exceed 32 bits: ingestion stores modified_at as a 64-bit integer and drops duration_ms.
  checkInteger(value, "modified_at", where, "modified_at", Number.MAX_SAFE_INTEGER);
  checkInteger(value, "duration_ms", where, "duration_ms", Number.MAX_SAFE_INTEGER);
  for (const key of PLAYLIST_COUNT_FIELDS) checkInteger(value, key, where, key, MAX_INT32);
  const collaborative = value.collaborative;
  if (collaborative === null) delete value.collaborative;
  else if (collaborative !== undefined && collaborative !== "true" && collaborative !== "false") {
    throw new TypeError(
      `${where}: field "collaborative" must be the string "true" or "false", got ${
        describeValue(collaborative)
      }`,
    );
  }

  const tracks = value.tracks;
  if (tracks === undefined || tracks === null) {
    throw new TypeError(`${where}: field "tracks" is missing; every playlist needs a tracks array`);
  }
  if (!Array.isArray(tracks)) {
    throw new TypeError(`${where}: field "tracks" must be an array, got ${describeType(tracks)}`);
  }
  validateTracks(tracks, where);
  return value as unknown as MpdPlaylist;
}

function validateTracks(tracks: unknown[], where: string): void {
  let positions: Set<number> | undefined;
  for (let index = 0; index < tracks.length; index++) {
    const track = tracks[index];
    const prefix = `tracks[${index}]`;
    if (!isObject(track)) {
      throw new TypeError(`${where}: field "${prefix}" must be an object, got ${describeType(track)}`);
    }
    const uri = track.track_uri;
    if (typeof uri !== "string" || uri.length === 0) {
      let problem = `must be a string, got ${describeType(uri)}`;
      if (uri === undefined || uri === null) problem = "is missing";
      else if (uri === "") problem = "is empty";
      throw new TypeError(`${where}: field "${prefix}.track_uri" ${problem}; every track needs a track_uri`);
    }
    for (const key of TRACK_STRING_FIELDS) checkString(track, key, where, `${prefix}.${key}`);
    checkInteger(track, "duration_ms", where, `${prefix}.duration_ms`, MAX_INT32);

    // A missing pos means the track's index; a repeated pos would leave the track order undefined.
    checkInteger(track, "pos", where, `${prefix}.pos`, MAX_INT32);
    const pos = track.pos ?? index;
    if ((pos as number) !== index || positions !== undefined) {
      if (positions === undefined) positions = new Set(Array.from({ length: index }, (_, i) => i));
      if (positions.has(pos as number)) {
        throw new RangeError(
          `${where}: field "${prefix}.pos" repeats position ${pos}; positions in a playlist must be unique, ` +
            "so fix the pos values or remove them to use the list order",
        );
      }
      positions.add(pos as number);
    }
  }
}

/** Checks that `record[key]` is a string when present, and removes it when it is `null`. */
function checkString(record: Record<string, unknown>, key: string, where: string, field: string): void {
  const value = record[key];
  if (value === undefined || typeof value === "string") return;
  if (value === null) {
    delete record[key];
    return;
  }
  throw new TypeError(`${where}: field "${field}" must be a string, got ${describeType(value)}`);
}

/** Checks that `record[key]` is an integer from 0 to `max` when present, and removes it when it is `null`. */
function checkInteger(
  record: Record<string, unknown>,
  key: string,
  where: string,
  field: string,
  max: number,
): void {
  const value = record[key];
  if (value === undefined) return;
  if (value === null) {
    delete record[key];
    return;
  }
  if (typeof value !== "number") {
    throw new TypeError(`${where}: field "${field}" must be an integer, got ${describeType(value)}`);
  }
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${where}: field "${field}" must be an integer from 0 to ${max}, got ${value}`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

function describeValue(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value.slice(0, 40)) : describeType(value);
}

function describeKeys(value: Record<string, unknown>): string {
  const keys = Object.keys(value);
  if (keys.length === 0) return "none";
  const listed = keys.slice(0, 5).map((key) => JSON.stringify(key)).join(", ");
  return keys.length > 5 ? `${listed}, ...` : listed;
}
