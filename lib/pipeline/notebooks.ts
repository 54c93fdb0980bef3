/**
 * Headless execution of the project's notebooks with the Deno Jupyter kernel.
 * @module
 */

import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { hashConfig, isStageFresh, writeJsonAtomic } from "./artifacts.ts";

/** Options of {@linkcode executeNotebook}. */
export interface ExecuteNotebookOptions {
  /** Variables added to this process's environment for the kernel, such as `TRACK2SEQ_PROFILE`. Default: none. */
  env?: Record<string, string>;
  /** Seconds each code cell may run before the run fails. Default: 600. */
  timeoutSeconds?: number;
  /**
   * Seconds of silence on the kernel's output channel, after a cell reports idle, before the cell counts as
   * done. The Deno kernel can send a cell's last outputs after its idle status. Default: 0.3.
   */
  settleSeconds?: number;
  /** Python interpreter that has Debian's jupyter_client and nbformat. Default: `/usr/bin/python3`. */
  python?: string;
}

const DEFAULT_OPTIONS: Required<Omit<ExecuteNotebookOptions, "env">> = {
  timeoutSeconds: 600,
  settleSeconds: 0.3,
  python: "/usr/bin/python3",
};

/** The repository's `notebooks/` folder, which contains the study's chapters. */
export const NOTEBOOKS_DIR: string = fileURLToPath(new URL("../../notebooks", import.meta.url));

/** File names of chapter notebooks: a two-digit chapter number, an underscore, a name. */
const CHAPTER_PATTERN = /^\d{2}_[^/]+\.ipynb$/;

const RUNNER = fileURLToPath(new URL("../../tasks/run_notebook.py", import.meta.url));
const KERNELS_DIR = fileURLToPath(new URL("../../notebooks/kernels", import.meta.url));
const DEBIAN_PACKAGES = "python3-jupyter-client python3-nbformat";

/** Exit status of tasks/run_notebook.py when jupyter_client or nbformat cannot be imported. */
const EXIT_MISSING_PACKAGE = 3;

/**
 * Executes every code cell of a notebook, in order, with the Deno kernel and writes the notebook with its
 * outputs to `output`. The kernel starts in the notebook's folder, so `../lib/...` imports resolve, runs with
 * all permissions (Deno's kernel takes no permission flags) and uses the same `deno` as this process.
 *
 * `output` is replaced atomically and only after every cell ran; a failed run leaves it untouched.
 *
 * @param input Path of the `.ipynb` file to execute.
 * @param output Path for the executed notebook; may equal `input`.
 * @param options Environment, per-cell timeout and interpreter; see {@linkcode ExecuteNotebookOptions}.
 * @throws {Error} When a cell raises or times out: the message names the notebook, the cell number and the
 * error name and value. Also when Python or its Jupyter packages are missing, naming the Debian packages.
 *
 * @example Run the first chapter for the smoke profile
 * ```ts ignore
 * await executeNotebook("notebooks/01_data.ipynb", "figures/smoke/notebooks/01_data.ipynb", {
 *   env: { TRACK2SEQ_PROFILE: "smoke" },
 * });
 * ```
 */
export async function executeNotebook(
  input: string,
  output: string,
  options: ExecuteNotebookOptions = {},
): Promise<void> {
  const settings = { ...DEFAULT_OPTIONS, ...options };
  const args = [
    RUNNER,
    input,
    output,
    "--timeout",
    String(settings.timeoutSeconds),
    "--settle",
    String(settings.settleSeconds),
    "--kernels-dir",
    KERNELS_DIR,
    "--deno",
    Deno.execPath(),
  ];
  const command = new Deno.Command(settings.python, {
    args,
    env: options.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });

  let result: Deno.CommandOutput;
  try {
    result = await command.output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(
        `Executing notebook ${input} failed: ${settings.python} not found. Install Debian's python3 and ` +
          `${DEBIAN_PACKAGES} (apt-get install -y --no-install-recommends python3 ${DEBIAN_PACKAGES}).`,
        { cause: error },
      );
    }
    throw error;
  }

  if (result.success) {
    return;
  }

  const stderr = new TextDecoder().decode(result.stderr);
  if (result.code === EXIT_MISSING_PACKAGE) {
    throw new Error(
      `Executing notebook ${input} failed: ${settings.python} cannot import jupyter_client or nbformat. ` +
        `Install Debian's ${DEBIAN_PACKAGES} (apt-get install -y --no-install-recommends ${DEBIAN_PACKAGES}).`,
    );
  }
  throw new Error(
    runnerMessage(stderr) ?? `Executing notebook ${input} failed with exit code ${result.code}.`,
  );
}

/** Returns the runner's own error report, without the kernel's start-up warnings that precede it. */
function runnerMessage(stderr: string): string | undefined {
  const marker = "run_notebook: ";
  const start = stderr.indexOf(marker);
  if (start < 0) {
    return stderr.trim() || undefined;
  }
  return stderr.slice(start + marker.length).trim();
}

/**
 * Lists the chapter notebooks of a folder, `NN_name.ipynb`, in chapter order.
 *
 * @param dir Folder to list. Default: the repository's `notebooks/`.
 * @returns Absolute or `dir`-relative paths, as `dir` is given, sorted by file name.
 * @throws {Deno.errors.NotFound} When the folder does not exist.
 */
export async function listChapterNotebooks(dir: string = NOTEBOOKS_DIR): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && CHAPTER_PATTERN.test(entry.name)) names.push(entry.name);
  }
  return names.sort().map((name) => join(dir, name));
}

/**
 * Returns where the executed copy of a notebook goes for a profile: the notebook itself for `default`,
 * whose outputs are the ones committed, and `<figuresDir>/notebooks/<name>` for every other profile, so a
 * smoke or experiment run never overwrites them.
 */
export function executedNotebookPath(notebook: string, profile: string, figuresDir: string): string {
  return profile === "default" ? notebook : join(figuresDir, "notebooks", basename(notebook));
}

/** Options of {@linkcode executeNotebooks}: those of {@linkcode executeNotebook}, and reuse. */
export interface ExecuteNotebooksOptions extends ExecuteNotebookOptions {
  /**
   * Skips notebooks whose earlier run is still valid. A notebook is reused when `manifestDir` contains a
   * manifest of it with the same key, and its executed copy exists. The key hashes the notebook's cells
   * (not their outputs) and `inputsKey`, which should hash everything else its outputs depend on, such as
   * the stages' keys and the library sources (see {@linkcode notebookInputsKey}). Default: every notebook
   * runs.
   */
  reuse?: { manifestDir: string; inputsKey: string };
  /** Called before each notebook runs or is reused, such as for a log line. */
  onStart?: (notebook: string, position: number, total: number) => void;
  /** Called after each notebook ran or was reused. */
  onFinish?: (run: NotebookRun) => void;
}

/** The record of one notebook that {@linkcode executeNotebooks} ran or reused. */
export interface NotebookRun {
  input: string;
  output: string;
  /** Seconds the run took; 0 when reused. */
  seconds: number;
  /** True when the earlier executed copy was still valid and the notebook did not run. */
  reused: boolean;
}

/**
 * Executes notebooks one after the other with {@linkcode executeNotebook}, stopping at the first that
 * fails. The notebooks before it keep their new outputs; it and the ones after it are left as they were.
 *
 * @param notebooks Paths of the notebooks, in the order to run them.
 * @param outputOf Where to write the executed copy of each notebook.
 * @param options Passed to every {@linkcode executeNotebook} call, with reuse and a start callback.
 * @returns One record per notebook, in order.
 * @throws {Error} When a notebook fails: the message names its position, the notebook, the cell and the
 * error, and how to rerun.
 */
export async function executeNotebooks(
  notebooks: readonly string[],
  outputOf: (notebook: string) => string,
  options: ExecuteNotebooksOptions = {},
): Promise<NotebookRun[]> {
  const { reuse, onStart, onFinish, ...executeOptions } = options;
  const runs: NotebookRun[] = [];
  for (const [index, notebook] of notebooks.entries()) {
    onStart?.(notebook, index + 1, notebooks.length);
    const output = outputOf(notebook);
    const manifest = reuse && join(reuse.manifestDir, `${basename(notebook, ".ipynb")}.json`);
    const key = reuse && await hashConfig({ cells: await notebookCells(notebook), inputs: reuse.inputsKey });
    if (manifest && key && await isStageFresh(manifest, key) && await exists(output)) {
      runs.push({ input: notebook, output, seconds: 0, reused: true });
      onFinish?.(runs[runs.length - 1]);
      continue;
    }

    const start = performance.now();
    try {
      await executeNotebook(notebook, output, executeOptions);
    } catch (error) {
      throw new Error(
        `Notebook ${index + 1} of ${notebooks.length} failed, so the ones after it did not run. ` +
          `${
            (error as Error).message
          }\nFix the cell, then rerun (the stages before the notebooks are reused).`,
        { cause: error },
      );
    }
    const seconds = (performance.now() - start) / 1000;
    if (manifest && key) {
      await writeJsonAtomic(manifest, {
        stage: `notebook ${basename(notebook)}`,
        key,
        seconds,
        finished_at: new Date().toISOString(),
      });
    }
    runs.push({ input: notebook, output, seconds, reused: false });
    onFinish?.(runs[runs.length - 1]);
  }
  return runs;
}

/**
 * Hashes what the notebooks' outputs depend on besides their cells: the keys of a profile's stage
 * manifests, the sources of the library the notebooks import, and any other value, such as the kernel's
 * environment.
 *
 * @param stagesDir The profile's stage manifests (`data/<profile>/stages`); its subfolders are ignored.
 * @param libraryDir The folder of the library sources, such as the repository's `lib/`; every `.ts` file
 *   below it counts.
 * @param extra Any JSON value that also changes the outputs.
 * @returns A SHA-256 hex digest.
 */
export async function notebookInputsKey(
  stagesDir: string,
  libraryDir: string,
  extra: unknown,
): Promise<string> {
  const stages: Record<string, unknown> = {};
  for (const name of await listFiles(stagesDir, (name) => name.endsWith(".json"), false)) {
    const manifest = JSON.parse(await Deno.readTextFile(join(stagesDir, name))) as { key?: unknown };
    stages[name] = manifest.key;
  }

  const library: Record<string, string> = {};
  for (const name of await listFiles(libraryDir, (name) => name.endsWith(".ts"), true)) {
    library[name] = await hashConfig(await Deno.readTextFile(join(libraryDir, name)));
  }
  return await hashConfig({ stages, library, extra });
}

/** Returns each cell's type and source, the part of a notebook that decides its outputs. */
async function notebookCells(path: string): Promise<[string, string][]> {
  const notebook = JSON.parse(await Deno.readTextFile(path)) as {
    cells?: { cell_type: string; source: string | string[] }[];
  };
  return (notebook.cells ?? []).map((cell) => [
    cell.cell_type,
    Array.isArray(cell.source) ? cell.source.join("") : cell.source,
  ]);
}

/** Lists file names below `dir` (relative, `/`-separated, sorted) that pass `keep`; none when it is missing. */
async function listFiles(
  dir: string,
  keep: (name: string) => boolean,
  recursive: boolean,
): Promise<string[]> {
  const names: string[] = [];
  const visit = async (relative: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(join(dir, relative)));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      throw error;
    }
    for (const entry of entries) {
      const name = relative === "" ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory && recursive) await visit(name);
      else if (entry.isFile && keep(entry.name)) names.push(name);
    }
  };
  await visit("");
  return names.sort();
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
