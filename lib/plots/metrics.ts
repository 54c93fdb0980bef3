/**
 * Every metric of every method per seed bucket, one panel per metric.
 * @module
 */

import type { TopLevelSpec } from "vega-lite";
import { methodLabel, type MetricName, orderMethods, seedCounts } from "../eval/report.ts";
import type { StudyResults } from "../eval/results.ts";
import { sourceSubtitle, VEGA_LITE_SCHEMA } from "./source.ts";

/** The panels of {@linkcode metricsBySeedSpec}, in order, with their titles. */
export const METRIC_PANELS: readonly { metric: MetricName; title: string }[] = [
  { metric: "r_precision", title: "R-precision" },
  { metric: "ndcg", title: "NDCG" },
  { metric: "recall_at_500", title: "Recall@500" },
  { metric: "clicks", title: "Clicks (lower is better)" },
];

/** One point of the metrics figure. */
export interface MetricPoint {
  /** Display name of the method. */
  method: string;
  /** Seed count of the bucket, as text. */
  seeds: string;
  /** Panel title from {@linkcode METRIC_PANELS}. */
  metric: string;
  value: number;
}

/**
 * Builds line charts of R-precision, NDCG, recall@500 and recommended song clicks per seed bucket, one
 * panel per metric with its own y scale and one line per method, methods in the thesis order.
 *
 * @param results The contents of `results.json`.
 * @returns A faceted vega-lite spec with its data inline, two panels per row.
 */
export function metricsBySeedSpec(results: StudyResults): TopLevelSpec {
  const methods = orderMethods(Object.keys(results.methods));
  const seeds = seedCounts(results);

  const values: MetricPoint[] = [];
  for (const { metric, title } of METRIC_PANELS) {
    for (const method of methods) {
      for (const seed of seeds) {
        const metrics = results.methods[method].by_seed[seed];
        if (metrics === undefined) continue;
        values.push({ method: methodLabel(method), seeds: seed, metric: title, value: metrics[metric] });
      }
    }
  }

  return {
    $schema: VEGA_LITE_SCHEMA,
    title: {
      text: "Metrics by number of seed tracks",
      subtitle: sourceSubtitle(results),
    },
    data: { values },
    facet: { field: "metric", type: "nominal", sort: METRIC_PANELS.map((panel) => panel.title), title: null },
    columns: 2,
    spec: {
      width: 260,
      height: 170,
      mark: { type: "line", point: true },
      encoding: {
        x: { field: "seeds", type: "ordinal", sort: seeds, title: "Seed tracks", axis: { labelAngle: 0 } },
        y: { field: "value", type: "quantitative", title: null },
        color: {
          field: "method",
          type: "nominal",
          title: "Method",
          scale: { domain: methods.map(methodLabel) },
        },
      },
    },
    resolve: { scale: { y: "independent" } },
  };
}

/**
 * Builds a horizontal bar chart of one metric for every method in one seed bucket, methods in the thesis
 * order from the top, such as R-precision at 0 seeds, where only the title is known.
 *
 * @param results The contents of `results.json`.
 * @param seed Seed count of the bucket, such as `"0"`.
 * @param metric The metric to show. Default: R-precision.
 * @returns A vega-lite spec with its data inline; methods without results for the bucket are left out.
 */
export function bucketMetricSpec(
  results: StudyResults,
  seed: string,
  metric: MetricName = "r_precision",
): TopLevelSpec {
  const title = METRIC_PANELS.find((panel) => panel.metric === metric)?.title ?? metric;
  const values = orderMethods(Object.keys(results.methods))
    .filter((method) => results.methods[method].by_seed[seed] !== undefined)
    .map((method) => ({ method: methodLabel(method), value: results.methods[method].by_seed[seed][metric] }));

  return {
    $schema: VEGA_LITE_SCHEMA,
    title: {
      text: `${title} at ${seed} seed ${seed === "1" ? "track" : "tracks"}`,
      subtitle: sourceSubtitle(results),
    },
    width: 360,
    height: 22 * Math.max(1, values.length),
    data: { values },
    mark: "bar",
    encoding: {
      y: { field: "method", type: "nominal", sort: values.map((value) => value.method), title: null },
      x: { field: "value", type: "quantitative", title },
      color: {
        field: "method",
        type: "nominal",
        legend: null,
        scale: { domain: values.map((value) => value.method) },
      },
    },
  };
}
