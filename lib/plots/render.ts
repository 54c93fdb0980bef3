/**
 * Headless rendering of vega-lite specs to SVG and PNG files.
 * @module
 */

import { dirname } from "node:path";
import * as vega from "vega";
import * as vegaLite from "vega-lite";
import type { TopLevelSpec } from "vega-lite";
import { Resvg } from "@resvg/resvg-js";

/** Options of {@linkcode renderPng}. */
export interface RenderPngOptions {
  /** Pixels per SVG unit. The default of 2 gives a sharp image on high-density screens. */
  scale?: number;
  /** Font family for SVG text whose family is `sans-serif` or unset. Default: `"DejaVu Sans"`. */
  fontFamily?: string;
}

const DEFAULT_PNG_OPTIONS: Required<RenderPngOptions> = {
  scale: 2,
  fontFamily: "DejaVu Sans",
};

/** Paths of the files that {@linkcode writeFigure} wrote. */
export interface FigurePaths {
  svg: string;
  png: string;
}

/**
 * Renders a vega-lite spec to an SVG document without a browser or canvas.
 *
 * Headless vega cannot measure text, so it estimates label widths and long labels may sit a little off.
 *
 * @param spec A vega-lite spec with its data inline.
 * @returns The SVG document as text.
 * @throws {Error} When vega-lite cannot compile the spec or vega cannot parse or run the result.
 *
 * @example Render a bar chart
 * ```ts ignore
 * const svg = await renderSvg({
 *   data: { values: [{ x: "a", y: 1 }] },
 *   mark: "bar",
 *   encoding: { x: { field: "x", type: "nominal" }, y: { field: "y", type: "quantitative" } },
 * });
 * ```
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = vegaLite.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Renders an SVG document to a PNG image on a white background with the system's fonts.
 *
 * NOTE: resvg draws no text when it finds no font for a family, and raises no error then. On Debian, the
 * package fonts-dejavu-core provides the default family.
 *
 * @param svg An SVG document, such as the output of {@linkcode renderSvg}.
 * @param options Scale and default font; see {@linkcode RenderPngOptions}.
 * @returns The PNG file's bytes.
 * @throws {Error} When resvg cannot parse the SVG.
 */
export function renderPng(svg: string, options: RenderPngOptions = {}): Uint8Array {
  const settings = { ...DEFAULT_PNG_OPTIONS, ...options };
  const renderer = new Resvg(svg, {
    background: "white",
    fitTo: { mode: "zoom", value: settings.scale },
    font: {
      loadSystemFonts: true,
      defaultFontFamily: settings.fontFamily,
      sansSerifFamily: settings.fontFamily,
    },
  });
  return renderer.render().asPng();
}

/**
 * Renders a vega-lite spec and writes it as `<path>.svg` and `<path>.png`, creating the folder if needed.
 *
 * Both images are rendered before either file is written, and each file is written to a temporary name and
 * then renamed, so a failed run leaves no half-written image.
 *
 * @param spec A vega-lite spec with its data inline.
 * @param pathWithoutExtension Output path without `.svg` or `.png`, such as `figures/smoke/r_precision`.
 * @returns The paths written.
 * @throws {Error} When rendering fails or a file cannot be written.
 */
export async function writeFigure(spec: TopLevelSpec, pathWithoutExtension: string): Promise<FigurePaths> {
  const svg = await renderSvg(spec);
  return await writeRenderedFigure(svg, renderPng(svg), pathWithoutExtension);
}

/**
 * Writes an already rendered figure as `<path>.svg` and `<path>.png`, creating the folder if needed. Each
 * file is written to a temporary name and then renamed.
 *
 * @param svg The SVG document, such as the output of {@linkcode renderSvg}.
 * @param png The PNG bytes, such as the output of {@linkcode renderPng}.
 * @param pathWithoutExtension Output path without `.svg` or `.png`.
 * @returns The paths written.
 * @throws {Error} When a file cannot be written.
 */
export async function writeRenderedFigure(
  svg: string,
  png: Uint8Array,
  pathWithoutExtension: string,
): Promise<FigurePaths> {
  const paths = { svg: `${pathWithoutExtension}.svg`, png: `${pathWithoutExtension}.png` };
  await Deno.mkdir(dirname(pathWithoutExtension), { recursive: true });
  await writeAtomically(paths.svg, new TextEncoder().encode(svg));
  await writeAtomically(paths.png, png);
  return paths;
}

async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const temporary = `${path}.${crypto.randomUUID()}.tmp`;
  try {
    await Deno.writeFile(temporary, bytes);
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw new Error(`Writing figure ${path} failed: ${error}. Check that its folder is writable.`, {
      cause: error,
    });
  }
}
