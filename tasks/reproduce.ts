/**
 * Reruns the whole Track2Seq study headlessly: data, split, training, evaluation, report, notebook.
 *
 * Usage: deno task reproduce [--profile smoke|default] [--mpd DIR] [--backend wasm|cpu|tensorflow] [--force]
 */

import { parseArgs } from "node:util";
import { join, resolve } from "node:path";
import { log, ProgressBar } from "../lib/cli/progress.ts";
import type { BackendName } from "../lib/model/backend.ts";
import { executeNotebook } from "../lib/pipeline/notebooks.ts";
import { getProfile } from "../lib/pipeline/profiles.ts";
import type { StudyReporter } from "../lib/pipeline/reporter.ts";
import { runStudy } from "../lib/pipeline/study.ts";

const HELP = `Usage: deno task reproduce [options]

Runs every stage of the study and writes figures/<profile>/results.json, results.md and
r_precision_by_seed.svg/.png, then executes the study notebook with the Deno kernel.

Options:
  --profile NAME   smoke (a couple of minutes, for CI) or default (the embedded synthetic data,
                   under 30 minutes on 2 cores). Default: default.
  --mpd DIR        read a folder of real MPD slices (mpd.slice.*.json) instead of synthetic data;
                   artifacts go to data/mpd and figures/mpd.
  --backend NAME   TensorFlow.js backend: wasm (default), cpu, or tensorflow (needs
                   @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node installed).
  --epochs N       override the profile's training epochs.
  --softmax KIND   override the profile's training loss: full or sampled (sampled softmax with
                   popularity-drawn negatives and the logQ correction).
  --learning-rate X  override the profile's Adam learning rate.
  --name NAME      write artifacts to data/NAME and figures/NAME instead of the profile's name, so an
                   experiment never overwrites the profile's results.
  --force          rerun every stage even when its earlier output is up to date.
  --no-notebook    skip executing the notebook.
  -h, --help       show this help.
`;

const { values } = parseArgs({
  args: Deno.args,
  options: {
    profile: { type: "string" },
    mpd: { type: "string" },
    backend: { type: "string", default: "wasm" },
    epochs: { type: "string" },
    softmax: { type: "string" },
    "learning-rate": { type: "string" },
    name: { type: "string" },
    force: { type: "boolean", default: false },
    "no-notebook": { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (values.help) {
  console.log(HELP);
  Deno.exit(0);
}
if (values.mpd && values.profile) {
  console.error("Use either --profile or --mpd, not both: --mpd always uses the mpd profile.");
  Deno.exit(2);
}
const backend = values.backend as BackendName;
if (!["wasm", "cpu", "tensorflow"].includes(backend)) {
  console.error(`Invalid --backend "${backend}": use wasm, cpu or tensorflow.`);
  Deno.exit(2);
}

const root = resolve(new URL("..", import.meta.url).pathname);
const config = getProfile(values.mpd ? "mpd" : values.profile ?? "default");
if (values.mpd) config.mpdDir = resolve(values.mpd);
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
  if (values["learning-rate"] !== undefined) {
    const rate = Number(values["learning-rate"]);
    if (!(rate > 0)) fail(`Invalid --learning-rate "${values["learning-rate"]}": use a positive number.`);
    config.training.learningRate = rate;
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
log(`reproduce: profile ${config.name}${config.mpdDir ? ` from ${config.mpdDir}` : " (synthetic data)"}`);
const outcome = await runStudy(config, { root, backend, force: values.force, reporter });
log(`reproduce: results in ${outcome.paths.figuresDir}`);

if (!values["no-notebook"]) {
  // The default profile's executed notebook is the one a reader opens in the repository. Other profiles
  // write theirs beside their figures, so they never overwrite it.
  const notebook = join(root, "notebooks", "track2seq_study.ipynb");
  const output = config.name === "default"
    ? notebook
    : join(outcome.paths.figuresDir, "track2seq_study.ipynb");
  log(`notebook: executing ${notebook}`);
  await executeNotebook(notebook, output, { env: { TRACK2SEQ_PROFILE: config.name } });
  log(`notebook: outputs saved to ${output}`);
}
log(`reproduce: done in ${((performance.now() - start) / 1000).toFixed(0)} s`);
