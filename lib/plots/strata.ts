/**
 * The strata of the dev/test split: how the playlists of each set spread over the deciles of the three
 * features that the split stratifies on (length, last modification, median track popularity).
 * @module
 */

import type { TopLevelSpec } from "vega-lite";
import type { Corpus } from "../data/corpus.ts";
import { countTracks, decileBins } from "../data/split.ts";
import { type FigureSource, sourceSubtitle, VEGA_LITE_SCHEMA } from "./source.ts";

/** The three sets of the split, in display order. */
export const SPLIT_SETS = ["training", "dev", "test"] as const;

/** A set of the split. */
export type SplitSet = (typeof SPLIT_SETS)[number];

/** Display names of the stratification features, by the names that `splitCorpus` reports. */
export const STRATA_FEATURE_LABELS: Readonly<Record<string, string>> = {
  num_tracks: "Length",
  modified_at: "Last modified",
  popularity: "Median track popularity",
};

/** The decile bin of each playlist for each stratification feature. */
export interface StrataBins {
  /** Feature names in the order of `splitCorpus`'s `strataFeatures`. */
  features: string[];
  /** Per feature, the bin of each playlist by playlist index: 0 to 9, or 10 where the value is missing. */
  bins: Record<string, Int32Array>;
}

/** One bar of the strata figure. */
export interface StrataShare {
  /** Display name of the feature, from {@linkcode STRATA_FEATURE_LABELS}. */
  feature: string;
  /** Decile as text, "1" (lowest) to "10", or "missing". */
  decile: string;
  set: SplitSet;
  /** Playlists of the set in this decile. */
  playlists: number;
  /** `playlists` divided by the size of the set, in [0, 1]. */
  share: number;
}

/**
 * Computes the decile bins that `splitCorpus` stratifies on: number of tracks, `modified_at` (left out
 * when no playlist has it) and popularity, the median over a playlist's tracks of each track's count in
 * the whole corpus. The joint class of these bins is a playlist's stratum.
 */
export function strataBins(corpus: Corpus): StrataBins {
  const counts = countTracks(corpus);
  const lengths = Float64Array.from(corpus.playlists, (playlist) => playlist.tracks.length);
  const modified = Float64Array.from(corpus.playlists, (playlist) => playlist.modifiedAt ?? NaN);
  const popularity = Float64Array.from(
    corpus.playlists,
    (playlist) => median(Array.from(playlist.tracks, (track) => counts[track])),
  );

  const bins: Record<string, Int32Array> = {
    num_tracks: decileBins(lengths),
    popularity: decileBins(popularity),
  };
  const features = ["num_tracks", "popularity"];
  if (modified.some((value) => !Number.isNaN(value))) {
    bins.modified_at = decileBins(modified);
    features.splice(1, 0, "modified_at");
  }
  return { features, bins };
}

/**
 * Counts the playlists of each set per decile of each feature, as shares of the set's size. Deciles no
 * playlist of any set falls into are left out.
 *
 * @param strata The bins of {@linkcode strataBins}.
 * @param sets Playlist indices of each set.
 */
export function strataShares(strata: StrataBins, sets: Record<SplitSet, readonly number[]>): StrataShare[] {
  const shares: StrataShare[] = [];
  for (const feature of strata.features) {
    const bins = strata.bins[feature];
    const perSet = SPLIT_SETS.map((set) => {
      const counts = new Array<number>(11).fill(0);
      for (const index of sets[set]) counts[bins[index]]++;
      return counts;
    });

    for (let bin = 0; bin <= 10; bin++) {
      if (perSet.every((counts) => counts[bin] === 0)) continue;
      SPLIT_SETS.forEach((set, i) => {
        const size = sets[set].length;
        shares.push({
          feature: STRATA_FEATURE_LABELS[feature] ?? feature,
          decile: bin === 10 ? "missing" : String(bin + 1),
          set,
          playlists: perSet[i][bin],
          share: size === 0 ? 0 : perSet[i][bin] / size,
        });
      });
    }
  }
  return shares;
}

/**
 * Builds grouped bar charts, one panel per feature, of the share of each set's playlists in each decile.
 * A split that follows its strata shows dev and test bars as high as the training bars. The eligibility
 * filter can tilt them, because every track of a dev or test playlist must occur in training.
 *
 * @param shares The output of {@linkcode strataShares}.
 * @param source Profile and kind of data, for the subtitle.
 * @returns A faceted vega-lite spec with its data inline.
 */
export function strataSpec(shares: StrataShare[], source: FigureSource): TopLevelSpec {
  const features = [...new Set(shares.map((share) => share.feature))];
  // The panels share one decile axis: an independent x scale would break the grouping by xOffset.
  const present = new Set(shares.map((share) => share.decile));
  const deciles = [...Array.from({ length: 10 }, (_, i) => String(i + 1)), "missing"].filter((decile) =>
    present.has(decile)
  );

  return {
    $schema: VEGA_LITE_SCHEMA,
    title: {
      text: "Strata of the split: dev and test against training",
      subtitle: `${sourceSubtitle(source)}; decile 1 has the smallest values`,
    },
    data: { values: shares },
    facet: { column: { field: "feature", type: "nominal", sort: features, title: null } },
    spec: {
      width: 220,
      height: 180,
      mark: "bar",
      encoding: {
        x: { field: "decile", type: "ordinal", sort: deciles, title: "Decile", axis: { labelAngle: 0 } },
        xOffset: { field: "set", type: "nominal", sort: [...SPLIT_SETS] },
        y: {
          field: "share",
          type: "quantitative",
          title: "Share of the set's playlists",
          axis: { format: "%" },
        },
        color: { field: "set", type: "nominal", sort: [...SPLIT_SETS], title: "Set" },
        tooltip: [
          { field: "set" },
          { field: "decile" },
          { field: "playlists", type: "quantitative" },
          { field: "share", type: "quantitative", format: ".1%" },
        ],
      },
    },
  };
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
