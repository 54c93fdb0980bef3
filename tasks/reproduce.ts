/**
 * Reruns the whole Track2Seq study headlessly: data, split, training, evaluation, report, then the chapter
 * notebooks.
 *
 * Usage: deno task reproduce [--profile smoke|default] [--mpd DIR] [--backend wasm|cpu|tensorflow|webgpu|auto]
 *        [--tables heap|host] [--force]
 */

import { parseArgs } from "node:util";
import { join, resolve } from "node:path";
import { log, ProgressBar } from "../lib/cli/progress.ts";
import { type BackendSelection, chooseBackend, describeSelection } from "../lib/model/auto_backend.ts";
import { type BackendName, parseBackendChoice, selectBackend } from "../lib/model/backend.ts";
import {
  executedNotebookPath,
  executeNotebooks,
  listChapterNotebooks,
  notebookInputsKey,
} from "../lib/pipeline/notebooks.ts";
import { getProfile, type StudyConfig } from "../lib/pipeline/profiles.ts";
import type { StudyReporter } from "../lib/pipeline/reporter.ts";
import { describeRun, runStudy } from "../lib/pipeline/study.ts";

const HELP = `Usage: deno task reproduce [options]

Runs every stage of the study and writes figures/<profile>/results.json, results.md and
the figures (SVG and PNG), then executes the chapter notebooks notebooks/NN_*.ipynb in order with
the Deno kernel. The default profile saves their outputs into notebooks/; other profiles write the
executed copies to figures/<profile>/notebooks/.

Options:
  --profile NAME   smoke (a couple of minutes, for CI) or default (the embedded synthetic data,
                   under 30 minutes on 2 cores). Default: default.
  --mpd DIR        read a folder of real MPD slices (mpd.slice.*.json) instead of synthetic data;
                   artifacts go to data/mpd and figures/mpd.
  --backend NAME   TensorFlow.js backend: wasm (default), cpu, tensorflow (needs
                   @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node installed), webgpu (a
                   hardware WebGPU adapter that passes a numeric self-test), or auto: the fastest
                   backend that passes its self-test and a short timed probe, printed with the
                   reasons. The backend used is recorded in the training manifest.
  --epochs N       override the profile's training epochs.
  --softmax KIND   override the profile's training loss: full or sampled (sampled softmax with
                   popularity-drawn negatives and the logQ correction).
  --learning-rate X  override the profile's Adam learning rate.
  --tables WHERE   where the embedding and output tables live: heap (the wasm heap, dense Adam,
                   up to about 200,000 tracks; the default) or host (JavaScript memory, 3,084
                   bytes per track, only the rows of each batch uploaded and updated with sparse
                   Adam), for vocabularies too large for the wasm heap. host needs the sampled
                   softmax (--softmax sampled, the default profile's). host is recorded in
                   the training manifest, data/<profile>/training.json.
  --stride N       tokens between the starts of consecutive training windows (1 to the window,
                   50); the original study used 5. Default: the window, so windows do not overlap.
  --prediction MODE  guided prediction: fully (a random seed per step, the default) or semi (the
                   model's best pick and the next seed in turn).
  --thesis-compatible  reproduce the original code's prediction faults for comparison: a top-k that
                   grows with the step, a semi-guided seed pointer stuck at the first seed with an
                   arbitrary top-k pick, and no recommendations for playlists without known seeds.
  --name NAME      write artifacts to data/NAME and figures/NAME instead of the profile's name, so an
                   experiment never overwrites the profile's results.
  --force          rerun every stage and notebook even when its earlier output is up to date.
  --no-notebook    skip executing the notebooks.
  -h, --help       show this help.
`;

const values = parseOptions();

/** Parses the command line, or exits with the parser's message and a pointer to --help. */
function parseOptions() {
  try {
    return parseArgs({
      args: Deno.args,
      options: {
        profile: { type: "string" },
        mpd: { type: "string" },
        backend: { type: "string", default: "wasm" },
        epochs: { type: "string" },
        softmax: { type: "string" },
        "learning-rate": { type: "string" },
        tables: { type: "string" },
        stride: { type: "string" },
        prediction: { type: "string" },
        "thesis-compatible": { type: "boolean", default: false },
        name: { type: "string" },
        force: { type: "boolean", default: false },
        "no-notebook": { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }).values;
  } catch (error) {
    console.error(`${(error as Error).message}. Run deno task reproduce --help for the options.`);
    Deno.exit(2);
  }
}

if (values.help) {
  console.log(HELP);
  Deno.exit(0);
}
if (values.mpd && values.profile) {
  console.error("Use either --profile or --mpd, not both: --mpd always uses the mpd profile.");
  Deno.exit(2);
}
let backendChoice;
try {
  backendChoice = parseBackendChoice(values.backend);
} catch (error) {
  console.error((error as Error).message);
  Deno.exit(2);
}
if (values.tables !== undefined && values.tables !== "heap" && values.tables !== "host") {
  console.error(`Invalid --tables "${values.tables}": use heap or host.`);
  Deno.exit(2);
}

const root = resolve(new URL("..", import.meta.url).pathname);
let config: StudyConfig;
try {
  config = getProfile(values.mpd ? "mpd" : values.profile ?? "default");
} catch (error) {
  console.error((error as Error).message);
  Deno.exit(2);
}
if (values.mpd) config.mpdDir = resolve(values.mpd);
// --name replaces config.name, which names the run's folders, so the profile's own name is kept for the log.
const profileName = config.name;
applyOverrides();

/** Applies the command-line overrides of the profile, exiting with a message on an invalid value. */
function applyOverrides(): void {
  const fail = (message: string): never => {
    console.error(message);
    Deno.exit(2);
  };
  if (values.epochs !== undefined) {
    const epochs = Number(values.epochs);
    if (!Number.isInteger(epochs) || epochs < 1) {
      fail(`Invalid --epochs "${values.epochs}": use a whole number >= 1.`);
    }
    config.training.epochs = epochs;
  }
  if (values.softmax !== undefined) {
    if (values.softmax !== "full" && values.softmax !== "sampled") {
      fail(`Invalid --softmax "${values.softmax}": use full or sampled.`);
    }
    config.training.softmax = values.softmax as "full" | "sampled";
  }
  if (values.stride !== undefined) {
    const stride = Number(values.stride);
    if (!Number.isInteger(stride) || stride < 1 || stride > config.training.window) {
      fail(`Invalid --stride "${values.stride}": use a whole number from 1 to ${config.training.window}.`);
    }
    config.training.stride = stride;
  }
  if (values.prediction !== undefined) {
    if (values.prediction !== "fully" && values.prediction !== "semi") {
      fail(`Invalid --prediction "${values.prediction}": use fully or semi.`);
    }
    config.prediction.mode = values.prediction as "fully" | "semi";
  }
  if (values["thesis-compatible"]) config.prediction.thesisCompatible = true;
  if (values["learning-rate"] !== undefined) {
    const rate = Number(values["learning-rate"]);
    if (!(rate > 0)) fail(`Invalid --learning-rate "${values["learning-rate"]}": use a positive number.`);
    config.training.learningRate = rate;
  }
  if (values.tables !== undefined) {
    // An unset field means heap, so heap is stored only over a profile that sets host. The training stage's
    // key hashes the settings, so --tables heap keeps the key, and the cached model, of a run without it.
    if (values.tables === "host" || config.training.tables !== undefined) {
      config.training.tables = values.tables as "heap" | "host";
    }
  }
  if (config.training.tables === "host" && config.training.softmax !== "sampled") {
    const source = values.tables === undefined
      ? `Profile ${config.name} sets tables "host"`
      : `Invalid --tables "host"`;
    fail(
      `${source}: host tables train only with the sampled softmax, and this run uses softmax ` +
        `"${config.training.softmax}". Add --softmax sampled, or use --tables heap.`,
    );
  }
  if (values.name !== undefined) {
    if (!/^[A-Za-z0-9_-]+$/.test(values.name)) {
      fail(`Invalid --name "${values.name}": use letters, digits, "-" and "_" only.`);
    }
    config.name = values.name;
  }
}

const reporter: StudyReporter = {
  info: (message) => log(message),
  progress: (label, total) => new ProgressBar(label, total),
};

const start = performance.now();
log(`reproduce: ${describeRun(profileName, config)}`);

// A missing native backend is reported before any stage runs, not after generation and ingestion. `auto` is
// resolved here, so the stages, their keys and the manifest see the backend actually used.
let backend: BackendName;
let backendSelection: BackendSelection | undefined;
if (backendChoice === "auto") {
  backendSelection = await chooseBackend({
    projectRoot: root,
    probe: {
      softmax: config.training.softmax,
      batchSize: config.training.batchSize,
      window: config.training.window,
    },
  }).catch(exitWithError);
  for (const line of describeSelection(backendSelection)) log(line);
  backend = backendSelection.backend;
} else {
  backend = backendChoice;
  await selectBackend(backend, root).catch(exitWithError);
}
const outcome = await runStudy(config, { root, backend, backendSelection, force: values.force, reporter })
  .catch(exitWithError);
log(`reproduce: results in ${outcome.paths.figuresDir}`);

/** Prints an expected failure (bad input, a missing package) as one message, without a stack trace. */
function exitWithError(error: unknown): never {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  console.error(`reproduce failed: ${message}`);
  if (Deno.env.get("TRACK2SEQ_DEBUG") && error instanceof Error) console.error(error.stack);
  Deno.exit(1);
}

if (values["no-notebook"]) {
  log(
    `notebooks: skipped (--no-notebook); executed notebooks of profile ${config.name} may describe an ` +
      `earlier run`,
  );
} else {
  // The default profile's executed notebooks are the ones a reader opens in the repository. Other profiles
  // write theirs under their figures folder, so they never overwrite them.
  const notebooks = await listChapterNotebooks(join(root, "notebooks"));
  const env = { TRACK2SEQ_PROFILE: config.name, TRACK2SEQ_BACKEND: backend };
  // A notebook reruns when its cells, a stage's key, a library source or the kernel's environment changed.
  const reuse = values.force ? undefined : {
    manifestDir: join(outcome.paths.stagesDir, "notebooks"),
    inputsKey: await notebookInputsKey(outcome.paths.stagesDir, join(root, "lib"), env),
  };
  try {
    await executeNotebooks(
      notebooks,
      (notebook) => executedNotebookPath(notebook, config.name, outcome.paths.figuresDir),
      {
        env,
        reuse,
        onStart: (notebook, position, total) => log(`notebooks: ${position} of ${total}, ${notebook}`),
        onFinish: (run) =>
          log(
            `notebooks: ${run.reused ? "up to date, reusing" : "wrote"} ${run.output}` +
              (run.reused ? "" : ` in ${run.seconds.toFixed(1)} s`),
          ),
      },
    );
  } catch (error) {
    console.error(`notebooks: ${(error as Error).message}`);
    Deno.exit(1);
  }
}
log(`reproduce: done in ${((performance.now() - start) / 1000).toFixed(0)} s`);
