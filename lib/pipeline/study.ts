/**
 * The whole study as stages: generate (synthetic profiles only), ingest, split, train, evaluate, report.
 *
 * Each stage records a manifest keyed by the hash of its configuration and of the stages before it, so a
 * rerun with nothing changed reuses the earlier outputs, and a changed parameter reruns only what depends
 * on it.
 * @module
 */

import { join, resolve } from "node:path";
import type { Corpus } from "../data/corpus.ts";
import { ingestMpd } from "../data/ingest.ts";
import { describeIngestReport } from "../data/ingest_summary.ts";
import { loadCorpus } from "../data/load.ts";
import {
  countTracks,
  describeStrata,
  type EvaluationCase,
  seedBuckets,
  type Split,
  splitCorpus,
} from "../data/split.ts";
import { buildVocabulary, tokenStream, type Vocabulary } from "../data/vocabulary.ts";
import { PopularityRecommender } from "../baselines/popularity.ts";
import { fitW2v } from "../baselines/w2v.ts";
import { fitWmf } from "../baselines/wmf.ts";
import type { CwvaRecommender } from "../cwva/cwva.ts";
import { Track2SeqCwvaRecommender } from "../cwva/track2seq_cwva.ts";
import { evaluateRecommender } from "../eval/evaluate.ts";
import { formatResultsMarkdown } from "../eval/report.ts";
import type { MethodResults, StudyResults } from "../eval/results.ts";
import type { BackendSelection } from "../model/auto_backend.ts";
import { type BackendName, selectBackend } from "../model/backend.ts";
import { loadCheckpoint, saveCheckpoint } from "../model/checkpoint.ts";
import { trainTrack2Seq } from "../model/train.ts";
import { loadLatestCheckpoint } from "../model/training_checkpoints.ts";
import { SYNTHETIC_MPD_VERSION, writeSyntheticMpd } from "../mpd/generate.ts";
import { writeStudyFigures } from "../plots/study_figures.ts";
import { DEFAULT_GUIDED_OPTIONS } from "../predict/guided_options.ts";
import { Track2SeqRecommender } from "../predict/track2seq_recommender.ts";
import type { Recommender } from "../recommender.ts";
import { hashConfig, isStageFresh, readJsonIfExists, writeFileAtomic, writeJsonAtomic } from "./artifacts.ts";
import { type SplitArtifact, type StudyPaths, studyPaths } from "./paths.ts";
import type { StudyConfig } from "./profiles.ts";
import { SILENT_REPORTER, type StudyReporter } from "./reporter.ts";
import { fitStudyCwva } from "./trained_profile.ts";

/** Options of {@linkcode runStudy}. */
export interface RunStudyOptions {
  /** Repository root; artifacts go to `data/` and `figures/` below it. Default: the working folder. */
  root?: string;
  /** TensorFlow.js backend. Default `wasm`. Resolve `auto` with `chooseBackend` first. */
  backend?: BackendName;
  /** The choice of `--backend auto` that picked `backend`, recorded in the training manifest. Default: none. */
  backendSelection?: BackendSelection;
  /** Rerun every stage even when its earlier output matches. Default false. */
  force?: boolean;
  reporter?: StudyReporter;
}

/** The outcome of {@linkcode runStudy}. */
export interface StudyOutcome {
  paths: StudyPaths;
  results: StudyResults;
  /** Names of the stages that ran; the others were reused. */
  ran: string[];
}

/**
 * Describes a run for its first log line: the profile whose settings it uses, the run name when `--name`
 * gave another one, and the input, such as "profile smoke, run name trial (synthetic data)".
 *
 * @param profileName The name of the profile that `config` came from.
 * @param config The run's configuration, whose `name` is the run name.
 */
export function describeRun(profileName: string, config: StudyConfig): string {
  const runName = config.name === profileName ? "" : `, run name ${config.name}`;
  const input = config.mpdDir ? ` from ${config.mpdDir}` : " (synthetic data)";
  return `profile ${profileName}${runName}${input}`;
}

/** The train stage's explanation of its two losses, printed when it trains with the sampled softmax. */
export const SAMPLED_LOSS_NOTE =
  "the training loss is the sampled-softmax loss, over the true track and the " +
  "sampled negatives only. The dev loss is the full-softmax loss over the whole vocabulary, so the two " +
  "are not comparable";

/**
 * Describes the softmax and the table storage of a training configuration, such as "sampled softmax with
 * 1000 negatives, tables host (JavaScript memory)".
 */
export function describeTrainingSetup(training: StudyConfig["training"]): string {
  const softmax = training.softmax === "sampled"
    ? `sampled softmax with ${training.sampledNegatives} negatives`
    : "full softmax";
  const tables = training.tables === "host"
    ? "tables host (JavaScript memory)"
    : "tables heap (TensorFlow.js variables)";
  return `${softmax}, ${tables}`;
}

/** Runs every stage of the study for one configuration, reusing fresh outputs. */
export async function runStudy(config: StudyConfig, options: RunStudyOptions = {}): Promise<StudyOutcome> {
  const root = options.root ?? Deno.cwd();
  const reporter = options.reporter ?? SILENT_REPORTER;
  const backend = options.backend ?? "wasm";
  const paths = studyPaths(root, config.name);
  const ran: string[] = [];
  const stageFile = (stage: string) => join(paths.stagesDir, `${stage}.json`);

  const runStage = async (stage: string, key: string, body: () => Promise<void>): Promise<void> => {
    if (!options.force && await isStageFresh(stageFile(stage), key)) {
      reporter.info(`${stage}: up to date, reusing ${config.name} artifacts`);
      return;
    }
    reporter.info(`${stage}: running`);
    const start = performance.now();
    await body();
    const seconds = (performance.now() - start) / 1000;
    await writeJsonAtomic(stageFile(stage), { stage, key, seconds, finished_at: new Date().toISOString() });
    reporter.info(`${stage}: done in ${seconds.toFixed(1)} s`);
    ran.push(stage);
  };

  // 1. Input: generated synthetic slices, or a real MPD folder named by the user.
  let input: string;
  let inputKey: string;
  if (config.mpdDir) {
    input = resolve(config.mpdDir);
    inputKey = await hashConfig({ stage: "input", files: await describeInput(input) });
  } else {
    input = paths.mpdDir;
    inputKey = await hashConfig({
      stage: "generate",
      playlists: config.playlists,
      seed: config.seed,
      version: SYNTHETIC_MPD_VERSION,
    });
    await runStage("generate", inputKey, async () => {
      await Deno.remove(paths.mpdDir, { recursive: true }).catch(() => {});
      const progress = reporter.progress("generate", config.playlists);
      let done = 0;
      await writeSyntheticMpd(paths.mpdDir, { playlists: config.playlists, seed: config.seed }, (slice) => {
        done += slice.playlists;
        progress.update(done);
      });
      progress.finish();
    });
  }

  // 2. Ingestion into Parquet.
  const ingestKey = await hashConfig({ stage: "ingest", input: inputKey });
  await runStage("ingest", ingestKey, async () => {
    let progress: ReturnType<StudyReporter["progress"]> | undefined;
    const report = await ingestMpd(input, paths.ingestedDir, {
      onProgress: (event) => {
        if (event.stage !== "read") return;
        progress ??= reporter.progress("ingest", event.filesTotal);
        progress.update(event.filesDone, `${event.playlists} playlists${event.reused ? " (resumed)" : ""}`);
      },
    });
    progress?.finish();
    for (const line of describeIngestReport(report)) reporter.info(`ingest: ${line}`);
  });

  let corpus: Corpus | undefined;
  const getCorpus = async () => corpus ??= await loadCorpus(paths.ingestedDir);

  // 3. Split, vocabulary and seed buckets.
  const splitConfig = { seed: config.seed, devSize: config.devSize, testSize: config.testSize };
  const splitKey = await hashConfig({ stage: "split", ingest: ingestKey, ...splitConfig });
  let split: Split | undefined;
  const getSplit = async () => split ??= splitCorpus(await getCorpus(), splitConfig);
  await runStage("split", splitKey, async () => {
    const c = await getCorpus();
    const s = await getSplit();
    const vocabulary = buildVocabulary(c, s.train, [...s.dev, ...s.test]);
    const cases = seedBuckets(c, s.test);
    const artifact: SplitArtifact = {
      train: s.train.length,
      dev: s.dev.map((i) => c.playlists[i].pid),
      test: s.test.map((i) => c.playlists[i].pid),
      seed_counts: Object.fromEntries(cases.map((e) => [String(e.pid), e.bucket])),
      short_of_bucket: cases.filter((e) => e.seeds.length < e.bucket).length,
      vocabulary_size: vocabulary.size,
      strata_features: s.strataFeatures,
      strata_missing: s.strataMissing,
      eligible: s.eligible,
    };
    await writeJsonAtomic(paths.splitFile, artifact);
    reporter.info(
      `split: ${s.train.length} train, ${s.dev.length} dev, ${s.test.length} test playlists ` +
        `(${s.eligible} eligible); strata on ${describeStrata(s)}; vocabulary ${vocabulary.size}`,
    );
    if (artifact.short_of_bucket > 0) {
      reporter.info(
        `split: ${artifact.short_of_bucket} test playlists are not longer than their bucket's seed count ` +
          `and keep all but their last track as seeds`,
      );
    }
  });

  let vocabulary: Vocabulary | undefined;
  const getVocabulary = async () => {
    const s = await getSplit();
    return vocabulary ??= buildVocabulary(await getCorpus(), s.train, [...s.dev, ...s.test]);
  };

  // 4. Track2Seq training.
  const trainKey = await hashConfig({ stage: "train", split: splitKey, training: config.training, backend });
  await runStage("train", trainKey, async () => {
    const c = await getCorpus();
    const s = await getSplit();
    const v = await getVocabulary();
    const backendName = await selectBackend(backend, root, {
      workload: {
        vocabSize: v.size,
        batchSize: config.training.batchSize,
        window: config.training.window,
        softmax: config.training.softmax,
        sampledNegatives: config.training.sampledNegatives,
        predictionBatch: TRACK2SEQ_PREDICTION_BATCH,
      },
    });
    const trainTokens = tokenStream(c, s.train, v);
    const devTokens = tokenStream(c, s.dev, v);
    reporter.info(
      `train: ${trainTokens.length} training tokens, ${devTokens.length} dev tokens, vocabulary ${v.size}, ` +
        `backend ${backendName}, ${describeTrainingSetup(config.training)}`,
    );
    if (config.training.softmax === "sampled") reporter.info(`train: ${SAMPLED_LOSS_NOTE}`);

    // Checkpoints every 100 steps (about 90 s of the default profile on 2 cores), tagged with this stage's
    // key, let a killed run resume where it stopped.
    const checkpointDir = join(paths.dataDir, "train_checkpoints");
    let resumeFrom = options.force ? undefined : await loadLatestCheckpoint(checkpointDir);
    if (resumeFrom?.metadata?.train_key !== trainKey) {
      resumeFrom?.model.dispose();
      resumeFrom?.optimizer?.dispose();
      resumeFrom = undefined;
      await Deno.remove(checkpointDir, { recursive: true }).catch(() => {});
    } else {
      reporter.info(`train: resuming from step ${resumeFrom.step}, saved in ${checkpointDir}`);
    }

    let progress: ReturnType<StudyReporter["progress"]> | undefined;
    const start = performance.now();
    const trained = await trainTrack2Seq(trainTokens, v.size, {
      ...config.training,
      seed: config.seed,
      devTokens,
      resumeFrom,
      checkpointDir,
      checkpointEvery: 100,
      checkpointMetadata: { train_key: trainKey },
    }, (event) => {
      progress ??= reporter.progress("train", event.totalSteps);
      const dev = event.devLoss === undefined ? "" : ` dev ${event.devLoss.toFixed(3)}`;
      const loss = config.training.softmax === "sampled" ? "sampled loss" : "loss";
      progress.update(
        event.step,
        `${loss} ${event.loss.toFixed(3)}${dev} ${event.tokensPerSecond.toFixed(0)} tok/s`,
      );
    });
    progress?.finish();
    const seconds = (performance.now() - start) / 1000;

    await saveCheckpoint(trained.model, paths.modelDir, {
      optimizer: trained.optimizer,
      tableOptimizer: trained.tableOptimizer,
      step: trained.step,
      options: { ...trained.options },
      metadata: { vocabulary_size: v.size, profile: config.name },
    });
    await writeJsonAtomic(paths.trainingFile, {
      history: trained.history,
      dev: trained.devHistory,
      tokens_per_second: trained.tokensPerSecond,
      seconds,
      backend: backendName,
      ...backendSelectionRecord(options.backendSelection),
      training_tokens: trainTokens.length,
      config: config.training,
    });
    trained.model.dispose();
    trained.optimizer.dispose();
    await Deno.remove(checkpointDir, { recursive: true });
  });

  // 5. Evaluation of each method on the test playlists, each method a stage of its own so that retraining
  // Track2Seq does not refit the baselines.
  let models: MethodModels | undefined;
  const getModels = async () =>
    models ??= new MethodModels(await getCorpus(), await getSplit(), await getVocabulary(), config, {
      modelDir: paths.modelDir,
      backend,
      root,
      reporter,
    });
  const methodKeys: Record<string, string> = {};
  for (const method of config.methods) {
    const spec = METHODS[method];
    if (!spec) {
      throw new RangeError(
        `Unknown method "${method}" in profile ${config.name}: use one of ${
          Object.keys(METHODS).join(", ")
        }.`,
      );
    }
    const dependsOn = spec.usesTrack2Seq ? trainKey : splitKey;
    const key = await hashConfig({
      stage: `evaluate ${method}`,
      input: dependsOn,
      prediction: spec.usesTrack2Seq ? config.prediction : null,
      options: config.baselines?.[method as keyof StudyConfig["baselines"]] ?? null,
      seed: config.seed,
      ...(spec.revision === undefined ? {} : { revision: spec.revision }),
    });
    methodKeys[method] = key;
    await runStage(`evaluate ${method}`, key, async () => {
      const c = await getCorpus();
      const cases = seedBuckets(c, (await getSplit()).test);
      const recommender = await spec.build(await getModels());
      const progress = reporter.progress(`evaluate ${method}`, cases.length);
      const { results, scores } = await evaluateRecommender(recommender, cases, {
        batchSize: 64,
        onProgress: (done) => progress.update(done),
      });
      progress.finish();
      await writeJsonAtomic(join(paths.methodsDir, `${method}.json`), { method, results, scores });
      reporter.info(
        `evaluate ${method}: R-precision ${results.bucket_mean.r_precision.toFixed(4)} (mean over buckets)`,
      );
    });
  }
  models?.dispose();

  // 6. The report over all methods.
  const reportKey = await hashConfig({ stage: "report", methods: methodKeys });
  await runStage("report", reportKey, async () => {
    const methods: Record<string, MethodResults> = {};
    for (const method of config.methods) {
      const saved = await readJsonIfExists<{ results: MethodResults }>(
        join(paths.methodsDir, `${method}.json`),
      );
      if (!saved) throw new Error(`Reading the results of ${method} failed: rerun with --force.`);
      methods[method] = saved.results;
    }
    const c = await getCorpus();
    const notes: string[] = [];
    const splitArtifact = await readJsonIfExists<SplitArtifact>(paths.splitFile);
    if (splitArtifact && splitArtifact.short_of_bucket > 0) {
      notes.push(
        `${splitArtifact.short_of_bucket} of ${splitArtifact.test.length} test playlists are not longer than ` +
          `their bucket's seed count, so they keep all but their last track as seeds and have one ` +
          `ground-truth track; R-precision then counts only a hit at rank 1. This mostly affects the ` +
          `100-seed bucket, because eligible test playlists (every track also in training) tend to be short.`,
      );
    }
    const results: StudyResults = {
      profile: config.name,
      synthetic: c.synthetic,
      created_at: new Date().toISOString(),
      methods,
      source: c.synthetic ? "synthetic playlists from this project's seeded generator" : c.source,
      notes,
    };
    await writeReport(results, paths);
  });

  const results = await readJsonIfExists<StudyResults>(paths.resultsFile);
  if (!results) {
    throw new Error(`Reading ${paths.resultsFile} failed: it is missing. Rerun with --force.`);
  }
  return { paths, results, ran };
}

/** The data and the fitted models that the method builders share, each built at most once. */
class MethodModels {
  readonly corpus: Corpus;
  readonly split: Split;
  readonly vocabulary: Vocabulary;
  readonly config: StudyConfig;
  readonly #options: { modelDir: string; backend: BackendName; root: string; reporter: StudyReporter };
  #popularity?: PopularityRecommender;
  #track2seq?: { recommender: Track2SeqRecommender; model: { dispose(): void } };
  #cwva?: CwvaRecommender;

  constructor(
    corpus: Corpus,
    split: Split,
    vocabulary: Vocabulary,
    config: StudyConfig,
    options: { modelDir: string; backend: BackendName; root: string; reporter: StudyReporter },
  ) {
    this.corpus = corpus;
    this.split = split;
    this.vocabulary = vocabulary;
    this.config = config;
    this.#options = options;
  }

  popularity(): PopularityRecommender {
    return this.#popularity ??= new PopularityRecommender(countTracks(this.corpus, this.split.train));
  }

  async track2seq(): Promise<Track2SeqRecommender> {
    if (!this.#track2seq) {
      await selectBackend(this.#options.backend, this.#options.root, {
        workload: { vocabSize: this.vocabulary.size, predictionBatch: TRACK2SEQ_PREDICTION_BATCH },
      });
      const { model, optimizer } = await loadCheckpoint(this.#options.modelDir);
      optimizer?.dispose();
      const recommender = new Track2SeqRecommender(model, this.vocabulary, this.popularity(), {
        steps: this.config.prediction.steps,
        topK: this.config.prediction.topK,
        mode: this.config.prediction.mode,
        thesisCompatible: this.config.prediction.thesisCompatible,
        seed: this.config.seed,
      });
      this.#track2seq = { recommender, model };
    }
    return this.#track2seq.recommender;
  }

  cwva(): CwvaRecommender {
    if (this.#cwva) return this.#cwva;
    this.#options.reporter.info("cwva: learning title word vectors from the training playlists");
    return this.#cwva = fitStudyCwva(this.corpus, this.split.train, this.config, this.popularity());
  }

  dispose(): void {
    this.#track2seq?.model.dispose();
  }
}

/**
 * The builder of each method of the study, and whether it needs the trained Track2Seq model. `revision`
 * enters the method's stage key, so raising it after a change to the method's code reruns its stage on the
 * next reproduce.
 */
const METHODS: Record<
  string,
  { usesTrack2Seq: boolean; revision?: number; build(models: MethodModels): Promise<Recommender> }
> = {
  popularity: { usesTrack2Seq: false, build: (m) => Promise.resolve(m.popularity()) },
  wmf: {
    usesTrack2Seq: false,
    build: (m) =>
      Promise.resolve(fitWmf(m.corpus, m.split.train, {
        seed: m.config.seed,
        ...m.config.baselines?.wmf,
        fallback: m.popularity(),
      })),
  },
  w2v: {
    usesTrack2Seq: false,
    // Revision 2: skip-gram pairs update in a WebAssembly SIMD kernel, in float32 throughout.
    revision: 2,
    build: (m) =>
      fitW2v(m.corpus, m.split.train, {
        seed: m.config.seed,
        ...m.config.baselines?.w2v,
        fallback: m.popularity(),
      }),
  },
  // Revision 2 of the CWVA methods: their title vectors train with the same SIMD kernel as w2v.
  cwva: { usesTrack2Seq: false, revision: 2, build: (m) => Promise.resolve(m.cwva()) },
  track2seq: { usesTrack2Seq: true, build: (m) => m.track2seq() },
  track2seq_cwva: {
    usesTrack2Seq: true,
    revision: 2,
    build: async (m) => new Track2SeqCwvaRecommender(await m.track2seq(), m.cwva()),
  },
};

/**
 * Writes `results.json`, `results.md` and every study figure of a profile (`STUDY_FIGURES`, as SVG and
 * PNG), reading the other stages' artifacts for the figures.
 */
export async function writeReport(results: StudyResults, paths: StudyPaths): Promise<void> {
  await writeJsonAtomic(paths.resultsFile, results);
  await writeFileAtomic(join(paths.figuresDir, "results.md"), formatResultsMarkdown(results));
  await writeStudyFigures(paths, { results });
}

/** Lists the slice files of a real MPD input with their sizes and times, so a changed file reruns ingestion. */
async function describeInput(input: string): Promise<Array<[string, number, number]>> {
  const info = await Deno.stat(input);
  if (info.isFile) return [[input, info.size, info.mtime?.getTime() ?? 0]];
  const files: Array<[string, number, number]> = [];
  for await (const entry of Deno.readDir(input)) {
    if (!entry.isFile || !entry.name.endsWith(".json")) continue;
    const stat = await Deno.stat(join(input, entry.name));
    files.push([entry.name, stat.size, stat.mtime?.getTime() ?? 0]);
  }
  return files.sort((a, b) => a[0].localeCompare(b[0]));
}

export type { EvaluationCase, SplitArtifact, StudyPaths };
export { studyPaths };

/** Playlists that Track2Seq's guided prediction advances together, the predictor's default batch size. */
const TRACK2SEQ_PREDICTION_BATCH = DEFAULT_GUIDED_OPTIONS.batchSize;

/** Builds the manifest field that records how `--backend auto` chose the backend, or nothing without one. */
function backendSelectionRecord(selection: BackendSelection | undefined): Record<string, unknown> {
  if (selection === undefined) return {};
  return {
    backend_selection: {
      requested: "auto",
      chosen: selection.backend,
      candidates: selection.reports.map((report) => ({
        backend: report.backend,
        outcome: report.outcome,
        reason: report.reason,
        training_tokens_per_second: report.probe?.trainingTokensPerSecond,
      })),
    },
  };
}
