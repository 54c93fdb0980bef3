/**
 * Figures of the data: the distribution of playlist lengths and the long tail of track popularity.
 * @module
 */

import type { TopLevelSpec } from "vega-lite";
import { type FigureSource, sourceSubtitle, VEGA_LITE_SCHEMA } from "./source.ts";

/** One bar of a histogram: the values in [start, end). */
export interface HistogramBin {
  start: number;
  end: number;
  count: number;
}

/** One point of a log-binned frequency distribution of positive integers. */
export interface LogBin {
  /** Smallest integer of the bin. */
  start: number;
  /** One past the largest integer of the bin. */
  end: number;
  /** Geometric middle of the integers in the bin, where the point is drawn. */
  center: number;
  /** Number of values that fall into the bin. */
  count: number;
  /** `count` divided by the number of integers in the bin: the mean count per integer value. */
  density: number;
}

/**
 * Counts values into bins of equal width, starting at the multiple of `width` at or below the smallest
 * value. Empty bins between the smallest and the largest value are kept, with count 0.
 *
 * @param values Numbers; NaN and infinite values are skipped.
 * @param width Width of every bin, > 0.
 * @returns The bins in ascending order; empty when no value is finite.
 * @throws {RangeError} When `width` is not a positive finite number.
 */
export function linearHistogram(values: ArrayLike<number>, width: number): HistogramBin[] {
  if (!(width > 0) || !Number.isFinite(width)) {
    throw new RangeError(`Building a histogram failed: bin width must be a positive number, got ${width}.`);
  }
  let smallest = Infinity;
  let largest = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) continue;
    smallest = Math.min(smallest, values[i]);
    largest = Math.max(largest, values[i]);
  }
  if (smallest === Infinity) return [];

  const first = Math.floor(smallest / width);
  const last = Math.floor(largest / width);
  const counts = new Array<number>(last - first + 1).fill(0);
  for (let i = 0; i < values.length; i++) {
    if (Number.isFinite(values[i])) counts[Math.floor(values[i] / width) - first]++;
  }
  return counts.map((count, i) => ({ start: (first + i) * width, end: (first + i + 1) * width, count }));
}

/**
 * Counts positive integers into bins of equal width on a log scale, `binsPerDecade` per power of ten,
 * rounded to integer edges. Small values get one bin per integer, so the head of the distribution stays
 * exact, and the sparse tail is averaged over wider bins. Values below 1 are skipped; empty bins are left
 * out.
 *
 * @param values Positive integers, such as each track's number of occurrences.
 * @param binsPerDecade Bins per factor of ten, >= 1. Default 10.
 * @returns The non-empty bins in ascending order.
 * @throws {RangeError} When `binsPerDecade` is not a positive integer.
 */
export function logHistogram(values: ArrayLike<number>, binsPerDecade = 10): LogBin[] {
  if (!Number.isInteger(binsPerDecade) || binsPerDecade < 1) {
    throw new RangeError(
      `Building a log histogram failed: binsPerDecade must be a positive integer, got ${binsPerDecade}.`,
    );
  }
  let largest = 0;
  for (let i = 0; i < values.length; i++) largest = Math.max(largest, values[i]);
  if (largest < 1) return [];

  // Integer edges 1, 2, 3, ... until the log-spaced edges grow more than one apart.
  const edges = [1];
  for (let step = 1; edges[edges.length - 1] <= largest; step++) {
    const edge = Math.round(10 ** (step / binsPerDecade));
    if (edge > edges[edges.length - 1]) edges.push(edge);
  }

  const counts = new Array<number>(edges.length - 1).fill(0);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (!(value >= 1)) continue;
    let low = 0;
    let high = edges.length - 1;
    while (high - low > 1) {
      const middle = (low + high) >> 1;
      if (edges[middle] <= value) low = middle;
      else high = middle;
    }
    counts[low]++;
  }

  const bins: LogBin[] = [];
  counts.forEach((count, i) => {
    if (count === 0) return;
    const start = edges[i];
    const end = edges[i + 1];
    bins.push({ start, end, center: Math.sqrt(start * (end - 1)), count, density: count / (end - start) });
  });
  return bins;
}

/** Options of {@linkcode playlistLengthSpec}. */
export interface PlaylistLengthOptions {
  /** Tracks per bar. Default 5. */
  binWidth?: number;
}

/**
 * Builds a histogram of playlist lengths with a dashed rule at the median.
 *
 * @param lengths Number of tracks of each playlist.
 * @param source Profile and kind of data, for the subtitle.
 * @param options Bin width; see {@linkcode PlaylistLengthOptions}.
 * @returns A layered vega-lite spec with its data inline: bars, then the median rule and its label.
 */
export function playlistLengthSpec(
  lengths: ArrayLike<number>,
  source: FigureSource,
  options: PlaylistLengthOptions = {},
): TopLevelSpec {
  const bins = linearHistogram(lengths, options.binWidth ?? 5);
  const median = medianOf(lengths);

  return {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: "Playlist length", subtitle: `${sourceSubtitle(source)}; ${lengths.length} playlists` },
    width: 420,
    height: 240,
    layer: [
      {
        data: { values: bins },
        mark: { type: "bar", binSpacing: 0 },
        encoding: {
          x: { field: "start", type: "quantitative", bin: { binned: true }, title: "Tracks in the playlist" },
          x2: { field: "end" },
          y: { field: "count", type: "quantitative", title: "Playlists" },
        },
      },
      {
        data: { values: [{ median, label: `median ${median}` }] },
        layer: [
          {
            mark: { type: "rule", strokeDash: [6, 4], color: "black" },
            encoding: { x: { field: "median", type: "quantitative" } },
          },
          {
            mark: { type: "text", align: "left", dx: 4, dy: 4, baseline: "top" },
            encoding: {
              x: { field: "median", type: "quantitative" },
              y: { value: 0 },
              text: { field: "label" },
            },
          },
        ],
      },
    ],
  };
}

/**
 * Builds a log-log plot of track popularity: for each number of occurrences, how many tracks occur that
 * often. Occurrence counts are log-binned (see {@linkcode logHistogram}), so the y value is the mean
 * number of tracks per occurrence count within a bin.
 *
 * @param counts Occurrences of each track over all playlists; tracks with count 0 are skipped.
 * @param source Profile and kind of data, for the subtitle.
 * @returns A vega-lite spec with its data inline, both axes on a log scale.
 */
export function trackPopularitySpec(counts: ArrayLike<number>, source: FigureSource): TopLevelSpec {
  const bins = logHistogram(counts);
  const tracks = bins.reduce((sum, bin) => sum + bin.count, 0);

  return {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: "Track popularity", subtitle: `${sourceSubtitle(source)}; ${tracks} tracks` },
    width: 420,
    height: 260,
    data: { values: bins },
    mark: { type: "line", point: true },
    encoding: {
      x: {
        field: "center",
        type: "quantitative",
        scale: { type: "log" },
        title: "Occurrences of a track over all playlists (log scale)",
      },
      y: {
        field: "density",
        type: "quantitative",
        scale: { type: "log" },
        title: "Tracks per occurrence count, averaged over the bin (log scale)",
      },
      tooltip: [
        { field: "start", title: "occurrences from" },
        { field: "end", title: "to below" },
        { field: "count", title: "tracks" },
      ],
    },
  };
}

/** Returns the median; the mean of the two middle values for an even count, 0 for no value. */
function medianOf(values: ArrayLike<number>): number {
  if (values.length === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
