/**
 * RecSys Challenge 2018 submission files: making the rows from a recommender, formatting, writing (gzipped
 * or plain), reading, and validating against the official rules.
 *
 * A submission is CSV text. Lines starting with `#` are comments and blank lines are ignored. The first
 * other line is `team_info,<team name>,<contact email>`. The 2018 challenge had a third field naming the
 * track, `team_info,<team name>,main|creative,<contact email>`, and both forms are accepted. Then every
 * challenge playlist gets one line `pid, uri1, ..., uri500`: exactly 500 distinct valid track URIs, none of
 * them a seed track of that playlist. Whitespace around the commas is optional.
 * @module
 */

import { gunzipSync, gzipSync } from "node:zlib";
import type { Corpus } from "../data/corpus.ts";
import type { PopularityRecommender } from "../baselines/popularity.ts";
import { MAX_RECOMMENDATIONS } from "../eval/metrics.ts";
import { writeFileAtomic } from "../pipeline/artifacts.ts";
import type { PlaylistQuery, Recommender } from "../recommender.ts";
import { type ChallengeSet, isTrackUri } from "./challenge_set.ts";

/** The number of tracks each submission row must hold. */
export const SUBMISSION_TRACKS = MAX_RECOMMENDATIONS;

/** The team line of a submission. */
export interface TeamInfo {
  name: string;
  email: string;
  /** The 2018 challenge track. When set, the team line has the 2018 form with it as third field. */
  track?: "main" | "creative";
}

/** One submission line: a challenge pid and its recommended track URIs, best first. */
export interface SubmissionRow {
  pid: number;
  uris: string[];
}

// ---------------------------------------------------------------------------------------------------------
// Formatting, writing and reading

/** Options of {@linkcode formatSubmission}. */
export interface FormatSubmissionOptions {
  /** Comment lines written before the team line, without the leading `#`. Default none. */
  comments: string[];
}

/**
 * Formats a submission as CSV text with `, ` separators, as in the official sample.
 *
 * @throws {RangeError} when the team name or email is empty or contains a comma or a line break, which
 *   would break the team line.
 */
export function formatSubmission(
  team: TeamInfo,
  rows: SubmissionRow[],
  options: Partial<FormatSubmissionOptions> = {},
): string {
  for (const [field, value] of [["team name", team.name], ["contact email", team.email]] as const) {
    if (value.trim() === "" || /[,\r\n]/.test(value)) {
      throw new RangeError(
        `Formatting the submission failed: the ${field} ${JSON.stringify(value)} is empty or contains a ` +
          `comma or line break. Choose a value without them.`,
      );
    }
  }

  const lines: string[] = [];
  for (const comment of options.comments ?? []) {
    for (const part of comment.split(/\r\n|\n|\r/)) lines.push(`# ${part}`);
  }
  const fields = team.track ? [team.name, team.track, team.email] : [team.name, team.email];
  lines.push(["team_info", ...fields].join(", "));
  for (const row of rows) lines.push([String(row.pid), ...row.uris].join(", "));
  return lines.join("\n") + "\n";
}

/**
 * Formats a submission and writes it atomically, gzipped when `path` ends in `.gz`.
 *
 * @throws {RangeError} as {@linkcode formatSubmission} describes.
 */
export async function writeSubmission(
  path: string,
  team: TeamInfo,
  rows: SubmissionRow[],
  options: Partial<FormatSubmissionOptions> = {},
): Promise<void> {
  const text = formatSubmission(team, rows, options);
  const bytes = new TextEncoder().encode(text);
  await writeFileAtomic(path, path.endsWith(".gz") ? gzipSync(bytes) : bytes);
}

/** Returns true when `bytes` start with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Decodes submission bytes to text, gunzipping them when they start with the gzip magic number.
 *
 * @throws {Error} when the gzip data is corrupt.
 */
export function decodeSubmission(bytes: Uint8Array): string {
  const plain = isGzip(bytes) ? gunzipSync(bytes) : bytes;
  return new TextDecoder().decode(plain);
}

/**
 * Reads a submission file, plain or gzipped, judging by the content rather than the file name.
 *
 * @throws {Deno.errors.NotFound} when the file does not exist.
 * @throws {Error} when the file is gzipped but corrupt.
 */
export async function readSubmission(path: string): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(`Reading submission ${path} failed: file not found.`);
    }
    throw error;
  }
  try {
    return decodeSubmission(bytes);
  } catch (error) {
    throw new Error(
      `Reading submission ${path} failed: it starts like gzip data but does not decompress ` +
        `(${(error as Error).message}). Write it again.`,
      { cause: error },
    );
  }
}

// ---------------------------------------------------------------------------------------------------------
// Parsing and validation

/** A data line of a submission file, parsed without judging it. */
export interface ParsedRow {
  /** 1-based line number in the file. */
  line: number;
  /** The first field, trimmed. */
  pidField: string;
  /** The pid, or null when the first field is not a non-negative integer. */
  pid: number | null;
  /** The remaining fields, trimmed. */
  uris: string[];
}

/** A submission file split into its team line and data lines. */
export interface ParsedSubmission {
  /** The team line, or undefined when the first non-comment line is not a well-formed team line. */
  team?: TeamInfo;
  /** 1-based line number of the first non-comment line, or null when the file has none. */
  teamLine: number | null;
  /** The problem of the first non-comment line as a team line, or undefined when it is well formed. */
  teamProblem?: string;
  /** Data lines, in file order, including a first line that is not a team line. */
  rows: ParsedRow[];
  /** Line numbers of `team_info` lines after the first non-comment line. */
  extraTeamLines: number[];
}

const PID_PATTERN = /^\d+$/;
const EMAIL_PATTERN = /^[^@\s]+@[^@\s]+$/;

/** Splits submission text into its team line and data lines, skipping comments and blank lines. */
export function parseSubmission(text: string): ParsedSubmission {
  const lines = text.replace(/^\uFEFF/, "").split(/\r\n|\n|\r/);
  const parsed: ParsedSubmission = { teamLine: null, rows: [], extraTeamLines: [] };

  lines.forEach((raw, index) => {
    const line = index + 1;
    const content = raw.trim();
    if (content === "" || content.startsWith("#")) return;

    const fields = content.split(",").map((field) => field.trim());
    if (parsed.teamLine === null) {
      parsed.teamLine = line;
      const team = parseTeamInfo(fields);
      if (typeof team === "string") parsed.teamProblem = team;
      else parsed.team = team;
      if (fields[0] === "team_info") return;
    } else if (fields[0] === "team_info") {
      parsed.extraTeamLines.push(line);
      return;
    }

    const pidField = fields[0];
    const pid = PID_PATTERN.test(pidField) ? Number(pidField) : null;
    parsed.rows.push({ line, pidField, pid, uris: fields.slice(1) });
  });
  return parsed;
}

/** Parses the fields of a team line, or returns a description of the problem when they are malformed. */
function parseTeamInfo(fields: string[]): TeamInfo | string {
  if (fields[0] !== "team_info") {
    return `the first non-comment line must be "team_info,<team name>,<contact email>", ` +
      `but it starts with ${JSON.stringify(fields[0].slice(0, 40))}`;
  }

  let team: TeamInfo;
  if (fields.length === 3) {
    team = { name: fields[1], email: fields[2] };
  } else if (fields.length === 4) {
    if (fields[2] !== "main" && fields[2] !== "creative") {
      return `the 2018 team line "team_info,<team name>,main|creative,<contact email>" needs main or ` +
        `creative as third field, got ${JSON.stringify(fields[2])}`;
    }
    team = { name: fields[1], track: fields[2], email: fields[3] };
  } else {
    return `the team line must be "team_info,<team name>,<contact email>", but it has ` +
      `${fields.length - 1} fields after team_info`;
  }

  if (team.name === "") return "the team line has an empty team name";
  if (!EMAIL_PATTERN.test(team.email)) {
    return `the team line's contact email ${JSON.stringify(team.email)} is not an email address`;
  }
  return team;
}

/** The rule a submission violates. */
export type ViolationRule =
  | "team_info"
  | "invalid_pid"
  | "unknown_pid"
  | "duplicate_pid"
  | "missing_pid"
  | "track_count"
  | "duplicate_track"
  | "invalid_uri"
  | "seed_track";

/** One violation of the submission rules. */
export interface SubmissionViolation {
  /** 1-based line number, or null for a challenge pid that has no line at all. */
  line: number | null;
  rule: ViolationRule;
  /** The playlist concerned, when the line names a valid pid. */
  pid?: number;
  message: string;
}

/** Number of offending values quoted in one violation message. */
const QUOTED_EXAMPLES = 3;

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

function quote(values: string[]): string {
  const shown = values.slice(0, QUOTED_EXAMPLES).map((value) => JSON.stringify(value)).join(", ");
  return values.length > QUOTED_EXAMPLES ? `${shown} and ${values.length - QUOTED_EXAMPLES} more` : shown;
}

/**
 * Checks a submission against the challenge rules and returns every violation, ordered by line. Pids
 * missing from the file come last with `line: null`. An empty array means the submission is valid.
 *
 * A row with several faults gets one violation per rule, each naming the offending tracks.
 */
export function validateSubmission(text: string, challenge: ChallengeSet): SubmissionViolation[] {
  const parsed = parseSubmission(text);
  const violations: SubmissionViolation[] = [];

  if (parsed.teamLine === null) {
    violations.push({
      line: 1,
      rule: "team_info",
      message: `missing team line: the file has no line other than comments; the first one must be ` +
        `"team_info,<team name>,<contact email>"`,
    });
  } else if (parsed.teamProblem) {
    violations.push({ line: parsed.teamLine, rule: "team_info", message: parsed.teamProblem });
  }
  for (const line of parsed.extraTeamLines) {
    violations.push({
      line,
      rule: "team_info",
      message:
        `a second team_info line; only the first non-comment line (line ${parsed.teamLine}) may hold it`,
    });
  }

  const seedsOf = new Map(challenge.playlists.map((p) => [p.pid, new Set(p.tracks.map((t) => t.track_uri))]));
  const firstLineOf = new Map<number, number>();
  for (const row of parsed.rows) {
    violations.push(...validateRow(row, seedsOf, firstLineOf));
  }

  for (const playlist of challenge.playlists) {
    if (!firstLineOf.has(playlist.pid)) {
      violations.push({
        line: null,
        rule: "missing_pid",
        pid: playlist.pid,
        message: `challenge pid ${playlist.pid} has no line; every challenge playlist needs one`,
      });
    }
  }

  // A second team line is found after rows may already be checked, so the list is put in line order here.
  const order = (violation: SubmissionViolation) => violation.line ?? Number.MAX_SAFE_INTEGER;
  return violations.sort((a, b) => order(a) - order(b));
}

function validateRow(
  row: ParsedRow,
  seedsOf: Map<number, Set<string>>,
  firstLineOf: Map<number, number>,
): SubmissionViolation[] {
  const violations: SubmissionViolation[] = [];
  const { line, pid } = row;
  const add = (rule: ViolationRule, message: string) =>
    violations.push(pid === null ? { line, rule, message } : { line, rule, pid, message });

  if (pid === null) {
    add("invalid_pid", `the first field ${JSON.stringify(row.pidField.slice(0, 40))} is not a pid`);
  } else if (!seedsOf.has(pid)) {
    add("unknown_pid", `pid ${pid} is not in the challenge set`);
  } else if (firstLineOf.has(pid)) {
    add("duplicate_pid", `pid ${pid} already has a line (line ${firstLineOf.get(pid)})`);
  } else {
    firstLineOf.set(pid, line);
  }

  if (row.uris.length !== SUBMISSION_TRACKS) {
    add("track_count", `${count(row.uris.length, "track")}; each line needs exactly ${SUBMISSION_TRACKS}`);
  }

  const invalid = row.uris.filter((uri) => !isTrackUri(uri));
  if (invalid.length > 0) {
    add(
      "invalid_uri",
      `${count(invalid.length, "invalid track URI")} (spotify:track: and 22 base62 characters needed): ` +
        quote(invalid),
    );
  }

  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const uri of row.uris) {
    if (seen.has(uri)) repeated.add(uri);
    seen.add(uri);
  }
  if (repeated.size > 0) {
    add("duplicate_track", `${count(repeated.size, "track")} repeated: ${quote([...repeated])}`);
  }

  const seeds = pid === null ? undefined : seedsOf.get(pid);
  if (seeds) {
    const included = [...seen].filter((uri) => seeds.has(uri));
    if (included.length > 0) {
      add("seed_track", `${count(included.length, "seed track")} of pid ${pid} included: ${quote(included)}`);
    }
  }
  return violations;
}

// ---------------------------------------------------------------------------------------------------------
// Making the rows

/** Options of {@linkcode recommendChallenge}. */
export interface RecommendChallengeOptions {
  /** Playlists per call to the recommender. Default 64. */
  batchSize: number;
  /** Called after each batch with the number of playlists done. Default none. */
  onProgress?: (done: number, total: number) => void;
}

/** The result of {@linkcode recommendChallenge}. */
export interface ChallengeRecommendations {
  /** One row per challenge playlist, in challenge order, each with 500 tracks. */
  rows: SubmissionRow[];
  /** Seed URIs not found in the corpus, which were skipped. */
  unknownSeeds: number;
  /** Playlists with at least one unknown seed URI. */
  playlistsWithUnknownSeeds: number;
  /** Tracks added after the method's own because it returned fewer than 500 usable ones. */
  filledTracks: number;
  /** Playlists that needed such filling. */
  filledPlaylists: number;
}

/**
 * Recommends 500 tracks for every challenge playlist and returns them as submission rows.
 *
 * Seed URIs are mapped to corpus track ids, and unknown ones are skipped and counted. The recommender's
 * list is cleaned of seeds, repeats and tracks whose URI is invalid, then filled to 500 from `popularity`,
 * and when that runs dry from the remaining corpus tracks in id order.
 *
 * @throws {RangeError} when the corpus has fewer than 500 valid track URIs besides a playlist's seeds.
 * @throws {Error} when the recommender returns a different number of recommendations than queries.
 */
export async function recommendChallenge(
  challenge: ChallengeSet,
  corpus: Corpus,
  recommender: Recommender,
  popularity: PopularityRecommender,
  options: Partial<RecommendChallengeOptions> = {},
): Promise<ChallengeRecommendations> {
  const batchSize = options.batchSize ?? 64;
  const idOf = new Map(corpus.tracks.uri.map((uri, id) => [uri, id]));
  const result: ChallengeRecommendations = {
    rows: [],
    unknownSeeds: 0,
    playlistsWithUnknownSeeds: 0,
    filledTracks: 0,
    filledPlaylists: 0,
  };

  const queries: PlaylistQuery[] = challenge.playlists.map((playlist) => {
    const seeds: number[] = [];
    for (const track of playlist.tracks) {
      const id = idOf.get(track.track_uri);
      if (id === undefined) result.unknownSeeds++;
      else seeds.push(id);
    }
    if (seeds.length < playlist.tracks.length) result.playlistsWithUnknownSeeds++;
    return { pid: playlist.pid, name: playlist.name ?? "", seeds: Int32Array.from(seeds) };
  });

  const total = queries.length;
  for (let start = 0; start < total; start += batchSize) {
    const batch = queries.slice(start, start + batchSize);
    const answers = await recommender.recommend(batch, SUBMISSION_TRACKS);
    if (answers.length !== batch.length) {
      throw new Error(
        `Recommender "${recommender.name}" returned ${answers.length} recommendations for ${batch.length} ` +
          `playlists: it must return one per query, in query order.`,
      );
    }

    batch.forEach((query, i) => {
      const seedUris = new Set(challenge.playlists[start + i].tracks.map((t) => t.track_uri));
      const chosen = completeRecommendation(corpus, query, answers[i].tracks, seedUris, popularity);
      if (chosen.filled > 0) {
        result.filledTracks += chosen.filled;
        result.filledPlaylists++;
      }
      result.rows.push({ pid: query.pid, uris: chosen.uris });
    });
    options.onProgress?.(Math.min(start + batchSize, total), total);
  }
  return result;
}

/** Cleans one recommendation and fills it to 500 tracks. Returns the URIs and how many were filled in. */
function completeRecommendation(
  corpus: Corpus,
  query: PlaylistQuery,
  answer: Int32Array,
  seedUris: Set<string>,
  popularity: PopularityRecommender,
): { uris: string[]; filled: number } {
  const uriOf = corpus.tracks.uri;
  const seedIds = new Set(query.seeds);
  const chosen = new Set<number>();
  const accept = (track: number) => {
    if (chosen.size >= SUBMISSION_TRACKS || chosen.has(track) || seedIds.has(track)) return;
    const uri = uriOf[track];
    if (uri !== undefined && isTrackUri(uri) && !seedUris.has(uri)) chosen.add(track);
  };

  for (const track of answer) accept(track);
  const own = chosen.size;

  if (chosen.size < SUBMISSION_TRACKS) {
    // Asking for more than the gap leaves room for tracks that `accept` rejects.
    const extra = popularity.recommendOne(query, SUBMISSION_TRACKS + seedIds.size, chosen);
    for (const track of extra.tracks) accept(track);
  }
  for (let track = 0; track < uriOf.length && chosen.size < SUBMISSION_TRACKS; track++) accept(track);

  if (chosen.size < SUBMISSION_TRACKS) {
    throw new RangeError(
      `Recommending for pid ${query.pid} failed: the corpus has only ${chosen.size} valid track URIs ` +
        `besides the playlist's seeds, and a submission needs ${SUBMISSION_TRACKS} per playlist. ` +
        `Use a larger corpus.`,
    );
  }
  return { uris: Array.from(chosen, (track) => uriOf[track]), filled: chosen.size - own };
}
