/**
 * The study's main figure: R-precision of each method over the number of seed tracks.
 * @module
 */

import type { TopLevelSpec } from "vega-lite";
import { methodLabel, orderMethods, seedCounts } from "../eval/report.ts";
import type { StudyResults } from "../eval/results.ts";

/** One point of the R-precision figure. */
export interface RPrecisionPoint {
  /** Display name of the method, such as `"Track2Seq + CWVA"`. */
  method: string;
  /** Seed count of the bucket, as text so that the axis treats it as an ordered category. */
  seeds: string;
  r_precision: number;
}

/**
 * Builds a vega-lite line chart of R-precision per seed bucket, one coloured line with points per method.
 *
 * The spec is a plain object with its data inline, so a notebook can change any part of it and render it
 * again with `renderSvg`. Methods keep the thesis order in the legend; a method without results
 * for a bucket has no point there.
 *
 * @param results The contents of `results.json`.
 * @returns A vega-lite spec titled with the profile, marked as synthetic data where it applies.
 */
export function rPrecisionBySeedSpec(results: StudyResults): TopLevelSpec {
  const methods = orderMethods(Object.keys(results.methods));
  const seeds = seedCounts(results);

  const values: RPrecisionPoint[] = [];
  for (const method of methods) {
    for (const seed of seeds) {
      const metrics = results.methods[method].by_seed[seed];
      if (metrics !== undefined) {
        values.push({ method: methodLabel(method), seeds: seed, r_precision: metrics.r_precision });
      }
    }
  }

  const source = results.synthetic ? "synthetic data, not the MPD" : "MPD data";
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: "R-precision by number of seed tracks",
      subtitle: `Profile ${results.profile}, ${source}`,
    },
    width: 420,
    height: 260,
    data: { values },
    mark: { type: "line", point: true },
    encoding: {
      x: {
        field: "seeds",
        type: "ordinal",
        sort: seeds,
        title: "Seed tracks",
        axis: { labelAngle: 0 },
      },
      y: {
        field: "r_precision",
        type: "quantitative",
        title: "R-precision",
        axis: { format: ".3f" },
      },
      color: {
        field: "method",
        type: "nominal",
        title: "Method",
        scale: { domain: methods.map(methodLabel) },
      },
    },
  };
}
