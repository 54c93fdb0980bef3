/**
 * Writes a RecSys Challenge 2018 submission for a challenge set from a profile's trained artifacts, or
 * builds a challenge-like set with ground truth from the profile's test split.
 *
 * Usage:
 *   deno task submit --challenge FILE --out FILE --team NAME --email ADDRESS [--profile NAME] [--method NAME]
 *   deno task submit --build-challenge FILE [--ground-truth FILE] [--profile NAME]
 * @module
 */

import { parseArgs } from "node:util";
import { resolve } from "node:path";
import type { PopularityRecommender } from "../lib/baselines/popularity.ts";
import {
  buildChallengeSet,
  CHALLENGE_CATEGORIES,
  type ChallengeSet,
  formatSubmission,
  inferCategory,
  parseSubmission,
  readChallengeSet,
  readSubmission,
  recommendChallenge,
  type TeamInfo,
  validateSubmission,
  writeChallengeSet,
  writeGroundTruth,
  writeSubmission,
} from "../lib/challenge/mod.ts";
import { log, ProgressBar } from "../lib/cli/progress.ts";
import type { BackendName } from "../lib/model/backend.ts";
import { loadTrack2Seq, loadTrainedProfile, type TrainedProfile } from "../lib/pipeline/trained_profile.ts";
import type { Recommender } from "../lib/recommender.ts";
import { runMain } from "../lib/cli/run_main.ts";

const HELP = `Usage:
  deno task submit --challenge FILE --out FILE --team NAME --email ADDRESS [options]
  deno task submit --build-challenge FILE [--ground-truth FILE] [options]

Submission mode recommends 500 tracks for every playlist of a challenge set (the official
challenge_set.json, or one built below) with a method trained by "deno task reproduce", writes the
submission CSV (gzipped when FILE ends in .gz), and validates it against the challenge rules. Seed tracks
that the profile's corpus does not contain are skipped and counted. Answers shorter than 500 tracks are
filled from the popularity baseline.

Build mode writes a challenge-like set from the profile's test split (data/<profile>/split.json), with the
ten official categories in equal shares, plus a ground-truth file of the held-out tracks for
"deno task validate-submission SUBMISSION CHALLENGE --score GROUND_TRUTH".

Options:
  --profile NAME        profile whose artifacts to use: data/<profile>/ingested, split.json, model/.
                        Default: default. Real MPD runs use mpd.
  --root DIR            folder that holds data/<profile>/. Default: this repository.
  Submission mode:
  --challenge FILE      challenge set to answer (required)
  --out FILE            submission to write; ends in .gz to gzip it, as the upload needs (required)
  --team NAME           team name for the team_info line (required)
  --email ADDRESS       contact email for the team_info line (required)
  --method NAME         popularity or track2seq. Default: track2seq.
  --backend NAME        TensorFlow.js backend for track2seq: wasm (default), cpu or tensorflow.
  --batch-size N        playlists per recommender call. Default: 64.
  Build mode:
  --build-challenge FILE   challenge set to write
  --ground-truth FILE      ground truth to write. Default: FILE with .json replaced by .ground_truth.json.
  --per-category N         at most N playlists per category. Default: every test playlist.
  --min-holdouts N         tracks each playlist keeps held out beyond its seeds. Default: 1.
  --seed N                 seed of the category draw and the random seed positions. Default: the
                           profile's seed (2018).
  -h, --help            show this help

Round trip on the smoke profile:
  deno task reproduce --profile smoke
  deno task submit --profile smoke --build-challenge data/smoke/challenge/challenge_set.json
  deno task submit --profile smoke --challenge data/smoke/challenge/challenge_set.json \\
    --out data/smoke/challenge/submission.csv.gz --team "my team" --email me@example.org
  deno task validate-submission data/smoke/challenge/submission.csv.gz \\
    data/smoke/challenge/challenge_set.json \\
    --score data/smoke/challenge/challenge_set.ground_truth.json --profile smoke
`;

/** The profile's corpus and split, as the study stages left them, with the split as sorted indices. */
interface StudyArtifacts extends TrainedProfile {
  train: number[];
  evaluation: number[];
  test: number[];
}

/** Options a method needs besides the artifacts. */
interface MethodOptions {
  backend: BackendName;
  /** The repository, whose node_modules holds the native TensorFlow packages. */
  repository: string;
}

/** A recommender ready to use, with the function that releases its resources afterwards. */
interface MethodInstance {
  recommender: Recommender;
  dispose: () => void;
}

/** The methods that submission mode can use, by `--method` name. */
const METHODS: Record<
  string,
  (
    artifacts: StudyArtifacts,
    popularity: PopularityRecommender,
    options: MethodOptions,
  ) => Promise<MethodInstance>
> = {
  popularity: (_artifacts, popularity) => Promise.resolve({ recommender: popularity, dispose: () => {} }),
  track2seq: async (artifacts, _popularity, options) => {
    const loaded = await loadTrack2Seq(artifacts, options).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      throw new Deno.errors.NotFound(`${error.message} Or use --method popularity.`);
    });
    log(
      `track2seq: model from ${artifacts.paths.modelDir}, vocabulary ${artifacts.split.vocabulary.size}, ` +
        `backend ${loaded.backend}`,
    );
    return { recommender: loaded.recommender, dispose: loaded.dispose };
  },
};

function parsePositiveInteger(value: string | undefined, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) {
    throw new RangeError(`Invalid ${option} "${value}": use a non-negative integer.`);
  }
  return number;
}

/** Loads the corpus and split that "deno task reproduce" wrote for the profile. */
async function loadArtifacts(root: string, profile: string): Promise<StudyArtifacts> {
  const started = performance.now();
  const loaded = await loadTrainedProfile(root, profile);
  const { corpus, paths } = loaded;
  log(
    `corpus: ${corpus.playlists.length} playlists, ${corpus.tracks.uri.length} tracks from ` +
      `${paths.ingestedDir}${corpus.synthetic ? " (synthetic data)" : ""} in ` +
      `${((performance.now() - started) / 1000).toFixed(1)} s`,
  );

  const { training, dev, test } = loaded.split.sets;
  const evaluation = [...dev, ...test].sort((a, b) => a - b);
  return { ...loaded, train: training, evaluation, test };
}

async function buildMode(
  root: string,
  profile: string,
  values: Record<string, string | boolean | undefined>,
): Promise<number> {
  const out = resolve(values["build-challenge"] as string);
  const truthPath = resolve(
    (values["ground-truth"] as string | undefined) ?? out.replace(/(\.json)?$/, ".ground_truth.json"),
  );
  const artifacts = await loadArtifacts(root, profile);
  const perCategory = values["per-category"] as string | undefined;

  const minHoldouts = parsePositiveInteger(values["min-holdouts"] as string | undefined, "--min-holdouts", 1);
  const built = buildChallengeSet(artifacts.corpus, artifacts.test, {
    seed: parsePositiveInteger(values.seed as string | undefined, "--seed", artifacts.config.seed),
    minHoldouts,
    playlistsPerCategory: perCategory === undefined
      ? undefined
      : parsePositiveInteger(perCategory, "--per-category", 0),
  });
  await writeChallengeSet(out, built.challenge);
  await writeGroundTruth(truthPath, built.groundTruth);

  log(
    `challenge: ${built.challenge.playlists.length} playlists from ${artifacts.test.length} test playlists`,
  );
  for (const category of CHALLENGE_CATEGORIES) {
    const count = [...built.categoryOf.values()].filter((id) => id === category.id).length;
    log(`  ${String(category.id).padStart(2)}. ${category.label.padEnd(20)} ${count}`);
  }
  const empty = CHALLENGE_CATEGORIES.filter((c) => ![...built.categoryOf.values()].includes(c.id));
  for (const category of empty) {
    log(
      `challenge: category ${category.id} (${category.label}) is empty: too few test playlists have the ` +
        `${category.seeds + minHoldouts} tracks it needs`,
    );
  }
  if (built.skipped.length > 0) {
    log(`challenge: ${built.skipped.length} test playlists left out (too short, or beyond --per-category)`);
  }
  log(`challenge: written to ${out}`);
  log(`ground truth: written to ${truthPath}`);
  return 0;
}

async function submitMode(
  root: string,
  profile: string,
  values: Record<string, string | boolean | undefined>,
): Promise<number> {
  for (const option of ["challenge", "out", "team", "email"]) {
    if (values[option] === undefined) {
      console.error(`Missing --${option}.\n\n${HELP}`);
      return 2;
    }
  }
  const methodName = (values.method as string | undefined) ?? "track2seq";
  const makeMethod = METHODS[methodName];
  if (!makeMethod) {
    console.error(`Invalid --method "${methodName}": use one of ${Object.keys(METHODS).join(", ")}.`);
    return 2;
  }
  const backend = ((values.backend as string | undefined) ?? "wasm") as BackendName;
  if (!["wasm", "cpu", "tensorflow"].includes(backend)) {
    console.error(`Invalid --backend "${backend}": use wasm, cpu or tensorflow.`);
    return 2;
  }
  const batchSize = parsePositiveInteger(values["batch-size"] as string | undefined, "--batch-size", 64);
  const team = { name: values.team as string, email: values.email as string };
  const teamProblem = checkTeam(team);
  if (teamProblem) {
    console.error(`Invalid --team or --email: ${teamProblem.replace(/\.$/, "")}.`);
    return 2;
  }
  const out = resolve(values.out as string);

  const challengePath = resolve(values.challenge as string);
  const challenge = await readChallengeSet(challengePath);
  log(
    `challenge: ${challenge.playlists.length} playlists from ${challengePath} (${
      describeCategories(challenge)
    })`,
  );

  const artifacts = await loadArtifacts(root, profile);
  const popularity = artifacts.popularity;
  const repository = resolve(new URL("..", import.meta.url).pathname);
  const method = await makeMethod(artifacts, popularity, { backend, repository });

  const started = performance.now();
  const progress = new ProgressBar(`recommend ${methodName}`, challenge.playlists.length);
  let made;
  try {
    made = await recommendChallenge(challenge, artifacts.corpus, method.recommender, popularity, {
      batchSize: Math.max(1, batchSize),
      onProgress: (done) => progress.update(done),
    });
  } finally {
    progress.finish();
    method.dispose();
  }
  log(
    `recommend: ${challenge.playlists.length} playlists in ${
      ((performance.now() - started) / 1000).toFixed(1)
    } s`,
  );
  if (made.unknownSeeds > 0) {
    log(
      `recommend: ${made.unknownSeeds} seed tracks in ${made.playlistsWithUnknownSeeds} playlists are not in the ` +
        `corpus and were skipped`,
    );
  }
  if (made.filledPlaylists > 0) {
    log(`recommend: ${made.filledTracks} tracks in ${made.filledPlaylists} playlists filled from popularity`);
  }

  const comments = [
    `Track2Seq re-implementation, method ${methodName}, profile ${artifacts.config.name}`,
    `challenge ${challengePath} (version ${challenge.version}, date ${challenge.date})`,
  ];
  if (artifacts.corpus.synthetic) comments.push("SYNTHETIC: trained on synthetic playlists, not the MPD");
  await writeSubmission(out, team, made.rows, { comments });
  log(`submission: written to ${out}${out.endsWith(".gz") ? " (gzipped)" : ""}`);

  const violations = validateSubmission(await readSubmission(out), challenge);
  if (violations.length > 0) {
    for (const violation of violations.slice(0, 20)) {
      console.error(`line ${violation.line ?? "-"}: ${violation.rule}: ${violation.message}`);
    }
    console.error(
      `submission: INVALID, ${violations.length} violation${violations.length === 1 ? "" : "s"}. Run ` +
        `"deno task validate-submission ${out} ${challengePath}" to list all of them.`,
    );
    return 1;
  }
  log(`submission: valid (${made.rows.length} playlists, 500 tracks each)`);
  return 0;
}

/** Checks the team line before the long work, so a typo does not cost a whole run. */
function checkTeam(team: TeamInfo): string | undefined {
  try {
    return parseSubmission(formatSubmission(team, [])).teamProblem;
  } catch (error) {
    if (error instanceof RangeError) return error.message;
    throw error;
  }
}

function describeCategories(challenge: ChallengeSet): string {
  const counts = new Map<string, number>();
  for (const playlist of challenge.playlists) {
    const id = inferCategory(playlist);
    const key = id === undefined ? "other" : `category ${id}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].sort(([a], [b]) => a.localeCompare(b, "en", { numeric: true }))
    .map(([key, count]) => `${key}: ${count}`).join(", ");
}

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      profile: { type: "string" },
      root: { type: "string" },
      challenge: { type: "string" },
      out: { type: "string" },
      team: { type: "string" },
      email: { type: "string" },
      method: { type: "string" },
      backend: { type: "string" },
      "batch-size": { type: "string" },
      "build-challenge": { type: "string" },
      "ground-truth": { type: "string" },
      "per-category": { type: "string" },
      "min-holdouts": { type: "string" },
      seed: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }

  const root = resolve(values.root ?? new URL("..", import.meta.url).pathname);
  const profile = values.profile ?? "default";
  if (values["build-challenge"] !== undefined) {
    if (values.challenge !== undefined || values.out !== undefined) {
      console.error("Use either --build-challenge or --challenge/--out, not both: build first, then submit.");
      return 2;
    }
    return await buildMode(root, profile, values);
  }
  return await submitMode(root, profile, values);
}

if (import.meta.main) await runMain(main);
