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

const reporter: StudyReporter = {
  info: (message) => log(message),
  progress: (label, total) => new ProgressBar(label, total),
};

const start = performance.now();
log(`reproduce: profile ${config.name}${config.mpdDir ? ` from ${config.mpdDir}` : " (synthetic data)"}`);
const outcome = await runStudy(config, { root, backend, force: values.force, reporter });
log(`reproduce: results in ${outcome.paths.figuresDir}`);

if (!values["no-notebook"]) {
  // The default profile's executed notebook is the one a reader opens in the repository; other profiles
  // write theirs beside their figures so that they never overwrite it.
  const notebook = join(root, "notebooks", "track2seq_study.ipynb");
  const output = config.name === "default"
    ? notebook
    : join(outcome.paths.figuresDir, "track2seq_study.ipynb");
  log(`notebook: executing ${notebook}`);
  await executeNotebook(notebook, output, { env: { TRACK2SEQ_PROFILE: config.name } });
  log(`notebook: outputs saved to ${output}`);
}
log(`reproduce: done in ${((performance.now() - start) / 1000).toFixed(0)} s`);
