import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import type { StudyResults } from "../lib/eval/results.ts";
import { renderPng, renderSvg, rPrecisionBySeedSpec, writeFigure } from "../lib/plots/mod.ts";

const SEEDS = ["0", "1", "5", "10", "25", "100"];
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

interface Point {
  method: string;
  seeds: string;
  r_precision: number;
}

function study(synthetic: boolean): StudyResults {
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
  return {
    profile: "smoke",
    synthetic,
    created_at: "2026-03-14T09:26:53Z",
    methods: { track2seq: method(0.1), wmf: method(0.08), popularity: method(0.02) },
  };
}

function points(results: StudyResults): Point[] {
  const spec = rPrecisionBySeedSpec(results) as { data: { values: Point[] } };
  return spec.data.values;
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
  const spec = rPrecisionBySeedSpec(study(true)) as { encoding: { x: { type: string; sort: string[] } } };

  strictEqual(spec.encoding.x.type, "ordinal");
  deepStrictEqual(spec.encoding.x.sort, SEEDS);
});

Deno.test("rPrecisionBySeedSpec title names data", () => {
  const synthetic = rPrecisionBySeedSpec(study(true)) as { title: { subtitle: string } };
  const real = rPrecisionBySeedSpec(study(false)) as { title: { subtitle: string } };

  match(synthetic.title.subtitle, /smoke/);
  match(synthetic.title.subtitle, /synthetic data/);
  ok(!real.title.subtitle.includes("synthetic"));
});

Deno.test("renderSvg draws labels", async () => {
  const svg = await renderSvg(rPrecisionBySeedSpec(study(true)));

  ok(svg.startsWith("<svg"));
  for (const text of ["Popularity", "WMF", "Track2Seq", "Seed tracks", "R-precision", "synthetic data"]) {
    ok(svg.includes(text), `SVG lacks ${text}`);
  }
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
