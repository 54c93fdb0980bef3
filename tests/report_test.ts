import { deepStrictEqual, match, ok, strictEqual, throws } from "node:assert/strict";
import {
  bestMethodBySeed,
  formatConclusionsMarkdown,
  formatResultsMarkdown,
  orderMethods,
} from "../lib/eval/report.ts";
import type { MethodResults, MetricSet, StudyResults } from "../lib/eval/results.ts";

function metrics(r_precision: number, clicks: number, playlists = 10): MetricSet {
  return { r_precision, clicks, ndcg: r_precision * 2, recall_at_500: r_precision * 4, playlists };
}

/** R-precision per bucket 0, 1, 5, 10, 25, 100; the other metrics follow from it. */
function method(rPrecision: number[], clicks: number): MethodResults {
  const seeds = ["0", "1", "5", "10", "25", "100"];
  const bySeed = Object.fromEntries(seeds.map((seed, i) => [seed, metrics(rPrecision[i], clicks)]));
  const mean = rPrecision.reduce((sum, value) => sum + value, 0) / rPrecision.length;
  return {
    by_seed: bySeed,
    bucket_mean: metrics(mean, clicks, 60),
    overall: metrics(mean + 0.001, clicks, 60),
  };
}

function study(synthetic: boolean): StudyResults {
  return {
    profile: "smoke",
    synthetic,
    created_at: "2026-03-14T09:26:53Z",
    // Keys out of thesis order, and one unknown method, to check the table's ordering.
    methods: {
      track2seq: method([0.02, 0.05, 0.12, 0.13, 0.14, 0.15], 7.31),
      zeta: method([0, 0, 0, 0, 0, 0], 51),
      wmf: method([0.03, 0.06, 0.1, 0.11, 0.12, 0.13], 7.114),
      popularity: method([0.01, 0.01, 0.01, 0.01, 0.01, 0.01], 30),
      cwva: method([0.05, 0.04, 0.03, 0.02, 0.01, 0.01], 12.5),
    },
  };
}

Deno.test("orderMethods puts thesis order first", () => {
  deepStrictEqual(orderMethods(["zeta", "track2seq_cwva", "alpha", "w2v", "popularity"]), [
    "popularity",
    "w2v",
    "track2seq_cwva",
    "alpha",
    "zeta",
  ]);
});

Deno.test("formatResultsMarkdown thesis table", () => {
  const text = formatResultsMarkdown(study(false));
  const lines = text.split("\n");

  strictEqual(lines[0], "# Results: profile smoke, 2026-03-14");
  ok(!/synthetic/i.test(text));
  strictEqual(lines[2], "## Mean over the seed buckets");
  strictEqual(lines[4], "| method | R-precision | clicks | NDCG | recall@500 |");

  const rows = lines.filter((line) => /^\| (Popularity|WMF|CWVA|Track2Seq|zeta) \|/.test(line));
  const firstTable = rows.slice(0, 5);
  deepStrictEqual(firstTable.map((row) => row.split(" | ")[0]), [
    "| Popularity",
    "| WMF",
    "| CWVA",
    "| Track2Seq",
    "| zeta",
  ]);
  strictEqual(firstTable[1], "| WMF | 0.0917 | 7.11 | 0.1833 | 0.3667 |");
  match(text, /lower-is-better/);
});

Deno.test("formatResultsMarkdown seed bucket table", () => {
  const lines = formatResultsMarkdown(study(false)).split("\n");
  const header = lines.indexOf("## R-precision per seed bucket");

  ok(header > 0);
  strictEqual(lines[header + 2], "| method | 0 seeds | 1 seed | 5 seeds | 10 seeds | 25 seeds | 100 seeds |");
  strictEqual(lines[header + 4], "| Popularity | 0.0100 | 0.0100 | 0.0100 | 0.0100 | 0.0100 | 0.0100 |");
  strictEqual(lines[header + 7], "| Track2Seq | 0.0200 | 0.0500 | 0.1200 | 0.1300 | 0.1400 | 0.1500 |");
});

Deno.test("formatResultsMarkdown overall table", () => {
  const lines = formatResultsMarkdown(study(false)).split("\n");
  const header = lines.indexOf("## Mean over all playlists");

  ok(header > 0);
  strictEqual(lines[header + 2], "| method | R-precision | clicks | NDCG | recall@500 | playlists |");
  strictEqual(lines[header + 5], "| WMF | 0.0927 | 7.11 | 0.1853 | 0.3707 | 60 |");
});

Deno.test("formatResultsMarkdown synthetic label", () => {
  const lines = formatResultsMarkdown(study(true)).split("\n");

  strictEqual(lines[0], "# Results: profile smoke, 2026-03-14");
  match(lines[2], /^\*\*Synthetic data, not the MPD\.\*\*/);
});

Deno.test("formatResultsMarkdown missing bucket", () => {
  const results = study(false);
  delete results.methods.cwva.by_seed["100"];

  const row = formatResultsMarkdown(results).split("\n").find((line) => line.startsWith("| CWVA | 0.0500 |"));
  ok(row !== undefined);
  ok(row.endsWith("| 0.0100 | n/a |"));
});

Deno.test("formatResultsMarkdown heading level", () => {
  const lines = formatResultsMarkdown(study(false), { headingLevel: 3 }).split("\n");

  strictEqual(lines[0], "### Results: profile smoke, 2026-03-14");
  ok(lines.includes("#### R-precision per seed bucket"));
  throws(() => formatResultsMarkdown(study(false), { headingLevel: 0 }), RangeError);
});

Deno.test("formatResultsMarkdown no methods", () => {
  const results: StudyResults = { ...study(false), methods: {} };
  throws(() => formatResultsMarkdown(results), RangeError);
});

Deno.test("formatResultsMarkdown prints source and notes", () => {
  const results = { ...study(false), source: "/data/mpd", notes: ["80 playlists are short."] };
  const text = formatResultsMarkdown(results);
  ok(text.includes("Data: /data/mpd."));
  ok(text.includes("Note: 80 playlists are short."));
});

Deno.test("bestMethodBySeed reports ties", () => {
  const results = study(false);
  results.methods.wmf.by_seed["5"].r_precision = results.methods.track2seq.by_seed["5"].r_precision;
  const winner = bestMethodBySeed(results).find((entry) => entry.seed === "5");
  strictEqual(winner?.method, "wmf");
  deepStrictEqual(winner?.tiedWith, ["track2seq"]);
  ok(formatConclusionsMarkdown(results).includes("5 seeds: WMF, Track2Seq tied (0.1200)"));
});

Deno.test("bestMethodBySeed R-precision and clicks", () => {
  const results = study(false);

  deepStrictEqual(bestMethodBySeed(results).map((winner) => winner.method), [
    "cwva",
    "wmf",
    "track2seq",
    "track2seq",
    "track2seq",
    "track2seq",
  ]);
  deepStrictEqual(bestMethodBySeed(results, "clicks").map((winner) => winner.method), [
    "wmf",
    "wmf",
    "wmf",
    "wmf",
    "wmf",
    "wmf",
  ]);
});

Deno.test("formatConclusionsMarkdown from numbers", () => {
  const lines = formatConclusionsMarkdown(study(true)).trimEnd().split("\n");

  strictEqual(
    lines[0],
    "- Best R-precision over the seed buckets: **Track2Seq** (0.1017), ahead of WMF (0.0917).",
  );
  match(lines[1], /0 seeds: CWVA \(0\.0500\); 1 seed: WMF \(0\.0600\); 5 seeds: Track2Seq \(0\.1200\)/);
  strictEqual(
    lines[2],
    "- Track2Seq beats WMF at 5, 10, 25, 100 seeds and ties or trails it at 0, 1 seeds (R-precision per bucket).",
  );
  match(lines[3], /synthetic data/);
});
