import { deepStrictEqual, match, ok, rejects, strictEqual } from "node:assert/strict";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  executedNotebookPath,
  executeNotebook,
  executeNotebooks,
  listChapterNotebooks,
  notebookInputsKey,
  NOTEBOOKS_DIR,
} from "../lib/pipeline/notebooks.ts";
import { getProfile } from "../lib/pipeline/profiles.ts";
import { runStudy } from "../lib/pipeline/study.ts";
import { STUDY_FIGURES } from "../lib/plots/study_figures.ts";

const FIXTURES = fileURLToPath(new URL("./fixtures/notebooks/", import.meta.url));
const CHAPTERS = [
  "01_data.ipynb",
  "02_split.ipynb",
  "03_training.ipynb",
  "04_prediction.ipynb",
  "05_cwva.ipynb",
  "06_evaluation.ipynb",
];

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

Deno.test("listChapterNotebooks chapters in order", async () => {
  const folder = await Deno.makeTempDir({ prefix: "notebooks_test_" });
  try {
    for (const name of ["02_b.ipynb", "01_a.ipynb", "notes.ipynb", "1_x.ipynb", "03_c.txt"]) {
      await Deno.writeTextFile(join(folder, name), "{}");
    }

    deepStrictEqual(await listChapterNotebooks(folder), [
      join(folder, "01_a.ipynb"),
      join(folder, "02_b.ipynb"),
    ]);
    deepStrictEqual((await listChapterNotebooks()).map((path) => basename(path)), CHAPTERS);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("executedNotebookPath default in place", () => {
  strictEqual(
    executedNotebookPath("/repo/notebooks/01_data.ipynb", "default", "/repo/figures/default"),
    "/repo/notebooks/01_data.ipynb",
  );
  strictEqual(
    executedNotebookPath("/repo/notebooks/01_data.ipynb", "smoke", "/repo/figures/smoke"),
    "/repo/figures/smoke/notebooks/01_data.ipynb",
  );
});

/** Copies fixture notebooks into `folder` under chapter names, returning their new paths in order. */
async function chapterCopies(folder: string, fixtures: string[]): Promise<string[]> {
  const paths: string[] = [];
  for (const [i, fixture] of fixtures.entries()) {
    const path = join(folder, `0${i + 1}_${fixture}`);
    await Deno.copyFile(join(FIXTURES, fixture), path);
    paths.push(path);
  }
  return paths;
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

Deno.test("executeNotebooks stops at the failing cell", async () => {
  const folder = await Deno.makeTempDir({ prefix: "notebooks_test_" });
  try {
    const notebooks = await chapterCopies(folder, ["outputs.ipynb", "throws.ipynb", "outputs.ipynb"]);
    const outputOf = (notebook: string) => join(folder, "out", basename(notebook));

    await rejects(
      executeNotebooks(notebooks, outputOf, { timeoutSeconds: 60 }),
      (error: unknown) => {
        ok(error instanceof Error);
        match(error.message, /Notebook 2 of 3 failed/);
        match(error.message, /02_throws\.ipynb, cell 2 of 3/);
        match(error.message, /RangeError: bad bucket 7/);
        return true;
      },
    );

    strictEqual(await exists(outputOf(notebooks[0])), true);
    strictEqual(await exists(outputOf(notebooks[1])), false);
    strictEqual(await exists(outputOf(notebooks[2])), false);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("executeNotebooks reuses unchanged notebooks", async () => {
  const folder = await Deno.makeTempDir({ prefix: "notebooks_test_" });
  try {
    const [notebook] = await chapterCopies(folder, ["outputs.ipynb"]);
    const output = join(folder, "out.ipynb");
    const run = (inputsKey: string) =>
      executeNotebooks([notebook], () => output, {
        env: { NOTEBOOK_TEST_VALUE: inputsKey },
        timeoutSeconds: 60,
        reuse: { manifestDir: join(folder, "manifests"), inputsKey },
      });

    const modified = async () => (await Deno.stat(output)).mtime?.getTime();

    const [first] = await run("a");
    const written = await modified();
    const [again] = await run("a");
    const kept = await modified();
    const [changed] = await run("b");

    strictEqual(first.reused, false);
    strictEqual(again.reused, true);
    strictEqual(again.seconds, 0);
    strictEqual(kept, written, "a reused notebook is not written again");
    strictEqual(changed.reused, false);
    strictEqual(await exists(join(folder, "manifests", "01_outputs.json")), true);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("notebookInputsKey follows stages and library", async () => {
  const folder = await Deno.makeTempDir({ prefix: "notebooks_test_" });
  try {
    const stages = join(folder, "stages");
    const library = join(folder, "lib");
    await Deno.mkdir(join(stages, "notebooks"), { recursive: true });
    await Deno.mkdir(join(library, "plots"), { recursive: true });
    await Deno.writeTextFile(join(stages, "train.json"), JSON.stringify({ key: "k1", seconds: 1 }));
    await Deno.writeTextFile(join(library, "plots", "a.ts"), "export const a = 1;");
    const key = () => notebookInputsKey(stages, library, { TRACK2SEQ_PROFILE: "smoke" });

    const first = await key();
    await Deno.writeTextFile(join(stages, "train.json"), JSON.stringify({ key: "k1", seconds: 2 }));
    await Deno.writeTextFile(join(stages, "notebooks", "01_data.json"), JSON.stringify({ key: "other" }));
    strictEqual(await key(), first, "timings and notebook manifests do not count");

    await Deno.writeTextFile(join(library, "plots", "a.ts"), "export const a = 2;");
    const afterLibrary = await key();
    ok(afterLibrary !== first, "a library change counts");

    await Deno.writeTextFile(join(stages, "train.json"), JSON.stringify({ key: "k2" }));
    ok(await key() !== afterLibrary, "a stage key counts");
    ok(
      await notebookInputsKey(stages, library, { TRACK2SEQ_PROFILE: "default" }) !== await key(),
      "extra counts",
    );
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

// The chapters run on a tiny study, built once for all of them: the smoke profile with fewer playlists, two
// training steps and small baselines, under a temporary root so the repository's data/smoke is untouched.
let tinyStudy: Promise<string> | undefined;

function buildTinyStudy(): Promise<string> {
  tinyStudy ??= (async () => {
    const root = await Deno.makeTempDir({ prefix: "notebooks_test_study_" });
    globalThis.addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));
    const config = getProfile("smoke");
    config.playlists = 1500;
    config.devSize = 6;
    config.testSize = 24;
    config.training = { ...config.training, maxSteps: 2, batchSize: 8 };
    config.prediction = { steps: 10, topK: 20 };
    config.baselines = {
      wmf: { factors: 8, iterations: 2 },
      w2v: { epochs: 1 },
      cwva: { skipGram: { epochs: 1 } },
    };
    await runStudy(config, { root, backend: "wasm" });
    return root;
  })();
  return tinyStudy;
}

/** Runs one chapter on the tiny study and returns its code cells, checking that each has an output. */
async function runChapter(chapter: string): Promise<Cell[]> {
  const root = await buildTinyStudy();
  const output = join(root, "executed", chapter);
  await executeNotebook(join(NOTEBOOKS_DIR, chapter), output, {
    env: { TRACK2SEQ_ROOT: root, TRACK2SEQ_PROFILE: "smoke", TRACK2SEQ_BACKEND: "wasm" },
    timeoutSeconds: 120,
  });

  const code = (await readCells(output)).filter((cell) => cell.cell_type === "code");
  ok(code.length >= 5, `${chapter} has ${code.length} code cells`);
  for (const [i, cell] of code.entries()) {
    const outputs = cell.outputs ?? [];
    ok(outputs.length > 0, `${chapter}: code cell ${i + 1} has no output`);
    ok(!outputs.some((item) => item.output_type === "error"), `${chapter}: code cell ${i + 1} failed`);
  }
  return code;
}

function markdownOf(cells: Cell[]): string {
  return cells.flatMap((cell) => cell.outputs ?? []).map((item) => joined(item.data?.["text/markdown"])).join(
    "\n",
  );
}

function svgCount(cells: Cell[]): number {
  return cells.flatMap((cell) => cell.outputs ?? []).filter((item) =>
    item.data?.["image/svg+xml"] !== undefined
  )
    .length;
}

// TF.js keeps its backend registry and timers for the whole process, and the study is shared by the tests.
const CHAPTER_TEST = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name: "chapter 1 data on a tiny study",
  ...CHAPTER_TEST,
  fn: async () => {
    const code = await runChapter("01_data.ipynb");
    const markdown = markdownOf(code);

    strictEqual(svgCount(code), 2);
    match(markdown, /\*\*Synthetic data, not the MPD\*\*: 2 slice files, 1500 playlists/);
    match(markdown, /\| playlists \| 1,500 \| 1,000,000 \|/);
    match(markdown, /- The synthetic corpus of profile smoke holds 1,500 playlists/);
  },
});

Deno.test({
  name: "chapter 2 split on a tiny study",
  ...CHAPTER_TEST,
  fn: async () => {
    const code = await runChapter("02_split.ipynb");
    const markdown = markdownOf(code);

    strictEqual(svgCount(code), 1);
    match(markdown, /\| dev \| 6 \|/);
    match(markdown, /\| test \| 24 \|/);
    match(markdown, /The seed buckets hold 4, 4, 4, 4, 4, 4 playlists/);
  },
});

Deno.test({
  name: "chapter 3 training on a tiny study",
  ...CHAPTER_TEST,
  fn: async () => {
    const code = await runChapter("03_training.ipynb");
    const markdown = markdownOf(code);

    strictEqual(svgCount(code), 1);
    match(markdown, /\| unigram \(popularity\) \|/);
    match(markdown, /trained 2 steps/);
  },
});

Deno.test({
  name: "chapter 4 prediction on a tiny study",
  ...CHAPTER_TEST,
  fn: async () => {
    const code = await runChapter("04_prediction.ipynb");
    const markdown = markdownOf(code);

    strictEqual(svgCount(code), 1);
    match(markdown, /\| semi-guided \| original code \|/);
    match(markdown, /- On 20 test playlists, the best R-precision/);
  },
});

Deno.test({
  name: "chapter 5 CWVA on a tiny study",
  ...CHAPTER_TEST,
  fn: async () => {
    const code = await runChapter("05_cwva.ipynb");
    const markdown = markdownOf(code);

    strictEqual(svgCount(code), 1);
    match(markdown, /Normalized: `/);
    match(markdown, /\| CWVA \| /);
    match(markdown, /- At 0 seeds CWVA reaches an R-precision of/);
  },
});

Deno.test({
  name: "chapter 6 evaluation on a tiny study",
  ...CHAPTER_TEST,
  fn: async () => {
    const code = await runChapter("06_evaluation.ipynb");
    const markdown = markdownOf(code);
    const root = await buildTinyStudy();

    strictEqual(svgCount(code), 2);
    match(markdown, /\| Track2Seq \| thesis: MPD \| 0\.1049 \|/);
    match(markdown, /\| Track2Seq \| ours: smoke, synthetic \|/);
    match(markdown, /Of the thesis's 4 qualitative findings/);
    for (const name of Object.values(STUDY_FIGURES)) {
      ok(await exists(join(root, "figures", "smoke", `${name}.png`)), `${name}.png is missing`);
    }
  },
});
