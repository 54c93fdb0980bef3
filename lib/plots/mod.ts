/**
 * Vega-lite figures of the study and their headless rendering to SVG and PNG.
 * @module
 */

export * from "./render.ts";
export * from "./r_precision.ts";
