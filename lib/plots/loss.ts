/**
 * The learning curve of Track2Seq: training loss per step and dev loss at the measured steps.
 * @module
 */

import type { TopLevelSpec } from "vega-lite";
import { type FigureSource, sourceSubtitle, VEGA_LITE_SCHEMA } from "./source.ts";

/** A loss at one training step. */
export interface LossPoint {
  step: number;
  /** Cross-entropy in nats per token. */
  loss: number;
}

/** The fields of the train stage's `training.json` that the loss figure reads. */
export interface TrainingArtifact {
  /** Training loss of every step, of the configured softmax. */
  history: LossPoint[];
  /** Full-softmax loss on the dev playlists at the measured steps. */
  dev: (LossPoint & { perplexity?: number; tokens?: number })[];
  tokens_per_second?: number;
  seconds?: number;
  backend?: string;
  training_tokens?: number;
  config?: { softmax?: string; [key: string]: unknown };
}

/** Options of {@linkcode lossCurveSpec}. */
export interface LossCurveOptions {
  /** Training points drawn at most; longer histories are averaged over runs of consecutive steps. Default 400. */
  maxPoints?: number;
}

/** One point of the loss figure. */
export interface LossCurvePoint extends LossPoint {
  /** "training" or "dev". */
  set: string;
}

/**
 * Averages a loss history down to at most `maxPoints` points. Each point is the mean loss of a run of
 * consecutive steps and is placed at the run's last step, so the curve ends at the final step.
 *
 * @throws {RangeError} When `maxPoints` is not a positive integer.
 */
export function thinHistory(history: readonly LossPoint[], maxPoints: number): LossPoint[] {
  if (!Number.isInteger(maxPoints) || maxPoints < 1) {
    throw new RangeError(
      `Thinning a loss history failed: maxPoints must be a positive integer, got ${maxPoints}.`,
    );
  }
  if (history.length <= maxPoints) return history.map(({ step, loss }) => ({ step, loss }));

  const run = Math.ceil(history.length / maxPoints);
  const thinned: LossPoint[] = [];
  for (let start = 0; start < history.length; start += run) {
    const slice = history.slice(start, start + run);
    const mean = slice.reduce((sum, point) => sum + point.loss, 0) / slice.length;
    thinned.push({ step: slice[slice.length - 1].step, loss: mean });
  }
  return thinned;
}

/**
 * Builds a line chart of the training loss per step and the dev loss at the measured steps, with markers
 * on the dev points because there may be only one or two of them.
 *
 * With the sampled softmax the training loss is measured over the sampled tokens only, so it is lower than
 * the full-softmax dev loss by construction. The subtitle names the training loss.
 *
 * @param training The contents of `training.json`.
 * @param source Profile and kind of data, for the subtitle.
 * @param options Point budget; see {@linkcode LossCurveOptions}.
 * @returns A layered vega-lite spec with its data inline.
 */
export function lossCurveSpec(
  training: TrainingArtifact,
  source: FigureSource,
  options: LossCurveOptions = {},
): TopLevelSpec {
  const values: LossCurvePoint[] = [
    ...thinHistory(training.history, options.maxPoints ?? 400).map((point) => ({
      ...point,
      set: "training",
    })),
    ...training.dev.map(({ step, loss }) => ({ step, loss, set: "dev" })),
  ];
  const losses = training.config?.softmax === "sampled"
    ? "training: sampled-softmax loss; dev: full-softmax cross-entropy"
    : "full-softmax cross-entropy of training batches and dev playlists";

  return {
    $schema: VEGA_LITE_SCHEMA,
    title: {
      text: "Training and dev loss",
      subtitle: [sourceSubtitle(source), losses],
    },
    width: 420,
    height: 240,
    data: { values },
    encoding: {
      x: { field: "step", type: "quantitative", title: "Training step" },
      y: {
        field: "loss",
        type: "quantitative",
        title: "Cross-entropy (nats per token)",
        scale: { zero: false },
      },
      color: { field: "set", type: "nominal", title: "Set", sort: ["training", "dev"] },
    },
    layer: [
      { mark: "line" },
      { mark: { type: "point", filled: true, size: 50 }, transform: [{ filter: "datum.set === 'dev'" }] },
    ],
  };
}
