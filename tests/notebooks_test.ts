import { deepStrictEqual, match, ok, rejects, strictEqual } from "node:assert/strict";
import { fileURLToPath } from "node:url";
import pl from "nodejs-polars";
import type { StudyResults } from "../lib/eval/results.ts";
import { executeNotebook } from "../lib/pipeline/notebooks.ts";

const FIXTURES = fileURLToPath(new URL("./fixtures/notebooks/", import.meta.url));
const STUDY = fileURLToPath(new URL("../notebooks/track2seq_study.ipynb", import.meta.url));
const SEEDS = [0, 1, 5, 10, 25, 100];

interface Output {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, string | string[]>;
  execution_count?: number | null;
  ename?: string;
}

interface Cell {
  cell_type: string;
  execution_count?: number | null;
  outputs?: Output[];
}

function joined(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join("") : value ?? "";
}

async function readCells(path: string): Promise<Cell[]> {
  const notebook = JSON.parse(await Deno.readTextFile(path)) as { cells: Cell[] };
  return notebook.cells;
}

// The Deno kernel can send a cell's last outputs after its idle status. A runner that stops reading at idle
// loses some of them at random, so the notebook runs three times.
Deno.test("executeNotebook keeps every output", async () => {
  const folder = await Deno.makeTempDir({ prefix: "notebooks_test_" });
  try {
    for (let run = 1; run <= 3; run++) {
      const output = `${folder}/outputs_${run}.ipynb`;
      await executeNotebook(`${FIXTURES}outputs.ipynb`, output, {
        env: { NOTEBOOK_TEST_VALUE: `run ${run}` },
        timeoutSeconds: 60,
      });
      const cells = await readCells(output);

      strictEqual(cells[0].cell_type, "markdown");
      strictEqual(cells[0].outputs, undefined);

      const printed = cells[1].outputs ?? [];
      strictEqual(printed.length, 2, `run ${run}: cell 2 outputs`);
      strictEqual(printed[0].name, "stdout");
      strictEqual(joined(printed[0].text), "line 1\nline 2\nline 3\n");
      strictEqual(printed[1].name, "stderr");
      strictEqual(joined(printed[1].text), "warning line\n");

      const displayed = cells[2].outputs ?? [];
      strictEqual(displayed.length, 2, `run ${run}: cell 3 outputs`);
      strictEqual(displayed[0].output_type, "display_data");
      strictEqual(joined(displayed[0].data?.["text/html"]), "<b>shown value</b>");
      strictEqual(joined(displayed[1].text), "after display\n");

      const result = cells[3].outputs ?? [];
      strictEqual(result.length, 1, `run ${run}: cell 4 outputs`);
      strictEqual(result[0].output_type, "execute_result");
      match(joined(result[0].data?.["text/plain"]), new RegExp(`run ${run}`));
      strictEqual(result[0].execution_count, cells[3].execution_count);

      const markdown = cells[4].outputs ?? [];
      strictEqual(markdown.length, 1, `run ${run}: cell 5 outputs`);
      strictEqual(joined(markdown[0].data?.["text/markdown"]), "**bold** text");

      deepStrictEqual(cells.slice(1).map((cell) => cell.execution_count), [1, 2, 3, 4]);
    }
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("executeNotebook names the failed cell", async () => {
  const folder = await Deno.makeTempDir({ prefix: "notebooks_test_" });
  try {
    const output = `${folder}/throws.ipynb`;
    await rejects(
      executeNotebook(`${FIXTURES}throws.ipynb`, output, { timeoutSeconds: 60 }),
      (error: unknown) => {
        ok(error instanceof Error);
        match(error.message, /throws\.ipynb/);
        match(error.message, /cell 2 of 3/);
        match(error.message, /RangeError: bad bucket 7/);
        return true;
      },
    );

    const written = await Deno.stat(output).then(() => true, () => false);
    strictEqual(written, false);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("executeNotebook names the missing interpreter", async () => {
  await rejects(
    executeNotebook(`${FIXTURES}outputs.ipynb`, "/nonexistent/out.ipynb", { python: "/nonexistent/python3" }),
    (error: unknown) => {
      ok(error instanceof Error);
      match(error.message, /\/nonexistent\/python3 not found/);
      match(error.message, /python3-jupyter-client/);
      return true;
    },
  );
});

/**
 * Writes tiny artifacts in the formats that the pipeline stages write, under `<root>/data/<profile>` and
 * `<root>/figures/<profile>`: 12 playlists of 5 to 16 tracks, of which the 6 shortest are test playlists.
 */
async function writeFakeArtifacts(root: string, profile: string): Promise<void> {
  const data = `${root}/data/${profile}`;
  const figures = `${root}/figures/${profile}`;
  await Deno.mkdir(`${data}/ingested`, { recursive: true });
  await Deno.mkdir(figures, { recursive: true });

  const pids = [...Array(12).keys()];
  const lengths = pids.map((pid) => 5 + pid);
  const rows = pids.flatMap((pid) => [...Array(lengths[pid]).keys()].map((pos) => ({ pid, pos })));
  const trackIds = [...Array(20).keys()];

  pl.DataFrame([
    pl.Series("pid", pids, pl.Int64),
    pl.Series("name", pids.map((pid) => `mix ${pid}`)),
    pl.Series("modified_at", pids.map((pid) => 1_500_000_000 + pid * 86_400), pl.Int64),
    pl.Series("num_tracks", lengths, pl.Int64),
  ]).writeParquet(`${data}/ingested/playlists.parquet`);
  pl.DataFrame([
    pl.Series("pid", rows.map((row) => row.pid), pl.Int64),
    pl.Series("pos", rows.map((row) => row.pos), pl.Int64),
    pl.Series("track_id", rows.map((row) => (row.pid + row.pos) % 20), pl.Int64),
  ]).writeParquet(`${data}/ingested/playlist_tracks.parquet`);
  pl.DataFrame([
    pl.Series("track_id", trackIds, pl.Int64),
    pl.Series("track_uri", trackIds.map((id) => `spotify:track:${String(id).padStart(22, "0")}`)),
    pl.Series("track_name", trackIds.map((id) => `Song ${id}`)),
    pl.Series("artist_uri", trackIds.map((id) => `spotify:artist:${String(id % 4).padStart(22, "0")}`)),
    pl.Series("artist_name", trackIds.map((id) => `Artist ${id % 4}`)),
  ]).writeParquet(`${data}/ingested/tracks.parquet`);

  const test = pids.slice(0, 6);
  const split = {
    train: 3,
    dev: pids.slice(9),
    test,
    seed_counts: Object.fromEntries(test.map((pid, i) => [String(pid), SEEDS[i]])),
    vocabulary_size: 22,
  };
  await Deno.writeTextFile(`${data}/split.json`, JSON.stringify(split));

  const training = {
    history: [0, 10, 20, 30].map((step) => ({ step, loss: 3 - step / 20 })),
    dev: [{ step: 30, loss: 1.6, perplexity: Math.exp(1.6) }],
    tokens_per_second: 1234,
    seconds: 2.5,
    backend: "cpu",
  };
  await Deno.writeTextFile(`${data}/training.json`, JSON.stringify(training));

  const metrics = (value: number) => ({
    r_precision: value,
    ndcg: value,
    clicks: 10,
    recall_at_500: value,
    playlists: 1,
  });
  const method = (base: number) => ({
    by_seed: Object.fromEntries(SEEDS.map((seed, i) => [String(seed), metrics(base + i / 100)])),
    bucket_mean: metrics(base),
    overall: metrics(base),
  });
  const results: StudyResults = {
    profile,
    synthetic: true,
    created_at: "2026-03-14T09:26:53Z",
    methods: { wmf: method(0.05), track2seq: method(0.1) },
  };
  await Deno.writeTextFile(`${figures}/results.json`, JSON.stringify(results));
}

Deno.test("study notebook runs on fake artifacts", async () => {
  const root = await Deno.makeTempDir({ prefix: "notebooks_test_" });
  try {
    await writeFakeArtifacts(root, "tiny");
    const output = `${root}/study.ipynb`;
    await executeNotebook(STUDY, output, {
      env: { TRACK2SEQ_ROOT: root, TRACK2SEQ_PROFILE: "tiny" },
      timeoutSeconds: 120,
    });

    const code = (await readCells(output)).filter((cell) => cell.cell_type === "code");
    ok(code.length > 5);
    for (const [i, cell] of code.entries()) {
      ok((cell.outputs ?? []).length > 0, `code cell ${i + 1} has no output`);
    }

    const outputs = code.flatMap((cell) => cell.outputs ?? []);
    const svgs = outputs.filter((output) => output.data?.["image/svg+xml"] !== undefined);
    strictEqual(svgs.length, 2);
    const markdown = outputs.map((output) => joined(output.data?.["text/markdown"])).join("\n");
    match(markdown, /Synthetic data, not the MPD/);
    match(markdown, /\| Track2Seq \| 0\.1000 \|/);
    match(markdown, /Track2Seq beats WMF at 0, 1, 5, 10, 25, 100 seeds/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
