/**
 * The data source of a figure, stated in its subtitle so that a synthetic-data figure is not mistaken for
 * one of the MPD.
 * @module
 */

/** The profile and kind of data that a figure shows. */
export interface FigureSource {
  /** Profile name, such as `smoke`, `default`, or `mpd` for a real MPD folder. */
  profile: string;
  /** True when the data came from this project's synthetic generator. */
  synthetic: boolean;
}

/** The `$schema` of every spec in this folder. */
export const VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

/** Returns a subtitle such as `"Profile smoke, synthetic data, not the MPD"` or `"Profile mpd, MPD data"`. */
export function sourceSubtitle(source: FigureSource): string {
  const data = source.synthetic ? "synthetic data, not the MPD" : "MPD data";
  return `Profile ${source.profile}, ${data}`;
}
