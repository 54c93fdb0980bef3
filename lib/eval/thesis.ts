/**
 * The original Track2Seq thesis's headline results on the MPD, and checks of its qualitative findings
 * against a run's results.
 *
 * The thesis evaluated on 10,000 MPD test playlists and reported each metric as the mean of the six seed
 * buckets. Our runs use other data (synthetic by default) and other sizes, so the two sets of numbers show
 * the same protocol on different data and are not expected to match.
 * @module
 */

import { methodLabel, type MetricName, orderMethods, seedCounts } from "./report.ts";
import type { MetricSet, StudyResults } from "./results.ts";

/** The thesis's metrics of one method: means over the six seed buckets. */
export type ThesisMetrics = Omit<MetricSet, "playlists">;

/** Number of MPD test playlists that the thesis evaluated on. */
export const THESIS_TEST_PLAYLISTS = 10_000;

/** The thesis's headline table (mean over the six seed buckets), by method key of `results.json`. */
export const THESIS_RESULTS: Readonly<Record<string, ThesisMetrics>> = {
  w2v: { r_precision: 0.0425, clicks: 13.96, ndcg: 0.1075, recall_at_500: 0.1696 },
  wmf: { r_precision: 0.0917, clicks: 7.11, ndcg: 0.2328, recall_at_500: 0.3775 },
  track2seq: { r_precision: 0.1049, clicks: 7.31, ndcg: 0.2584, recall_at_500: 0.4013 },
  track2seq_cwva: { r_precision: 0.1142, clicks: 5.88, ndcg: 0.2750, recall_at_500: 0.4239 },
};

const COMPARED_METRICS: readonly { metric: MetricName; title: string }[] = [
  { metric: "r_precision", title: "R-precision" },
  { metric: "clicks", title: "clicks" },
  { metric: "ndcg", title: "NDCG" },
  { metric: "recall_at_500", title: "recall@500" },
];

/** Whether a finding of the thesis holds in a run. */
export type FindingOutcome = "holds" | "does not hold" | "not tested";

/** One qualitative finding of the thesis, checked against a run. */
export interface FindingCheck {
  /** The finding, in words. */
  finding: string;
  outcome: FindingOutcome;
  /** The numbers behind the outcome, or which method's results are missing. */
  evidence: string;
}

/**
 * Formats a Markdown table with the thesis's numbers on the MPD and ours, one row each per method, so the
 * two sit beside each other. Methods are those of the thesis and of `results`, in the thesis order; a method
 * that one side lacks has only the other side's row.
 *
 * @param results The contents of `results.json`.
 * @returns Markdown text ending with a newline: a caption naming both data sources, then the table.
 */
export function formatThesisComparisonMarkdown(results: StudyResults): string {
  const methods = orderMethods(new Set([...Object.keys(THESIS_RESULTS), ...Object.keys(results.methods)]));
  const data = results.synthetic ? "synthetic data, not the MPD" : "MPD data";
  const ours = `ours: ${results.profile}, ${results.synthetic ? "synthetic" : "MPD"}`;
  const playlists = Object.values(results.methods)[0]?.overall.playlists;

  const lines = [
    `Thesis: the real MPD, ${THESIS_TEST_PLAYLISTS.toLocaleString("en-US")} test playlists. ` +
    `Ours: profile ${results.profile}, ${data}${
      playlists === undefined ? "" : `, ${playlists} test playlists`
    }. ` +
    "Both are means over the seed buckets; clicks are lower-is-better.",
    "",
    `| method | numbers | ${COMPARED_METRICS.map(({ title }) => title).join(" | ")} |`,
    `|---|---|${COMPARED_METRICS.map(() => "---:").join("|")}|`,
  ];
  for (const method of methods) {
    const sources: [string, ThesisMetrics | undefined][] = [
      ["thesis: MPD", THESIS_RESULTS[method]],
      [ours, results.methods[method]?.bucket_mean],
    ];
    for (const [label, metrics] of sources) {
      if (metrics === undefined) continue;
      const cells = COMPARED_METRICS.map(({ metric }) => formatValue(metrics[metric], metric));
      lines.push(`| ${methodLabel(method)} | ${label} | ${cells.join(" | ")} |`);
    }
  }
  return lines.join("\n") + "\n";
}

/**
 * Checks the thesis's qualitative findings against a run's R-precision per seed bucket:
 * - Track2Seq beats WMF at 5 or more seed tracks.
 * - WMF is close to Track2Seq or ahead at 0 and 1 seeds; "close" means at least 90% of Track2Seq's value.
 * - CWVA (alone or as Track2Seq's seeds) is the strongest method at 0 seeds.
 * - Over the seed buckets, the methods rank Track2Seq + CWVA, Track2Seq, WMF, W2V, best first.
 *
 * A finding whose methods have no results in the run is "not tested", naming the missing methods.
 */
export function checkThesisFindings(results: StudyResults): FindingCheck[] {
  return [
    checkTrack2SeqAheadOfWmf(results),
    checkWmfCloseAtFewSeeds(results),
    checkCwvaStrongestWithoutSeeds(results),
    checkRanking(results),
  ];
}

/** Formats finding checks as a Markdown table. */
export function formatFindingsMarkdown(checks: readonly FindingCheck[]): string {
  const lines = ["| finding of the thesis | in this run | evidence (R-precision) |", "|---|---|---|"];
  for (const check of checks) lines.push(`| ${check.finding} | **${check.outcome}** | ${check.evidence} |`);
  return lines.join("\n") + "\n";
}

function checkTrack2SeqAheadOfWmf(results: StudyResults): FindingCheck {
  const finding = "Track2Seq beats WMF at 5 or more seed tracks";
  const missing = missingMethods(results, ["track2seq", "wmf"]);
  if (missing) return { finding, outcome: "not tested", evidence: missing };

  const seeds = seedCounts(results).filter((seed) => Number(seed) >= 5);
  const pairs = seeds.map((seed) => ({ seed, ...bucketPair(results, seed, "track2seq", "wmf") }));
  const holds = pairs.length > 0 && pairs.every(({ first, second }) => first > second);
  return {
    finding,
    outcome: holds ? "holds" : "does not hold",
    evidence: describePairs(pairs, "Track2Seq", "WMF"),
  };
}

function checkWmfCloseAtFewSeeds(results: StudyResults): FindingCheck {
  const finding = "WMF is close to Track2Seq (at least 90% of it) or ahead at 0 and 1 seeds";
  const missing = missingMethods(results, ["track2seq", "wmf"]);
  if (missing) return { finding, outcome: "not tested", evidence: missing };

  const seeds = seedCounts(results).filter((seed) => seed === "0" || seed === "1");
  const pairs = seeds.map((seed) => ({ seed, ...bucketPair(results, seed, "wmf", "track2seq") }));
  const holds = pairs.length > 0 && pairs.every(({ first, second }) => first >= 0.9 * second);
  return {
    finding,
    outcome: holds ? "holds" : "does not hold",
    evidence: describePairs(pairs, "WMF", "Track2Seq"),
  };
}

function checkCwvaStrongestWithoutSeeds(results: StudyResults): FindingCheck {
  const finding = "CWVA is the strongest method at 0 seeds";
  const cwvaMethods = ["cwva", "track2seq_cwva"].filter((method) => results.methods[method] !== undefined);
  if (cwvaMethods.length === 0) {
    return { finding, outcome: "not tested", evidence: "no CWVA or Track2Seq + CWVA results in this run" };
  }

  const ranked = orderMethods(Object.keys(results.methods))
    .map((method) => ({ method, value: results.methods[method].by_seed["0"]?.r_precision }))
    .filter((entry): entry is { method: string; value: number } => entry.value !== undefined)
    .sort((a, b) => b.value - a.value);
  if (ranked.length === 0) return { finding, outcome: "not tested", evidence: "no results for 0 seeds" };

  const holds = cwvaMethods.includes(ranked[0].method);
  const evidence = ranked.map(({ method, value }) => `${methodLabel(method)} ${value.toFixed(4)}`).join(", ");
  return { finding, outcome: holds ? "holds" : "does not hold", evidence: `0 seeds: ${evidence}` };
}

function checkRanking(results: StudyResults): FindingCheck {
  const expected = ["track2seq_cwva", "track2seq", "wmf", "w2v"];
  const finding = "Over the seed buckets: Track2Seq + CWVA, then Track2Seq, WMF, W2V";
  const present = expected.filter((method) => results.methods[method] !== undefined);
  if (present.length < 2) {
    return { finding, outcome: "not tested", evidence: missingMethods(results, expected) ?? "" };
  }

  const values = present.map((method) => results.methods[method].bucket_mean.r_precision);
  const holds = values.every((value, i) => i === 0 || values[i - 1] > value);
  const missing = missingMethods(results, expected);
  const evidence = present.map((method, i) => `${methodLabel(method)} ${values[i].toFixed(4)}`).join(", ") +
    (missing ? `; ${missing}, so only these are ranked` : "");
  return { finding, outcome: holds ? "holds" : "does not hold", evidence };
}

function bucketPair(
  results: StudyResults,
  seed: string,
  first: string,
  second: string,
): { first: number; second: number } {
  return {
    first: results.methods[first].by_seed[seed]?.r_precision ?? NaN,
    second: results.methods[second].by_seed[seed]?.r_precision ?? NaN,
  };
}

function describePairs(
  pairs: { seed: string; first: number; second: number }[],
  firstLabel: string,
  secondLabel: string,
): string {
  if (pairs.length === 0) return "no results for these seed buckets";
  return pairs.map(({ seed, first, second }) =>
    `${seed} ${seed === "1" ? "seed" : "seeds"}: ${firstLabel} ${first.toFixed(4)}, ${secondLabel} ${
      second.toFixed(4)
    }`
  ).join("; ");
}

function missingMethods(results: StudyResults, methods: string[]): string | undefined {
  const missing = methods.filter((method) => results.methods[method] === undefined);
  if (missing.length === 0) return undefined;
  return `no results for ${missing.map(methodLabel).join(", ")} in this run`;
}

function formatValue(value: number, metric: MetricName): string {
  return value.toFixed(metric === "clicks" ? 2 : 4);
}
