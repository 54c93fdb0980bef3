/**
 * The RecSys Challenge 2018 challenge set: the `challenge_set.json` format, reading and validating it, and
 * building a challenge-like set with held-out ground truth from a corpus's test playlists.
 *
 * The official set has 10,000 incomplete playlists, 1,000 in each of ten categories. The categories differ
 * in the number of seed tracks given (0, 1, 5, 10, 25 or 100), in whether the title is given, and in whether
 * the seeds are the first tracks or drawn at random positions. Every track not given is held out.
 * @module
 */

import type { Corpus } from "../data/corpus.ts";
import type { MpdTrack } from "../mpd/schema.ts";
import { writeJsonAtomic } from "../pipeline/artifacts.ts";
import { createRandom, shuffleInPlace } from "../util/random.ts";

/** A seed track of a challenge playlist: an MPD track whose `pos` is required. */
export interface ChallengeTrack extends MpdTrack {
  /** 0-based position in the original playlist. */
  pos: number;
}

/** One incomplete playlist of a challenge set. */
export interface ChallengePlaylist {
  pid: number;
  /** Missing in the categories that give no title. */
  name?: string;
  /** Number of tracks given, equal to `tracks.length`. */
  num_samples: number;
  /** Number of tracks held out, so that `num_samples + num_holdouts === num_tracks`. */
  num_holdouts: number;
  num_tracks: number;
  /** The seed tracks, in ascending `pos` order in the sets this module builds. */
  tracks: ChallengeTrack[];
}

/** A whole `challenge_set.json`. */
export interface ChallengeSet {
  /** Time the set was generated. The official set has "2018-01-16 08:47:28.198015". */
  date: string;
  /** The official set has "v1". */
  version: string;
  playlists: ChallengePlaylist[];
  /** Present and true in sets built from synthetic playlists. */
  synthetic?: boolean;
  /** Free text that describes where a built set came from. */
  description?: string;
}

/** One of the ten challenge categories. */
export interface ChallengeCategory {
  /** 1 to 10, in the order of the official challenge readme. */
  id: number;
  label: string;
  /** Number of seed tracks given. */
  seeds: number;
  /** Whether the playlist title is given. */
  title: boolean;
  /** Whether the seeds are drawn at random positions rather than being the first tracks. */
  random: boolean;
}

/** The ten categories of the official challenge set, in the order of its readme. */
export const CHALLENGE_CATEGORIES: readonly ChallengeCategory[] = [
  { id: 1, label: "title only", seeds: 0, title: true, random: false },
  { id: 2, label: "title + first 1", seeds: 1, title: true, random: false },
  { id: 3, label: "title + first 5", seeds: 5, title: true, random: false },
  { id: 4, label: "first 5, no title", seeds: 5, title: false, random: false },
  { id: 5, label: "title + first 10", seeds: 10, title: true, random: false },
  { id: 6, label: "first 10, no title", seeds: 10, title: false, random: false },
  { id: 7, label: "title + first 25", seeds: 25, title: true, random: false },
  { id: 8, label: "title + 25 random", seeds: 25, title: true, random: true },
  { id: 9, label: "title + first 100", seeds: 100, title: true, random: false },
  { id: 10, label: "title + 100 random", seeds: 100, title: true, random: true },
];

/** Returns the category with the given id. @throws RangeError for an id outside 1 to 10. */
export function getCategory(id: number): ChallengeCategory {
  const category = CHALLENGE_CATEGORIES.find((c) => c.id === id);
  if (!category) {
    throw new RangeError(`Looking up challenge category ${id} failed: category ids run from 1 to 10.`);
  }
  return category;
}

/**
 * Infers the category of a challenge playlist from its seed count, title presence and seed positions.
 *
 * @returns the category id, or undefined when the playlist fits none of the ten categories.
 */
export function inferCategory(playlist: ChallengePlaylist): number | undefined {
  const seeds = playlist.tracks.length;
  const title = playlist.name !== undefined;
  const first = [...playlist.tracks].sort((a, b) => a.pos - b.pos).every((track, i) => track.pos === i);
  // Random seeds that happen to be the first k positions are read as "first k".
  const match = CHALLENGE_CATEGORIES.find((c) =>
    c.seeds === seeds && c.title === title && c.random === !first
  );
  return match?.id;
}

/** A Spotify track URI: `spotify:track:` and a 22-character base62 id. */
export const TRACK_URI_PATTERN = /^spotify:track:[0-9A-Za-z]{22}$/;

/** Returns true when `uri` is a valid Spotify track URI. */
export function isTrackUri(uri: string): boolean {
  return TRACK_URI_PATTERN.test(uri);
}

// ---------------------------------------------------------------------------------------------------------
// Reading and validation

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}

/**
 * Reads and validates a `challenge_set.json`.
 *
 * @throws {Deno.errors.NotFound} when the file does not exist.
 * @throws {SyntaxError} when the file is not valid JSON.
 * @throws {TypeError} when a field is missing or has the wrong type. The message names the file, the pid
 *   and the field.
 * @throws {RangeError} when the counts disagree (`tracks.length` versus `num_samples`, the sum of samples and
 *   holdouts versus `num_tracks`), a `pos` lies outside the playlist, or a pid repeats.
 */
export async function readChallengeSet(path: string): Promise<ChallengeSet> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(
        `Reading challenge set ${path} failed: file not found. Pass the path of challenge_set.json, or ` +
          `build a challenge-like set with "deno task submit --build-challenge FILE".`,
      );
    }
    throw error;
  }

  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SyntaxError(
      `Reading challenge set ${path} failed: invalid JSON (${(error as Error).message}).`,
    );
  }
  return parseChallengeSet(value, path);
}

/**
 * Validates a parsed `challenge_set.json` value and returns it typed.
 *
 * @param source the file name used in error messages.
 * @throws {TypeError} or {RangeError} as {@linkcode readChallengeSet} describes.
 */
export function parseChallengeSet(value: unknown, source = "challenge set"): ChallengeSet {
  if (!isObject(value)) {
    throw new TypeError(`Invalid challenge set ${source}: the top level must be a JSON object.`);
  }
  for (const field of ["date", "version"] as const) {
    if (typeof value[field] !== "string") {
      throw new TypeError(
        `Invalid challenge set ${source}: field "${field}" is missing or not a string.`,
      );
    }
  }
  if (!Array.isArray(value.playlists)) {
    throw new TypeError(`Invalid challenge set ${source}: field "playlists" is missing or not an array.`);
  }

  const seen = new Set<number>();
  value.playlists.forEach((playlist, index) => {
    validatePlaylist(playlist, index, source);
    const pid = (playlist as ChallengePlaylist).pid;
    if (seen.has(pid)) {
      throw new RangeError(
        `Invalid challenge set ${source}: pid ${pid} occurs twice (field "pid" of playlists[${index}]). ` +
          `Each challenge playlist needs its own pid.`,
      );
    }
    seen.add(pid);
  });
  return value as unknown as ChallengeSet;
}

function validatePlaylist(playlist: unknown, index: number, source: string): void {
  if (!isObject(playlist)) {
    throw new TypeError(`Invalid challenge set ${source}: playlists[${index}] is not an object.`);
  }
  if (!isCount(playlist.pid)) {
    throw new TypeError(
      `Invalid challenge set ${source}: playlists[${index}] has field "pid" missing or not a ` +
        `non-negative integer (got ${JSON.stringify(playlist.pid)}).`,
    );
  }
  const where = `${source}, pid ${playlist.pid}`;

  if (playlist.name !== undefined && typeof playlist.name !== "string") {
    throw new TypeError(`Invalid challenge set ${where}: field "name" is not a string.`);
  }
  for (const field of ["num_samples", "num_holdouts", "num_tracks"] as const) {
    if (!isCount(playlist[field])) {
      throw new TypeError(
        `Invalid challenge set ${where}: field "${field}" is missing or not a non-negative integer ` +
          `(got ${JSON.stringify(playlist[field])}).`,
      );
    }
  }
  if (!Array.isArray(playlist.tracks)) {
    throw new TypeError(`Invalid challenge set ${where}: field "tracks" is missing or not an array.`);
  }

  const samples = playlist.num_samples as number;
  const holdouts = playlist.num_holdouts as number;
  const total = playlist.num_tracks as number;
  if (playlist.tracks.length !== samples) {
    throw new RangeError(
      `Invalid challenge set ${where}: field "tracks" has ${playlist.tracks.length} tracks but ` +
        `"num_samples" is ${samples}; they must be equal.`,
    );
  }
  if (samples + holdouts !== total) {
    throw new RangeError(
      `Invalid challenge set ${where}: field "num_tracks" is ${total} but num_samples + num_holdouts ` +
        `is ${samples + holdouts}; they must be equal.`,
    );
  }

  const positions = new Set<number>();
  playlist.tracks.forEach((track, t) => {
    const field = `tracks[${t}]`;
    if (!isObject(track)) {
      throw new TypeError(`Invalid challenge set ${where}: field "${field}" is not an object.`);
    }
    if (typeof track.track_uri !== "string" || !isTrackUri(track.track_uri)) {
      throw new TypeError(
        `Invalid challenge set ${where}: field "${field}.track_uri" is not a track URI ` +
          `(spotify:track: and 22 base62 characters; got ${JSON.stringify(track.track_uri)}).`,
      );
    }
    if (!isCount(track.pos)) {
      throw new TypeError(
        `Invalid challenge set ${where}: field "${field}.pos" is missing or not a non-negative integer ` +
          `(got ${JSON.stringify(track.pos)}).`,
      );
    }
    if (track.pos >= total || positions.has(track.pos)) {
      throw new RangeError(
        `Invalid challenge set ${where}: field "${field}.pos" is ${track.pos}, ` +
          (track.pos >= total ? `outside a playlist of ${total} tracks.` : `a position already given.`),
      );
    }
    positions.add(track.pos);
    for (const name of ["track_name", "artist_uri", "artist_name", "album_uri", "album_name"] as const) {
      if (track[name] !== undefined && typeof track[name] !== "string") {
        throw new TypeError(`Invalid challenge set ${where}: field "${field}.${name}" is not a string.`);
      }
    }
    if (track.duration_ms !== undefined && typeof track.duration_ms !== "number") {
      throw new TypeError(`Invalid challenge set ${where}: field "${field}.duration_ms" is not a number.`);
    }
  });
}

/** Writes a challenge set as JSON, atomically. */
export function writeChallengeSet(path: string, set: ChallengeSet): Promise<void> {
  return writeJsonAtomic(path, set);
}

// ---------------------------------------------------------------------------------------------------------
// Ground truth of a built set

/** The held-out tracks of one built challenge playlist. */
export interface GroundTruthPlaylist {
  pid: number;
  /** Challenge category id, 1 to 10. */
  category: number;
  /** Track URIs of the held-out positions, in playlist order, repeats kept. */
  holdouts: string[];
}

/** The ground-truth file written beside a built challenge set. The official set publishes none. */
export interface GroundTruth {
  /** The `date` of the challenge set it belongs to. */
  challenge_date: string;
  /** True when the playlists were synthetic. */
  synthetic: boolean;
  playlists: GroundTruthPlaylist[];
}

/** Writes a ground-truth file as JSON, atomically. */
export function writeGroundTruth(path: string, truth: GroundTruth): Promise<void> {
  return writeJsonAtomic(path, truth);
}

/**
 * Reads a ground-truth file written by {@linkcode writeGroundTruth}.
 *
 * @throws {Deno.errors.NotFound} when the file does not exist.
 * @throws {SyntaxError} when it is not valid JSON.
 * @throws {TypeError} when a field is missing or has the wrong type, naming the pid and field.
 */
export async function readGroundTruth(path: string): Promise<GroundTruth> {
  let value: unknown;
  try {
    value = JSON.parse(await Deno.readTextFile(path));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(
        `Reading ground truth ${path} failed: file not found. "deno task submit --build-challenge FILE" ` +
          `writes it beside the challenge set.`,
      );
    }
    if (error instanceof SyntaxError) {
      throw new SyntaxError(`Reading ground truth ${path} failed: invalid JSON (${error.message}).`);
    }
    throw error;
  }

  if (!isObject(value) || !Array.isArray(value.playlists)) {
    throw new TypeError(`Invalid ground truth ${path}: field "playlists" is missing or not an array.`);
  }
  value.playlists.forEach((playlist, index) => {
    if (!isObject(playlist) || !isCount(playlist.pid)) {
      throw new TypeError(`Invalid ground truth ${path}: playlists[${index}] has no valid field "pid".`);
    }
    if (!isCount(playlist.category) || playlist.category < 1 || playlist.category > 10) {
      throw new TypeError(
        `Invalid ground truth ${path}, pid ${playlist.pid}: field "category" must be an integer from 1 to 10.`,
      );
    }
    if (!Array.isArray(playlist.holdouts) || !playlist.holdouts.every((uri) => typeof uri === "string")) {
      throw new TypeError(
        `Invalid ground truth ${path}, pid ${playlist.pid}: field "holdouts" must be an array of track URIs.`,
      );
    }
  });
  return {
    challenge_date: typeof value.challenge_date === "string" ? value.challenge_date : "",
    synthetic: value.synthetic === true,
    playlists: value.playlists as GroundTruthPlaylist[],
  };
}

// ---------------------------------------------------------------------------------------------------------
// Building a challenge-like set

/** Options of {@linkcode buildChallengeSet}. */
export interface BuildChallengeOptions {
  /** Seed of the category assignment and of the random seed positions. Default 2018. */
  seed: number;
  /**
   * Tracks that must remain held out: a playlist joins a category with k seeds only when it has at least
   * k + `minHoldouts` tracks. Default 1. The official readme publishes no length limits per category, so
   * this is the one rule applied.
   */
  minHoldouts: number;
  /** Cap on playlists per category, like the official 1,000. Default unset, which uses every playlist. */
  playlistsPerCategory?: number;
  /** The set's `date`. Default: the current time, ISO 8601. */
  date?: string;
  /** The set's `version`. Default "challenge-like-1", so it is never mistaken for the official "v1". */
  version: string;
}

/** Defaults of {@linkcode BuildChallengeOptions}. */
export const DEFAULT_BUILD_CHALLENGE_OPTIONS: BuildChallengeOptions = {
  seed: 2018,
  minHoldouts: 1,
  version: "challenge-like-1",
};

/** The result of {@linkcode buildChallengeSet}. */
export interface BuiltChallenge {
  challenge: ChallengeSet;
  /** The held-out tracks per pid, kept out of the challenge JSON. */
  groundTruth: GroundTruth;
  /** Category id of each challenge pid. */
  categoryOf: Map<number, number>;
  /** Pids left out: too short for any category, or beyond `playlistsPerCategory`. */
  skipped: number[];
}

/**
 * Builds a challenge-like set from evaluation playlists, with the ten official categories.
 *
 * Categories get equal shares as far as playlist lengths allow. They are filled from the most demanding
 * (100 seeds) to the least (title only), each drawing at random among the unassigned playlists long enough
 * for it, so short playlists end up in the categories with few seeds. Because a playlist long enough for a
 * demanding category is long enough for every lighter one, this order never starves a lighter category.
 * A category that cannot reach its share leaves the rest to the lighter ones.
 *
 * Seeds are the first k tracks, or for the "random" categories k positions drawn at random and listed in
 * position order. Every other position is held out, so a track that repeats a seed track can be held out.
 *
 * @param playlistIndices indices into `corpus.playlists`, for example the test split.
 */
export function buildChallengeSet(
  corpus: Corpus,
  playlistIndices: number[],
  options: Partial<BuildChallengeOptions> = {},
): BuiltChallenge {
  const config = { ...DEFAULT_BUILD_CHALLENGE_OPTIONS, ...options };
  const random = createRandom(config.seed);
  const cap = config.playlistsPerCategory ?? Infinity;
  const lengthOf = (index: number) => corpus.playlists[index].tracks.length;

  // Sorting the input first makes the result independent of the order the caller passed.
  const unassigned = new Set([...playlistIndices].sort((a, b) => a - b));
  const minimum = (category: ChallengeCategory) => category.seeds + config.minHoldouts;
  const order = [...CHALLENGE_CATEGORIES].sort((a, b) => b.seeds - a.seeds || a.id - b.id);
  const lightest = Math.min(...CHALLENGE_CATEGORIES.map(minimum));
  const members = new Map<number, number[]>();

  order.forEach((category, position) => {
    const assignable = [...unassigned].filter((index) => lengthOf(index) >= lightest).length;
    const remainingCategories = order.length - position;
    const share = Math.min(cap, Math.ceil(assignable / remainingCategories));

    const eligible = [...unassigned].filter((index) => lengthOf(index) >= minimum(category));
    // Categories with the same minimum split their eligible playlists evenly instead of the first taking all.
    const sameMinimum = order.slice(position).filter((c) => minimum(c) === minimum(category)).length;
    const fairShare = Math.ceil(eligible.length / sameMinimum);
    const take = Math.min(share, fairShare, eligible.length);

    const chosen = shuffleInPlace(eligible, random).slice(0, take).sort((a, b) => a - b);
    for (const index of chosen) unassigned.delete(index);
    members.set(category.id, chosen);
  });

  const playlists: ChallengePlaylist[] = [];
  const truth: GroundTruthPlaylist[] = [];
  const categoryOf = new Map<number, number>();
  for (const category of CHALLENGE_CATEGORIES) {
    for (const index of members.get(category.id)!) {
      const { playlist, holdouts } = cutPlaylist(corpus, index, category, random);
      playlists.push(playlist);
      truth.push({ pid: playlist.pid, category: category.id, holdouts });
      categoryOf.set(playlist.pid, category.id);
    }
  }

  const date = config.date ?? new Date().toISOString();
  const challenge: ChallengeSet = { date, version: config.version, playlists };
  if (corpus.synthetic) {
    challenge.synthetic = true;
    challenge.description =
      `SYNTHETIC: a challenge-like set built from synthetic playlists (${corpus.source}), ` +
      `not the official RecSys Challenge 2018 set.`;
  } else {
    challenge.description = `A challenge-like set built from held-out playlists of ${corpus.source}, ` +
      `not the official RecSys Challenge 2018 set.`;
  }
  return {
    challenge,
    groundTruth: { challenge_date: date, synthetic: corpus.synthetic, playlists: truth },
    categoryOf,
    skipped: [...unassigned].map((index) => corpus.playlists[index].pid),
  };
}

/** Cuts one playlist into the seeds of `category` and the held-out rest. */
function cutPlaylist(
  corpus: Corpus,
  index: number,
  category: ChallengeCategory,
  random: () => number,
): { playlist: ChallengePlaylist; holdouts: string[] } {
  const source = corpus.playlists[index];
  const length = source.tracks.length;

  let positions: number[];
  if (category.random) {
    const all = Array.from({ length }, (_, i) => i);
    positions = shuffleInPlace(all, random).slice(0, category.seeds).sort((a, b) => a - b);
  } else {
    positions = Array.from({ length: category.seeds }, (_, i) => i);
  }
  const given = new Set(positions);

  const tracks = positions.map((pos) => challengeTrack(corpus, source.tracks[pos], pos));
  const holdouts: string[] = [];
  for (let pos = 0; pos < length; pos++) {
    if (!given.has(pos)) holdouts.push(corpus.tracks.uri[source.tracks[pos]]);
  }

  const playlist: ChallengePlaylist = {
    pid: source.pid,
    ...(category.title ? { name: source.name } : {}),
    num_samples: tracks.length,
    num_holdouts: holdouts.length,
    num_tracks: length,
    tracks,
  };
  return { playlist, holdouts };
}

/** Builds the MPD-shaped record of a corpus track, leaving out the fields that the corpus lacks. */
function challengeTrack(corpus: Corpus, track: number, pos: number): ChallengeTrack {
  const table = corpus.tracks;
  const record: ChallengeTrack = { pos, track_uri: table.uri[track] };
  if (table.name[track]) record.track_name = table.name[track];
  if (table.artistUri[track]) record.artist_uri = table.artistUri[track];
  if (table.artistName[track]) record.artist_name = table.artistName[track];
  if (table.albumUri[track]) record.album_uri = table.albumUri[track];
  return record;
}
