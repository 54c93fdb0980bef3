/**
 * Markdown reports of a study's results: the thesis table, R-precision per seed bucket, the leaderboard
 * average, and conclusions computed from the numbers.
 * @module
 */

import type { MetricSet, StudyResults } from "./results.ts";

/** Seed counts of the six evaluation buckets, shortest playlists first. */
export const SEED_COUNTS: readonly string[] = ["0", "1", "5", "10", "25", "100"];

/** Methods in the order of the thesis: baselines first, then Track2Seq and its CWVA variant. */
export const METHOD_ORDER: readonly string[] = [
  "popularity",
  "w2v",
  "wmf",
  "cwva",
  "track2seq",
  "track2seq_cwva",
];

const METHOD_LABELS: Record<string, string> = {
  popularity: "Popularity",
  w2v: "W2V",
  wmf: "WMF",
  cwva: "CWVA",
  track2seq: "Track2Seq",
  track2seq_cwva: "Track2Seq + CWVA",
};

/** A metric of {@linkcode MetricSet} that reports can rank methods by. */
export type MetricName = Exclude<keyof MetricSet, "playlists">;

/** Options of {@linkcode formatResultsMarkdown}. */
export interface ResultsMarkdownOptions {
  /** Heading level of the report's title, whose sections get the next level. Default: 1. */
  headingLevel?: number;
}

/** The method with the best value of a metric in one seed bucket. */
export interface BucketWinner {
  /** Seed count of the bucket, such as `"0"` or `"100"`. */
  seed: string;
  /** Method key, as in `StudyResults.methods`. */
  method: string;
  value: number;
  /** Other methods with exactly the same value, in method order; empty when the best is alone. */
  tiedWith: string[];
}

/** Returns the display name of a method key, such as `"Track2Seq + CWVA"` for `track2seq_cwva`. */
export function methodLabel(method: string): string {
  return METHOD_LABELS[method] ?? method;
}

/** Sorts method keys into {@linkcode METHOD_ORDER}, then any others alphabetically. */
export function orderMethods(methods: Iterable<string>): string[] {
  const names = [...methods];
  const known = METHOD_ORDER.filter((method) => names.includes(method));
  const others = names.filter((method) => !METHOD_ORDER.includes(method)).sort();
  return [...known, ...others];
}

/**
 * Returns the seed counts that occur in any method's results, in ascending numeric order. For results of
 * the study's protocol these are {@linkcode SEED_COUNTS}.
 */
export function seedCounts(results: StudyResults): string[] {
  const seeds = new Set<string>();
  for (const method of Object.values(results.methods)) {
    for (const seed of Object.keys(method.by_seed)) {
      seeds.add(seed);
    }
  }
  return [...seeds].sort((a, b) => Number(a) - Number(b));
}

/** True for metrics where a smaller value is better: only recommended song clicks. */
export function lowerIsBetter(metric: MetricName): boolean {
  return metric === "clicks";
}

/**
 * Formats results as Markdown: a header naming the profile and date (and a synthetic-data label where it
 * applies), the thesis table (mean over the seed buckets), R-precision per seed bucket, and the mean over
 * all evaluation playlists.
 *
 * Metrics in [0, 1] get 4 decimals and clicks get 2. A method with no result for a seed bucket shows `n/a`.
 *
 * @param results The contents of `results.json`.
 * @param options Heading level, so that the report fits into a notebook section.
 * @returns Markdown text ending with a newline.
 * @throws {RangeError} When `results` contains no methods, or the heading level is not 1 to 5.
 */
export function formatResultsMarkdown(results: StudyResults, options: ResultsMarkdownOptions = {}): string {
  const methods = requireMethods(results);
  const seeds = seedCounts(results);
  const level = options.headingLevel ?? 1;
  if (!Number.isInteger(level) || level < 1 || level > 5) {
    throw new RangeError(`Formatting results failed: heading level ${level} is not an integer from 1 to 5.`);
  }
  const title = "#".repeat(level);
  const section = "#".repeat(level + 1);
  const lines: string[] = [];

  lines.push(`${title} Results: profile ${results.profile}, ${formatDate(results.created_at)}`, "");
  if (results.synthetic) {
    lines.push(
      "**Synthetic data, not the MPD.** The playlists come from this project's generator, so these numbers " +
        "show whether the methods work as designed, not how they do on real playlists.",
      "",
    );
  }
  if (results.source) lines.push(`Data: ${results.source}.`, "");
  for (const note of results.notes ?? []) lines.push(`Note: ${note}`, "");

  lines.push(`${section} Mean over the seed buckets`, "");
  lines.push(...metricTable(results, methods, "bucket_mean"), "");
  lines.push(
    "Clicks (recommended song clicks, 0 to 51) are lower-is-better; R-precision, NDCG and recall@500 are " +
      "higher-is-better. Each bucket counts equally, as in the thesis table.",
    "",
  );

  lines.push(`${section} R-precision per seed bucket`, "");
  lines.push(`| method | ${seeds.map(seedHeader).join(" | ")} |`);
  lines.push(`|---|${seeds.map(() => "---:").join("|")}|`);
  for (const method of methods) {
    const bySeed = results.methods[method].by_seed;
    const cells = seeds.map((seed) =>
      bySeed[seed] ? formatMetric(bySeed[seed].r_precision, "r_precision") : "n/a"
    );
    lines.push(`| ${escapeCell(methodLabel(method))} | ${cells.join(" | ")} |`);
  }
  lines.push("");

  lines.push(`${section} Mean over all playlists`, "");
  lines.push(...metricTable(results, methods, "overall"), "");
  lines.push("Every evaluation playlist counts equally, as on the RecSys Challenge 2018 leaderboard.", "");

  return lines.join("\n");
}

/**
 * Finds the best method in each seed bucket by one metric. On a tie, the method that comes first in
 * {@linkcode orderMethods} order wins.
 *
 * @param results The contents of `results.json`.
 * @param metric Metric to rank by. Default: `"r_precision"`.
 * @returns One winner per seed bucket that any method has results for, in ascending seed order.
 */
export function bestMethodBySeed(results: StudyResults, metric: MetricName = "r_precision"): BucketWinner[] {
  const methods = orderMethods(Object.keys(results.methods));
  const winners: BucketWinner[] = [];

  for (const seed of seedCounts(results)) {
    let best: BucketWinner | undefined;
    for (const method of methods) {
      const value = results.methods[method].by_seed[seed]?.[metric];
      if (value === undefined || Number.isNaN(value)) {
        continue;
      }
      if (best === undefined || isBetter(value, best.value, metric)) {
        best = { seed, method, value, tiedWith: [] };
      } else if (value === best.value) {
        best.tiedWith.push(method);
      }
    }
    if (best !== undefined) {
      winners.push(best);
    }
  }
  return winners;
}

/**
 * Formats conclusions drawn from the numbers as a Markdown list: the best method over the seed buckets, the
 * winner of each bucket, Track2Seq against WMF per bucket where both ran, and a caveat for synthetic data.
 *
 * @param results The contents of `results.json`.
 * @returns Markdown text ending with a newline.
 * @throws {RangeError} When `results` contains no methods.
 */
export function formatConclusionsMarkdown(results: StudyResults): string {
  const methods = requireMethods(results);
  const lines: string[] = [];

  const ranked = [...methods].sort((a, b) =>
    results.methods[b].bucket_mean.r_precision - results.methods[a].bucket_mean.r_precision
  );
  const [first, second] = ranked.map((method) => ({
    label: methodLabel(method),
    value: formatMetric(results.methods[method].bucket_mean.r_precision, "r_precision"),
  }));
  let best = `- Best R-precision over the seed buckets: **${first.label}** (${first.value})`;
  if (second !== undefined) {
    best += `, ahead of ${second.label} (${second.value})`;
  }
  lines.push(`${best}.`);

  const winners = bestMethodBySeed(results).map((winner) => {
    const names = [winner.method, ...winner.tiedWith].map(methodLabel).join(", ");
    const tie = winner.tiedWith.length > 0 ? " tied" : "";
    return `${seedHeader(winner.seed)}: ${names}${tie} (${formatMetric(winner.value, "r_precision")})`;
  });
  lines.push(`- Best R-precision per seed bucket: ${winners.join("; ")}.`);

  const comparison = compareMethods(results, "track2seq", "wmf");
  if (comparison !== undefined) {
    lines.push(`- ${comparison}`);
  }

  if (results.synthetic) {
    lines.push(
      "- These results come from synthetic data: they test the code and the protocol, and say nothing about " +
        "how the methods rank on the MPD.",
    );
  }
  return lines.join("\n") + "\n";
}

function compareMethods(results: StudyResults, challenger: string, baseline: string): string | undefined {
  const challengerResults = results.methods[challenger];
  const baselineResults = results.methods[baseline];
  if (challengerResults === undefined || baselineResults === undefined) {
    return undefined;
  }

  const ahead: string[] = [];
  const behind: string[] = [];
  for (const seed of seedCounts(results)) {
    const ours = challengerResults.by_seed[seed]?.r_precision;
    const theirs = baselineResults.by_seed[seed]?.r_precision;
    if (ours === undefined || theirs === undefined) {
      continue;
    }
    if (ours > theirs) {
      ahead.push(seed);
    } else {
      behind.push(seed);
    }
  }

  const name = methodLabel(challenger);
  const other = methodLabel(baseline);
  const aheadText = ahead.length > 0 ? `beats ${other} at ${ahead.join(", ")} seeds` : `never beats ${other}`;
  const behindText = behind.length > 0 ? ` and ties or trails it at ${behind.join(", ")} seeds` : "";
  return `${name} ${aheadText}${behindText} (R-precision per bucket).`;
}

function metricTable(
  results: StudyResults,
  methods: string[],
  average: "bucket_mean" | "overall",
): string[] {
  // The thesis table has no playlist count: every bucket counts equally whatever its size.
  const withCount = average === "overall";
  const lines = [
    `| method | R-precision | clicks | NDCG | recall@500 |${withCount ? " playlists |" : ""}`,
    `|---|---:|---:|---:|---:|${withCount ? "---:|" : ""}`,
  ];
  for (const method of methods) {
    const metrics = results.methods[method][average];
    const cells = [
      formatMetric(metrics.r_precision, "r_precision"),
      formatMetric(metrics.clicks, "clicks"),
      formatMetric(metrics.ndcg, "ndcg"),
      formatMetric(metrics.recall_at_500, "recall_at_500"),
    ];
    if (withCount) {
      cells.push(String(metrics.playlists));
    }
    lines.push(`| ${escapeCell(methodLabel(method))} | ${cells.join(" | ")} |`);
  }
  return lines;
}

function requireMethods(results: StudyResults): string[] {
  const methods = orderMethods(Object.keys(results.methods));
  if (methods.length === 0) {
    throw new RangeError(
      `Formatting results of profile ${results.profile} failed: they contain no methods. ` +
        "Run the evaluation stage before the report.",
    );
  }
  return methods;
}

function isBetter(value: number, best: number, metric: MetricName): boolean {
  return lowerIsBetter(metric) ? value < best : value > best;
}

function formatMetric(value: number, metric: MetricName): string {
  return value.toFixed(metric === "clicks" ? 2 : 4);
}

function seedHeader(seed: string): string {
  return seed === "1" ? "1 seed" : `${seed} seeds`;
}

function formatDate(createdAt: string): string {
  const date = new Date(createdAt);
  return Number.isNaN(date.getTime()) ? createdAt : date.toISOString().slice(0, 10);
}

function escapeCell(text: string): string {
  return text.replaceAll("|", "\\|");
}
