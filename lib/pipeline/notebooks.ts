/**
 * Headless execution of the project's notebooks with the Deno Jupyter kernel.
 * @module
 */

import { fileURLToPath } from "node:url";

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
 * @example Run the study notebook for the smoke profile
 * ```ts ignore
 * await executeNotebook("notebooks/track2seq_study.ipynb", "figures/smoke/track2seq_study.ipynb", {
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
