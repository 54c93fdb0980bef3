import { deepStrictEqual, match, ok, strictEqual, throws } from "node:assert/strict";
import type { StudyResults } from "../lib/eval/results.ts";
import { markdown, markdownTable, savedChart } from "../lib/plots/display.ts";
import { JUPYTER_DISPLAY } from "../lib/plots/display.ts";
import { guidedSweepSpec, SWEEP_MEASURES } from "../lib/plots/guided_sweep.ts";
import { lossCurveSpec, thinHistory } from "../lib/plots/loss.ts";
import { bucketMetricSpec, METRIC_PANELS, metricsBySeedSpec } from "../lib/plots/metrics.ts";
import { renderPng, renderSvg, rPrecisionBySeedSpec, writeFigure } from "../lib/plots/mod.ts";
import type { GuidedSweepResult } from "../lib/predict/guided_sweep.ts";

const SEEDS = ["0", "1", "5", "10", "25", "100"];
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

interface Point {
  method: string;
  seeds: string;
  r_precision: number;
}

/** A spec's parts that the tests read; vega-lite's own type is a union too wide to index. */
interface SpecParts {
  title: { text: string; subtitle: string | string[] };
  data: { values: Record<string, unknown>[] };
  layer: {
    mark?: { type: string; strokeDash?: number[] };
    encoding?: Record<string, { field?: string; type?: string; sort?: string[]; title?: string }>;
    data?: { values: Record<string, unknown>[] };
    layer?: { mark: { type: string; strokeDash?: number[] } }[];
    transform?: { filter: string }[];
  }[];
  facet: Record<string, { field: string; sort?: string[] }> & { field?: string; sort?: string[] };
  spec: { encoding: Record<string, { field: string; type: string }> };
  resolve: { scale: Record<string, string> };
  encoding: Record<string, { field: string; type: string; title?: string; sort?: string[] }>;
}

function parts(spec: unknown): SpecParts {
  return spec as SpecParts;
}

function study(
  synthetic: boolean,
  methods: Record<string, number> = { track2seq: 0.1, wmf: 0.08, popularity: 0.02 },
) {
  const method = (base: number) => {
    const metrics = (r_precision: number) => ({
      r_precision,
      ndcg: 0.2,
      clicks: 8,
      recall_at_500: 0.3,
      playlists: 5,
    });
    return {
      by_seed: Object.fromEntries(SEEDS.map((seed, i) => [seed, metrics(base + i / 100)])),
      bucket_mean: metrics(base),
      overall: metrics(base),
    };
  };
  const results: StudyResults = {
    profile: "smoke",
    synthetic,
    created_at: "2026-03-14T09:26:53Z",
    methods: Object.fromEntries(Object.entries(methods).map(([name, base]) => [name, method(base)])),
  };
  return results;
}

function points(results: StudyResults): Point[] {
  return parts(rPrecisionBySeedSpec(results)).data.values as unknown as Point[];
}

/** Reads width and height from a PNG's IHDR chunk, which follows the 8-byte signature. */
function pngSize(png: Uint8Array): { width: number; height: number } {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

Deno.test("rPrecisionBySeedSpec one series per method", () => {
  const values = points(study(true));
  const methods = [...new Set(values.map((point) => point.method))];

  deepStrictEqual(methods, ["Popularity", "WMF", "Track2Seq"]);
  for (const method of methods) {
    const series = values.filter((point) => point.method === method);
    deepStrictEqual(series.map((point) => point.seeds), SEEDS);
  }
  strictEqual(values.find((point) => point.method === "WMF" && point.seeds === "5")?.r_precision, 0.1);
});

Deno.test("rPrecisionBySeedSpec ordered seed axis", () => {
  const [lines] = parts(rPrecisionBySeedSpec(study(true))).layer;

  strictEqual(lines.encoding?.x.field, "seeds");
  strictEqual(lines.encoding?.x.type, "ordinal");
  deepStrictEqual(lines.encoding?.x.sort, SEEDS);
  strictEqual(lines.encoding?.y.field, "r_precision");
  strictEqual(lines.encoding?.color.field, "method");
});

Deno.test("rPrecisionBySeedSpec title names data", () => {
  const synthetic = parts(rPrecisionBySeedSpec(study(true)));
  const real = parts(rPrecisionBySeedSpec(study(false)));

  strictEqual(synthetic.title.text, "R-precision by number of seed tracks");
  match(String(synthetic.title.subtitle), /smoke/);
  match(String(synthetic.title.subtitle), /synthetic data/);
  ok(!String(real.title.subtitle).includes("synthetic"));
});

Deno.test("rPrecisionBySeedSpec CWVA as dashed mean", () => {
  const spec = parts(rPrecisionBySeedSpec(study(true, { track2seq: 0.1, cwva: 0.2 })));
  const values = spec.data.values as unknown as Point[];

  ok(!values.some((point) => point.method === "CWVA"), "CWVA has no line");
  strictEqual(spec.layer.length, 2);
  const level = spec.layer[1];
  deepStrictEqual(level.data?.values.map((value) => value.r_precision), [0.2]);
  strictEqual(level.layer?.[0].mark.type, "rule");
  deepStrictEqual(level.layer?.[0].mark.strokeDash, [6, 4]);
  strictEqual(level.layer?.[1].mark.type, "text");
  strictEqual(level.data?.values[0].label, "CWVA mean 0.200");
});

Deno.test("rPrecisionBySeedSpec no rule without CWVA", () => {
  strictEqual(parts(rPrecisionBySeedSpec(study(true))).layer.length, 1);
});

Deno.test("renderSvg draws labels", async () => {
  const svg = await renderSvg(rPrecisionBySeedSpec(study(true, { track2seq: 0.1, wmf: 0.08, cwva: 0.2 })));

  ok(svg.startsWith("<svg"));
  for (
    const text of ["WMF", "Track2Seq", "Seed tracks", "R-precision", "synthetic data", "CWVA mean 0.200"]
  ) {
    ok(svg.includes(text), `SVG lacks ${text}`);
  }
  ok(svg.includes('stroke-dasharray="6,4"'), "SVG lacks the dashed rule");
});

Deno.test("renderPng PNG of expected size", async () => {
  const svg = await renderSvg(rPrecisionBySeedSpec(study(true)));
  const png = renderPng(svg);
  const { width, height } = pngSize(png);

  deepStrictEqual([...png.subarray(0, 8)], PNG_SIGNATURE);
  // The plot area is 420 x 260 at scale 2; axes, title and legend add to that.
  ok(width > 840 && width < 1600, `width ${width}`);
  ok(height > 520 && height < 1000, `height ${height}`);
  ok(png.length > 10_000, `${png.length} bytes`);
});

Deno.test("writeFigure writes SVG and PNG", async () => {
  const folder = await Deno.makeTempDir({ prefix: "plots_test_" });
  try {
    const paths = await writeFigure(rPrecisionBySeedSpec(study(true)), `${folder}/nested/r_precision`);

    strictEqual(paths.svg, `${folder}/nested/r_precision.svg`);
    strictEqual(paths.png, `${folder}/nested/r_precision.png`);
    ok((await Deno.readTextFile(paths.svg)).startsWith("<svg"));
    deepStrictEqual([...(await Deno.readFile(paths.png)).subarray(0, 8)], PNG_SIGNATURE);
    deepStrictEqual([...Deno.readDirSync(`${folder}/nested`)].map((entry) => entry.name).sort(), [
      "r_precision.png",
      "r_precision.svg",
    ]);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("metricsBySeedSpec one panel per metric", () => {
  const spec = parts(metricsBySeedSpec(study(true)));
  const values = spec.data.values as { method: string; seeds: string; metric: string; value: number }[];

  strictEqual(spec.facet.field, "metric");
  deepStrictEqual(spec.facet.sort, METRIC_PANELS.map((panel) => panel.title));
  deepStrictEqual(
    [...new Set(values.map((value) => value.metric))],
    METRIC_PANELS.map((panel) => panel.title),
  );
  deepStrictEqual([...new Set(values.map((value) => value.method))], ["Popularity", "WMF", "Track2Seq"]);
  strictEqual(values.length, 4 * 3 * SEEDS.length);
  strictEqual(spec.resolve.scale.y, "independent");
  strictEqual(spec.spec.encoding.x.field, "seeds");
  strictEqual(spec.spec.encoding.color.field, "method");
  strictEqual(
    values.find((value) => value.metric === "Clicks (lower is better)" && value.method === "WMF")?.value,
    8,
  );
});

Deno.test("thinHistory averages runs", () => {
  const history = [1, 2, 3, 4, 5].map((step) => ({ step, loss: step * 2 }));

  deepStrictEqual(thinHistory(history, 10), history);
  deepStrictEqual(thinHistory(history, 2), [{ step: 3, loss: 4 }, { step: 5, loss: 9 }]);
  throws(() => thinHistory(history, 0), RangeError);
});

Deno.test("lossCurveSpec training and dev series", () => {
  const training = {
    history: Array.from({ length: 1000 }, (_, i) => ({ step: i + 1, loss: 9 - i / 500 })),
    dev: [{ step: 500, loss: 8.2 }, { step: 1000, loss: 7.5 }],
    config: { softmax: "sampled" },
  };
  const spec = parts(lossCurveSpec(training, { profile: "smoke", synthetic: true }, { maxPoints: 100 }));
  const values = spec.data.values as { step: number; loss: number; set: string }[];

  strictEqual(values.filter((value) => value.set === "training").length, 100);
  deepStrictEqual(values.filter((value) => value.set === "dev").map((value) => value.loss), [8.2, 7.5]);
  strictEqual(values.filter((value) => value.set === "training").at(-1)?.step, 1000);
  strictEqual(spec.encoding.x.field, "step");
  strictEqual(spec.encoding.y.field, "loss");
  strictEqual(spec.encoding.color.field, "set");
  deepStrictEqual(spec.layer.map((layer) => layer.mark), ["line", { type: "point", filled: true, size: 50 }]);
  match(String(spec.title.subtitle), /synthetic data/);
  match(String(spec.title.subtitle), /sampled-softmax/);
});

Deno.test("guidedSweepSpec panels per option and measure", () => {
  const result = (options: Record<string, number>, r: number): GuidedSweepResult => ({
    options,
    metrics: { r_precision: r, ndcg: r, clicks: 5, recall_at_500: 2 * r, playlists: 4 },
    meanTracks: 100 * r,
    seconds: 1,
  });
  const spec = parts(guidedSweepSpec(
    [
      { parameter: "topK", results: [result({ topK: 10 }, 0.1), result({ topK: 50 }, 0.2)] },
      { parameter: "steps", results: [result({ steps: 0 }, 0.3)] },
    ],
    { profile: "smoke", synthetic: true },
    4,
  ));
  const values = spec.data.values as { parameter: string; value: number; measure: string; result: number }[];

  strictEqual(values.length, 3 * SWEEP_MEASURES.length);
  strictEqual(spec.facet.column.field, "parameter");
  strictEqual(spec.facet.row.field, "measure");
  deepStrictEqual(spec.facet.row.sort, [...SWEEP_MEASURES]);
  strictEqual(
    values.find((value) =>
      value.parameter === "Top-k per step" && value.value === 50 && value.measure === "Recall@500"
    )
      ?.result,
    0.4,
  );
  strictEqual(spec.resolve.scale.x, "independent");
  match(String(spec.title.subtitle), /4 test playlists/);
});

Deno.test("markdownTable formats cells", () => {
  const table = markdownTable([
    { method: "a|b", value: 0.123456, count: 12345, hit: true },
    { method: "c", value: 2, count: 7, hit: false },
  ], { digits: { value: 2 }, groupDigits: true });

  strictEqual(
    table,
    [
      "| method | value | count | hit |",
      "|---|---:|---:|---|",
      "| a\\|b | 0.12 | 12,345 | yes |",
      "| c | 2 | 7 | no |",
    ].join("\n"),
  );
  strictEqual(markdownTable([]), "(no rows)");
});

Deno.test("markdown displays as text/markdown", () => {
  const bundle = markdown("**x**")[JUPYTER_DISPLAY]();

  deepStrictEqual(bundle, { "text/markdown": "**x**" });
});

Deno.test("savedChart writes and shows the same SVG", async () => {
  const folder = await Deno.makeTempDir({ prefix: "plots_test_" });
  try {
    const shown = await savedChart(rPrecisionBySeedSpec(study(true)), `${folder}/figure`);
    const svg = shown[JUPYTER_DISPLAY]()["image/svg+xml"];

    strictEqual(svg, await Deno.readTextFile(`${folder}/figure.svg`));
    deepStrictEqual([...(await Deno.readFile(`${folder}/figure.png`)).subarray(0, 8)], PNG_SIGNATURE);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("bucketMetricSpec one bar per method", () => {
  const results = study(true, { track2seq: 0.1, cwva: 0.2, popularity: 0.02 });
  delete results.methods.popularity.by_seed["0"];
  const spec = parts(bucketMetricSpec(results, "0"));
  const values = spec.data.values as { method: string; value: number }[];

  deepStrictEqual(values, [{ method: "CWVA", value: 0.2 }, { method: "Track2Seq", value: 0.1 }]);
  strictEqual(spec.title.text, "R-precision at 0 seed tracks");
  strictEqual(spec.encoding.y.field, "method");
  strictEqual(spec.encoding.x.field, "value");
  strictEqual(
    parts(bucketMetricSpec(results, "1", "clicks")).title.text,
    "Clicks (lower is better) at 1 seed track",
  );
});
