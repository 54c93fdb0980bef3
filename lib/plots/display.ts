/**
 * Values that the Deno Jupyter kernel shows as rich output: a chart as SVG, a text as Markdown.
 *
 * The functions return objects instead of displaying them, so they work outside a kernel too, and a cell
 * shows one by ending with it or by passing it to `Deno.jupyter.display`.
 * @module
 */

import type { TopLevelSpec } from "vega-lite";
import { renderPng, renderSvg, writeRenderedFigure } from "./render.ts";

/**
 * The symbol under which the Deno kernel looks for a method that returns an object's MIME bundle. It is
 * `Deno.jupyter.$display`, created with `Symbol.for` so that it exists outside the kernel, where
 * `Deno.jupyter` is undefined.
 */
export const JUPYTER_DISPLAY = Symbol.for("Jupyter.display") as typeof Deno.jupyter.$display;

/** An object that the Deno kernel shows as its MIME bundle. */
export interface Displayable {
  [JUPYTER_DISPLAY](): Deno.jupyter.MediaBundle;
}

/** Wraps a MIME bundle, such as `{ "text/html": "<b>x</b>" }`, as a displayable value. */
export function displayable(bundle: Deno.jupyter.MediaBundle): Displayable {
  return { [JUPYTER_DISPLAY]: () => bundle };
}

/** Returns Markdown text as a displayable value. */
export function markdown(text: string): Displayable {
  return displayable({ "text/markdown": text });
}

/** Options of {@linkcode markdownTable}. */
export interface MarkdownTableOptions {
  /** Columns to show, in order. Default: the keys of the first row. */
  columns?: string[];
  /** Decimals of numbers that are not integers, for all columns or by column name. Default 4. */
  digits?: number | Record<string, number>;
  /** Write integers with thousands separators, such as 66,346,428. Default false. */
  groupDigits?: boolean;
}

/**
 * Formats rows as a Markdown table: integers as they are (or with thousands separators), other numbers with
 * `digits` decimals, booleans as yes or no, missing values as empty cells, and `|` in text escaped. Columns
 * of numbers are right-aligned.
 *
 * @param rows One object per row.
 * @param options Columns and decimals; see {@linkcode MarkdownTableOptions}.
 * @returns The table as Markdown text; a line saying "no rows" when `rows` is empty.
 */
export function markdownTable(
  rows: readonly Record<string, unknown>[],
  options: MarkdownTableOptions = {},
): string {
  if (rows.length === 0) return "(no rows)";
  const columns = options.columns ?? Object.keys(rows[0]);
  const digitsOf = (column: string) =>
    typeof options.digits === "number" ? options.digits : options.digits?.[column] ?? 4;
  const cell = (value: unknown, digits: number): string => {
    if (value === undefined || value === null) return "";
    if (typeof value === "number" && Number.isInteger(value)) {
      return options.groupDigits ? value.toLocaleString("en-US") : String(value);
    }
    if (typeof value === "number") return value.toFixed(digits);
    if (typeof value === "boolean") return value ? "yes" : "no";
    return String(value).replaceAll("|", "\\|").replaceAll("\n", " ");
  };
  const numeric = columns.map((column) => rows.every((row) => typeof row[column] === "number"));

  return [
    `| ${columns.join(" | ")} |`,
    `|${numeric.map((isNumeric) => (isNumeric ? "---:" : "---")).join("|")}|`,
    ...rows.map((row) => `| ${columns.map((column) => cell(row[column], digitsOf(column))).join(" | ")} |`),
  ].join("\n");
}

/**
 * Renders a vega-lite spec to SVG and returns it as a displayable value.
 *
 * @throws {Error} When vega-lite cannot compile the spec or vega cannot run it.
 */
export async function chart(spec: TopLevelSpec): Promise<Displayable> {
  return displayable({ "image/svg+xml": await renderSvg(spec) });
}

/**
 * Renders a vega-lite spec once, writes it as `<path>.svg` and `<path>.png`, and returns the SVG as a
 * displayable value, so a notebook shows exactly the figure it saved.
 *
 * @param spec A vega-lite spec with its data inline.
 * @param pathWithoutExtension Output path without `.svg` or `.png`, such as `../figures/smoke/training_loss`.
 * @throws {Error} When rendering fails or a file cannot be written.
 */
export async function savedChart(spec: TopLevelSpec, pathWithoutExtension: string): Promise<Displayable> {
  const svg = await renderSvg(spec);
  await writeRenderedFigure(svg, renderPng(svg), pathWithoutExtension);
  return displayable({ "image/svg+xml": svg });
}
