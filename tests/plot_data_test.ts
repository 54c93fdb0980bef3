import { deepStrictEqual, match, ok, strictEqual, throws } from "node:assert/strict";
import { stratify } from "../lib/data/split.ts";
import type { StudyResults } from "../lib/eval/results.ts";
import { splitSetsFromPids } from "../lib/pipeline/load_artifacts.ts";
import { studyPaths } from "../lib/pipeline/paths.ts";
import {
  linearHistogram,
  logHistogram,
  playlistLengthSpec,
  trackPopularitySpec,
} from "../lib/plots/distributions.ts";
import { SPLIT_SETS, strataBins, strataShares, strataSpec } from "../lib/plots/strata.ts";
import { STUDY_FIGURES, writeStudyFigures } from "../lib/plots/study_figures.ts";
import { randomCorpus } from "./helpers/corpus.ts";

const SOURCE = { profile: "smoke", synthetic: true };
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

interface SpecParts {
  title: { text: string; subtitle: string };
  data: { values: Record<string, unknown>[] };
  layer: { data: { values: Record<string, unknown>[] }; mark?: { type: string } }[];
  facet: { column: { field: string; sort: string[] } };
  spec: { encoding: Record<string, { field: string; sort?: string[] }> };
  encoding: Record<string, { field: string; scale?: { type: string } }>;
}

function parts(spec: unknown): SpecParts {
  return spec as SpecParts;
}

Deno.test("linearHistogram counts per bin", () => {
  const bins = linearHistogram([5, 6, 9, 10, 24, NaN], 5);

  deepStrictEqual(bins.map((bin) => [bin.start, bin.end, bin.count]), [
    [5, 10, 3],
    [10, 15, 1],
    [15, 20, 0],
    [20, 25, 1],
  ]);
  deepStrictEqual(linearHistogram([], 5), []);
  throws(() => linearHistogram([1], 0), RangeError);
});

Deno.test("logHistogram exact head, averaged tail", () => {
  const values = [1, 1, 1, 2, 3, 15, 17, 0];
  const bins = logHistogram(values);

  deepStrictEqual(bins.slice(0, 3).map((bin) => [bin.start, bin.end, bin.count, bin.density]), [
    [1, 2, 3, 3],
    [2, 3, 1, 1],
    [3, 4, 1, 1],
  ]);
  const tail = bins[bins.length - 1];
  strictEqual(tail.count + bins[bins.length - 2].count, 2, "15 and 17 fall into the tail bins");
  strictEqual(bins.reduce((sum, bin) => sum + bin.count, 0), 7, "the 0 is skipped");
  for (const bin of bins) {
    ok(bin.start <= bin.center && bin.center < bin.end, `center of [${bin.start}, ${bin.end})`);
    strictEqual(bin.density, bin.count / (bin.end - bin.start));
  }
  throws(() => logHistogram(values, 0), RangeError);
});

Deno.test("playlistLengthSpec bars and median", () => {
  const spec = parts(playlistLengthSpec([5, 7, 12, 40], SOURCE));
  const [bars, median] = spec.layer;

  strictEqual(spec.title.text, "Playlist length");
  match(spec.title.subtitle, /synthetic data, not the MPD; 4 playlists/);
  strictEqual(bars.mark?.type, "bar");
  strictEqual(bars.data.values.reduce((sum, bin) => sum + Number(bin.count), 0), 4);
  deepStrictEqual(median.data.values, [{ median: 9.5, label: "median 9.5" }]);
});

Deno.test("trackPopularitySpec log-log axes", () => {
  const spec = parts(trackPopularitySpec(Int32Array.of(1, 1, 2, 40, 0), SOURCE));

  strictEqual(spec.title.text, "Track popularity");
  match(spec.title.subtitle, /4 tracks/);
  strictEqual(spec.encoding.x.field, "center");
  strictEqual(spec.encoding.y.field, "density");
  strictEqual(spec.encoding.x.scale?.type, "log");
  strictEqual(spec.encoding.y.scale?.type, "log");
});

Deno.test("strataBins match the split's strata", () => {
  const corpus = randomCorpus(300, 400, 5);
  const { stratum, features } = stratify(corpus);
  const strata = strataBins(corpus);

  deepStrictEqual(strata.features, features);
  for (let i = 0; i < corpus.playlists.length; i++) {
    const joint = strata.bins.num_tracks[i] * 121 + strata.bins.modified_at[i] * 11 +
      strata.bins.popularity[i];
    strictEqual(joint, stratum[i], `playlist ${i}`);
  }
});

Deno.test("strataBins without modified_at", () => {
  const corpus = randomCorpus(50, 100, 2);
  for (const playlist of corpus.playlists) playlist.modifiedAt = null;

  deepStrictEqual(strataBins(corpus).features, ["num_tracks", "popularity"]);
});

Deno.test("strataShares sum to one per set", () => {
  const corpus = randomCorpus(300, 400, 5);
  const sets = splitSetsFromPids(corpus, [1, 2, 3, 4, 5], [10, 11, 12, 13, 14, 15]);
  const shares = strataShares(strataBins(corpus), sets);

  for (const feature of ["Length", "Last modified", "Median track popularity"]) {
    for (const set of SPLIT_SETS) {
      const rows = shares.filter((share) => share.feature === feature && share.set === set);
      const total = rows.reduce((sum, row) => sum + row.share, 0);
      ok(Math.abs(total - 1) < 1e-9, `${feature} ${set} sums to ${total}`);
      strictEqual(rows.reduce((sum, row) => sum + row.playlists, 0), sets[set].length);
    }
  }
});

Deno.test("strataSpec grouped bars per feature", () => {
  const corpus = randomCorpus(200, 300, 3);
  const sets = splitSetsFromPids(corpus, [0, 1], [2, 3, 4]);
  const spec = parts(strataSpec(strataShares(strataBins(corpus), sets), SOURCE));

  strictEqual(spec.facet.column.field, "feature");
  deepStrictEqual(spec.facet.column.sort, ["Length", "Last modified", "Median track popularity"]);
  strictEqual(spec.spec.encoding.x.field, "decile");
  strictEqual(spec.spec.encoding.xOffset.field, "set");
  strictEqual(spec.spec.encoding.y.field, "share");
  deepStrictEqual(spec.spec.encoding.color.sort, ["training", "dev", "test"]);
  match(spec.title.text, /dev and test against training/);
});

Deno.test("writeStudyFigures writes every figure", async () => {
  const root = await Deno.makeTempDir({ prefix: "plot_data_test_" });
  try {
    const corpus = randomCorpus(120, 200, 4);
    const metrics = { r_precision: 0.1, ndcg: 0.2, clicks: 5, recall_at_500: 0.3, playlists: 2 };
    const results: StudyResults = {
      profile: "tiny",
      synthetic: true,
      created_at: "2026-03-14T09:26:53Z",
      methods: {
        track2seq: { by_seed: { "0": metrics, "1": metrics }, bucket_mean: metrics, overall: metrics },
      },
    };
    const training = { history: [{ step: 1, loss: 5 }, { step: 2, loss: 4 }], dev: [{ step: 2, loss: 4.5 }] };
    const paths = studyPaths(root, "tiny");

    const written = await writeStudyFigures(paths, {
      results,
      corpus,
      training,
      split: { dev: [1, 2], test: [3, 4] },
    });

    deepStrictEqual(Object.keys(written).sort(), Object.keys(STUDY_FIGURES).sort());
    const files = [...Deno.readDirSync(paths.figuresDir)].map((entry) => entry.name).sort();
    deepStrictEqual(
      files,
      Object.values(STUDY_FIGURES).flatMap((name) => [`${name}.png`, `${name}.svg`]).sort(),
    );
    for (const { svg, png } of Object.values(written)) {
      ok((await Deno.readTextFile(svg)).startsWith("<svg"), svg);
      deepStrictEqual([...(await Deno.readFile(png)).subarray(0, 8)], PNG_SIGNATURE, png);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("writeStudyFigures names a missing artifact", async () => {
  const root = await Deno.makeTempDir({ prefix: "plot_data_test_" });
  try {
    const paths = studyPaths(root, "tiny");
    const corpus = randomCorpus(20, 50, 1);

    let message = "";
    await writeStudyFigures(paths, { corpus }).catch((error) => message = String(error));
    match(message, /results\.json failed: the file is missing/);
    match(message, /deno task reproduce/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
