/**
 * The effect of the per-step top-k and the number of prediction steps on guided prediction.
 * @module
 */

import type { TopLevelSpec } from "vega-lite";
import type { GuidedSweepResult } from "../predict/guided_sweep.ts";
import { type FigureSource, sourceSubtitle, VEGA_LITE_SCHEMA } from "./source.ts";

/** A sweep over one option of guided prediction. */
export interface GuidedSweep {
  /** The option that changes between the runs. */
  parameter: "topK" | "steps";
  /** One result per value of the option, as `sweepGuided` returns them. */
  results: readonly GuidedSweepResult[];
}

/** One point of the sweep figure. */
export interface GuidedSweepPoint {
  /** Panel column: the option that changes. */
  parameter: string;
  value: number;
  /** Panel row: the measured quantity. */
  measure: string;
  result: number;
}

const PARAMETER_TITLES: Record<GuidedSweep["parameter"], string> = {
  topK: "Top-k per step",
  steps: "Prediction steps",
};

/** The rows of the figure, in order. */
export const SWEEP_MEASURES = ["R-precision", "Recall@500", "Tracks returned", "Seconds"] as const;

/**
 * Builds a grid of line charts: one column per swept option, one row per measure (R-precision,
 * recall@500, the mean number of tracks the model returned, and the prediction time), each panel with its
 * own scales.
 *
 * @param sweeps The sweeps to draw, such as one over `topK` and one over `steps`.
 * @param source Profile and kind of data, for the subtitle.
 * @param playlists Number of playlists the sweeps ran on, for the subtitle.
 * @returns A faceted vega-lite spec with its data inline.
 */
export function guidedSweepSpec(
  sweeps: readonly GuidedSweep[],
  source: FigureSource,
  playlists: number,
): TopLevelSpec {
  const values: GuidedSweepPoint[] = [];
  for (const sweep of sweeps) {
    const parameter = PARAMETER_TITLES[sweep.parameter];
    for (const result of sweep.results) {
      const value = result.options[sweep.parameter];
      if (value === undefined) continue;
      const measured: Record<(typeof SWEEP_MEASURES)[number], number> = {
        "R-precision": result.metrics.r_precision,
        "Recall@500": result.metrics.recall_at_500,
        "Tracks returned": result.meanTracks,
        "Seconds": result.seconds,
      };
      for (const measure of SWEEP_MEASURES) {
        values.push({ parameter, value, measure, result: measured[measure] });
      }
    }
  }

  return {
    $schema: VEGA_LITE_SCHEMA,
    title: {
      text: "Fully guided prediction: top-k per step and number of steps",
      subtitle: `${sourceSubtitle(source)}; ${playlists} test playlists, model lists without fill-up`,
    },
    data: { values },
    facet: {
      column: {
        field: "parameter",
        type: "nominal",
        sort: sweeps.map((s) => PARAMETER_TITLES[s.parameter]),
        title: null,
      },
      row: { field: "measure", type: "nominal", sort: [...SWEEP_MEASURES], title: null },
    },
    spec: {
      width: 240,
      height: 120,
      mark: { type: "line", point: true },
      encoding: {
        x: { field: "value", type: "quantitative", title: null },
        y: { field: "result", type: "quantitative", title: null, scale: { zero: false } },
      },
    },
    resolve: { scale: { x: "independent", y: "independent" } },
  };
}
