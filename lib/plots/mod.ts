/**
 * Vega-lite figures of the study, their headless rendering to SVG and PNG, and their display in notebooks.
 * @module
 */

export * from "./display.ts";
export * from "./distributions.ts";
export * from "./guided_sweep.ts";
export * from "./loss.ts";
export * from "./metrics.ts";
export * from "./r_precision.ts";
export * from "./render.ts";
export * from "./source.ts";
export * from "./strata.ts";
export * from "./study_figures.ts";
