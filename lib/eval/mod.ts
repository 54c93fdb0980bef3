/**
 * RecSys Challenge 2018 metrics, evaluation of recommenders and the results report.
 * @module
 */

export * from "./evaluate.ts";
export * from "./metrics.ts";
export * from "./report.ts";
export * from "./results.ts";
