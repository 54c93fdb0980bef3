/**
 * Scores a submission against the held-out tracks of a built challenge set, per challenge category and
 * overall, with the RecSys Challenge 2018 metrics.
 * @module
 */

import { clicks, ndcg, recallAt500, rPrecision, rPrecisionArtistCredit } from "../eval/metrics.ts";
import type { MetricSet } from "../eval/results.ts";
import { CHALLENGE_CATEGORIES, getCategory, type GroundTruth } from "./challenge_set.ts";
import type { SubmissionRow } from "./submission.ts";

/**
 * The artist-credit rule of `r_precision_artist_credit`, worded for reports. Each of the first |G|
 * recommendations scores 1 when it is a held-out track. A recommendation that is not, but whose artist is one
 * of the held-out tracks' artists and not credited yet, scores 0.25. The sum is divided by |G| and capped at 1.
 */
export const ARTIST_CREDIT_DEFINITION =
  "R-precision with artist credit: among the first |G| recommendations a held-out track scores 1, and any " +
  "other track whose artist is among the held-out tracks' artists and not yet credited scores 0.25. The sum is " +
  "divided by |G| and capped at 1.";

/** Mean metrics of a group of challenge playlists. */
export interface ChallengeMetricSet extends MetricSet {
  /** R-precision with artist credit, in [0, 1], or null when no artist lookup was given. */
  r_precision_artist_credit: number | null;
}

/** The metrics of one challenge playlist. */
export interface ChallengePlaylistScore {
  pid: number;
  category: number;
  r_precision: number;
  r_precision_artist_credit: number | null;
  ndcg: number;
  clicks: number;
  recall_at_500: number;
}

/** The means of one category. */
export interface CategoryScore {
  category: number;
  label: string;
  metrics: ChallengeMetricSet;
}

/** The result of {@linkcode scoreChallenge}. */
export interface ChallengeScores {
  /** Categories that have playlists, in id order. */
  categories: CategoryScore[];
  /** Unweighted mean over the categories that have playlists. */
  category_mean: ChallengeMetricSet;
  /** Mean over all playlists, as on the challenge leaderboard. */
  overall: ChallengeMetricSet;
  playlists: ChallengePlaylistScore[];
}

/** Options of {@linkcode scoreChallenge}. */
export interface ScoreChallengeOptions {
  /**
   * Returns the artist URI of a track URI, or "" when unknown, and an empty artist never earns credit. When
   * unset, `r_precision_artist_credit` is null. Default unset.
   */
  artistOf?: (trackUri: string) => string;
}

/**
 * Scores submission rows against a ground truth, per playlist, per category and overall.
 *
 * A ground-truth pid without a row scores 0, and 51 clicks. Rows whose pid is not in the ground truth are
 * ignored, and of repeated pids the first row counts, as the submission validator reads them.
 */
export function scoreChallenge(
  rows: Iterable<SubmissionRow>,
  truth: GroundTruth,
  options: Partial<ScoreChallengeOptions> = {},
): ChallengeScores {
  const rowOf = new Map<number, string[]>();
  for (const row of rows) if (!rowOf.has(row.pid)) rowOf.set(row.pid, row.uris);

  // The metrics compare numbers, so every URI gets a number of its own for this run.
  const idOf = new Map<string, number>();
  const uriOf: string[] = [];
  const intern = (uris: string[]) =>
    Int32Array.from(uris, (uri) => {
      let id = idOf.get(uri);
      if (id === undefined) {
        id = uriOf.length;
        idOf.set(uri, id);
        uriOf.push(uri);
      }
      return id;
    });
  const artistOf = options.artistOf;
  const withArtist = artistOf !== undefined;
  const artistOfId = artistOf ? (id: number) => artistOf(uriOf[id]) : undefined;

  const playlists = truth.playlists.map((playlist): ChallengePlaylistScore => {
    const recommended = intern(rowOf.get(playlist.pid) ?? []);
    const holdouts = intern(playlist.holdouts);
    return {
      pid: playlist.pid,
      category: playlist.category,
      r_precision: rPrecision(recommended, holdouts),
      r_precision_artist_credit: artistOfId
        ? rPrecisionArtistCredit(recommended, holdouts, artistOfId)
        : null,
      ndcg: ndcg(recommended, holdouts),
      clicks: clicks(recommended, holdouts),
      recall_at_500: recallAt500(recommended, holdouts),
    };
  });

  const categories: CategoryScore[] = [];
  for (const category of CHALLENGE_CATEGORIES) {
    const members = playlists.filter((score) => score.category === category.id);
    if (members.length > 0) {
      const metrics = average(members, members.length, withArtist);
      categories.push({ category: category.id, label: category.label, metrics });
    }
  }
  return {
    categories,
    category_mean: average(categories.map((c) => c.metrics), playlists.length, withArtist),
    overall: average(playlists, playlists.length, withArtist),
    playlists,
  };
}

const METRICS = ["r_precision", "ndcg", "clicks", "recall_at_500"] as const;

type MetricValues = Omit<ChallengeMetricSet, "playlists">;

/**
 * Averages metric values without weights and records `playlists` as the count. An empty list gives zeros.
 * The artist-credit mean is null unless `withArtist`.
 */
function average(items: MetricValues[], playlists: number, withArtist: boolean): ChallengeMetricSet {
  const mean: ChallengeMetricSet = {
    r_precision: 0,
    ndcg: 0,
    clicks: 0,
    recall_at_500: 0,
    playlists,
    r_precision_artist_credit: withArtist ? 0 : null,
  };
  const n = Math.max(1, items.length);
  for (const item of items) {
    for (const metric of METRICS) mean[metric] += item[metric] / n;
    if (mean.r_precision_artist_credit !== null) {
      mean.r_precision_artist_credit += (item.r_precision_artist_credit ?? 0) / n;
    }
  }
  return mean;
}

/** Formats scores as a plain-text table, one line per category, then the two means. */
export function formatChallengeScores(scores: ChallengeScores): string {
  const header = ["category", "playlists", "R-prec", "R-prec artist", "NDCG", "clicks", "recall@500"];
  const line = (label: string, metrics: ChallengeMetricSet) => [
    label,
    String(metrics.playlists),
    metrics.r_precision.toFixed(4),
    metrics.r_precision_artist_credit === null ? "-" : metrics.r_precision_artist_credit.toFixed(4),
    metrics.ndcg.toFixed(4),
    metrics.clicks.toFixed(2),
    metrics.recall_at_500.toFixed(4),
  ];
  const table = [
    header,
    ...scores.categories.map((c) => line(`${c.category}. ${getCategory(c.category).label}`, c.metrics)),
    line("mean over categories", scores.category_mean),
    line("overall (all playlists)", scores.overall),
  ];

  const widths = header.map((_, column) => Math.max(...table.map((row) => row[column].length)));
  const format = (row: string[]) =>
    row.map((cell, column) => column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))
      .join("  ");
  return table.map(format).join("\n") + "\n";
}
