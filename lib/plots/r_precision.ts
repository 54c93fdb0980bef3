/**
 * The study's main figure: R-precision of each method over the number of seed tracks.
 * @module
 */

import type { TopLevelSpec } from "vega-lite";
import { methodLabel, orderMethods, seedCounts } from "../eval/report.ts";
import type { StudyResults } from "../eval/results.ts";
import { sourceSubtitle, VEGA_LITE_SCHEMA } from "./source.ts";

/** The method drawn as one dashed level instead of a line per bucket. */
const LEVEL_METHOD = "cwva";

/** Width of the plot area in pixels; the CWVA label is right-aligned to it. */
const WIDTH = 420;

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
 * CWVA (`cwva` in the results) recommends from the title alone and ignores the seed tracks. As in the thesis,
 * it is therefore drawn as one dashed horizontal rule at its mean over the seed buckets, labelled with its
 * value, instead of a line per bucket.
 *
 * The spec is a plain object with its data inline, so a notebook can change any part of it and render it
 * again with `renderSvg`. Its first layer holds the lines, the second (when CWVA has results) the dashed
 * rule and its label. Methods keep the thesis order in the legend; a method without results for a bucket
 * has no point there.
 *
 * @param results The contents of `results.json`.
 * @returns A layered vega-lite spec titled with the profile, marked as synthetic data where it applies.
 */
export function rPrecisionBySeedSpec(results: StudyResults): TopLevelSpec {
  const methods = orderMethods(Object.keys(results.methods));
  const seeds = seedCounts(results);

  const values: RPrecisionPoint[] = [];
  for (const method of methods) {
    if (method === LEVEL_METHOD) continue;
    for (const seed of seeds) {
      const metrics = results.methods[method].by_seed[seed];
      if (metrics !== undefined) {
        values.push({ method: methodLabel(method), seeds: seed, r_precision: metrics.r_precision });
      }
    }
  }

  const color = {
    field: "method",
    type: "nominal" as const,
    title: "Method",
    scale: { domain: methods.map(methodLabel) },
  };
  const y = {
    field: "r_precision",
    type: "quantitative" as const,
    title: "R-precision",
    axis: { format: ".3f" },
  };
  const layer: NonNullable<Extract<TopLevelSpec, { layer: unknown }>["layer"]> = [
    {
      mark: { type: "line", point: true },
      encoding: {
        x: { field: "seeds", type: "ordinal", sort: seeds, title: "Seed tracks", axis: { labelAngle: 0 } },
        y,
        color,
      },
    },
  ];

  const level = results.methods[LEVEL_METHOD];
  if (level !== undefined) {
    const mean = level.bucket_mean.r_precision;
    layer.push({
      data: {
        values: [{
          method: methodLabel(LEVEL_METHOD),
          r_precision: mean,
          label: `${methodLabel(LEVEL_METHOD)} mean ${mean.toFixed(3)}`,
        }],
      },
      layer: [
        { mark: { type: "rule", strokeDash: [6, 4], strokeWidth: 2 }, encoding: { y, color } },
        {
          mark: { type: "text", align: "right", baseline: "bottom", dy: -3 },
          encoding: { x: { value: WIDTH }, y, text: { field: "label" }, color },
        },
      ],
    });
  }

  return {
    $schema: VEGA_LITE_SCHEMA,
    title: {
      text: "R-precision by number of seed tracks",
      subtitle: sourceSubtitle(results),
    },
    width: WIDTH,
    height: 260,
    data: { values },
    layer,
  };
}
