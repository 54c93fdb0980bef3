import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import type { MetricSet, StudyResults } from "../lib/eval/results.ts";
import {
  checkThesisFindings,
  formatFindingsMarkdown,
  formatThesisComparisonMarkdown,
  THESIS_RESULTS,
} from "../lib/eval/thesis.ts";

const SEEDS = ["0", "1", "5", "10", "25", "100"];

function metrics(r_precision: number): MetricSet {
  return { r_precision, ndcg: 0.2, clicks: 6, recall_at_500: 0.3, playlists: 10 };
}

/** Results whose R-precision per bucket is given per method, bucket_mean the mean of them. */
function results(bySeed: Record<string, number[]>, synthetic = true): StudyResults {
  return {
    profile: "smoke",
    synthetic,
    created_at: "2026-03-14T09:26:53Z",
    methods: Object.fromEntries(
      Object.entries(bySeed).map(([method, values]) => {
        const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
        return [method, {
          by_seed: Object.fromEntries(SEEDS.map((seed, i) => [seed, metrics(values[i])])),
          bucket_mean: metrics(mean),
          overall: metrics(mean),
        }];
      }),
    ),
  };
}

// The thesis's pattern: WMF ahead at 0 and 1 seeds, Track2Seq ahead from 5, CWVA best at 0.
const THESIS_LIKE = results({
  w2v: [0.01, 0.02, 0.03, 0.04, 0.05, 0.06],
  wmf: [0.05, 0.10, 0.10, 0.10, 0.10, 0.10],
  cwva: [0.09, 0.05, 0.05, 0.05, 0.05, 0.05],
  track2seq: [0.05, 0.095, 0.2, 0.2, 0.2, 0.2],
  track2seq_cwva: [0.08, 0.095, 0.2, 0.2, 0.2, 0.2],
});

Deno.test("checkThesisFindings all hold", () => {
  const checks = checkThesisFindings(THESIS_LIKE);

  strictEqual(checks.length, 4);
  for (const check of checks) strictEqual(check.outcome, "holds", check.finding);
  match(checks[0].evidence, /5 seeds: Track2Seq 0\.2000, WMF 0\.1000/);
  match(checks[1].evidence, /1 seed: WMF 0\.1000, Track2Seq 0\.0950/);
});

Deno.test("checkThesisFindings detects a broken finding", () => {
  const broken = structuredClone(THESIS_LIKE);
  broken.methods.wmf.by_seed["25"].r_precision = 0.5;
  broken.methods.popularity = structuredClone(broken.methods.wmf);
  broken.methods.popularity.by_seed["0"].r_precision = 0.5;

  const [ahead, , cwva] = checkThesisFindings(broken);
  strictEqual(ahead.outcome, "does not hold");
  strictEqual(cwva.outcome, "does not hold");
  match(cwva.evidence, /^0 seeds: Popularity 0\.5000/);
});

Deno.test("checkThesisFindings untested without methods", () => {
  const checks = checkThesisFindings(results({ track2seq: [0.1, 0.1, 0.1, 0.1, 0.1, 0.1] }));

  deepStrictEqual(checks.map((check) => check.outcome), [
    "not tested",
    "not tested",
    "not tested",
    "not tested",
  ]);
  match(checks[0].evidence, /no results for WMF/);
  match(checks[2].evidence, /no CWVA/);
});

Deno.test("formatThesisComparisonMarkdown rows beside each other", () => {
  const text = formatThesisComparisonMarkdown(
    results({ wmf: [0.1, 0.1, 0.1, 0.1, 0.1, 0.1], popularity: [0, 0, 0, 0, 0, 0] }),
  );
  const rows = text.split("\n").filter((line) => line.startsWith("| ") && !line.startsWith("| method"));

  match(
    text,
    /^Thesis: the real MPD, 10,000 test playlists\. Ours: profile smoke, synthetic data, not the MPD/,
  );
  deepStrictEqual(rows.map((row) => row.split(" | ").slice(0, 2).join(" | ")), [
    "| Popularity | ours: smoke, synthetic",
    "| W2V | thesis: MPD",
    "| WMF | thesis: MPD",
    "| WMF | ours: smoke, synthetic",
    "| Track2Seq | thesis: MPD",
    "| Track2Seq + CWVA | thesis: MPD",
  ]);
  ok(
    rows[2].includes(
      `| ${THESIS_RESULTS.wmf.r_precision.toFixed(4)} | ${THESIS_RESULTS.wmf.clicks.toFixed(2)} |`,
    ),
  );
  ok(rows[3].includes("| 0.1000 | 6.00 |"));
});

Deno.test("formatThesisComparisonMarkdown labels MPD runs", () => {
  const text = formatThesisComparisonMarkdown(results({ wmf: [0.1, 0.1, 0.1, 0.1, 0.1, 0.1] }, false));

  match(text, /Ours: profile smoke, MPD data/);
  ok(!text.includes("synthetic"));
});

Deno.test("formatFindingsMarkdown one row per finding", () => {
  const text = formatFindingsMarkdown(checkThesisFindings(THESIS_LIKE));

  strictEqual(text.trim().split("\n").length, 2 + 4);
  match(text, /\| Track2Seq beats WMF at 5 or more seed tracks \| \*\*holds\*\* \|/);
});
