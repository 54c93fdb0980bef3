/**
 * Loading what `deno task reproduce` left for a profile, so tools can recommend with it: the corpus, the
 * split with its vocabulary, the popularity baseline and the trained Track2Seq model.
 * @module
 */

import { PopularityRecommender } from "../baselines/popularity.ts";
import { type CwvaRecommender, fitCwva } from "../cwva/cwva.ts";
import type { Corpus } from "../data/corpus.ts";
import { INGEST_FILES } from "../data/ingest.ts";
import { loadCorpus } from "../data/load.ts";
import { countTracks } from "../data/split.ts";
import type { SkipGramProgress } from "../embeddings/skipgram.ts";
import { type BackendName, selectBackend } from "../model/backend.ts";
import { loadCheckpoint } from "../model/checkpoint.ts";
import { Track2SeqRecommender } from "../predict/track2seq_recommender.ts";
import { type LoadedSplit, loadSplit } from "./load_artifacts.ts";
import { type StudyPaths, studyPaths } from "./paths.ts";
import { getProfile, type StudyConfig } from "./profiles.ts";

/** A profile's corpus, split and popularity baseline, as the study's stages built them. */
export interface TrainedProfile {
  config: StudyConfig;
  paths: StudyPaths;
  corpus: Corpus;
  split: LoadedSplit;
  /** Counts over the training playlists, as in the evaluation. */
  popularity: PopularityRecommender;
}

/** A Track2Seq recommender with the model it owns. */
export interface LoadedTrack2Seq {
  recommender: Track2SeqRecommender;
  /** The TensorFlow.js backend in use. */
  backend: string;
  /** Frees the model's tensors. */
  dispose(): void;
}

/** Options of {@linkcode loadTrack2Seq}. */
export interface LoadTrack2SeqOptions {
  /** TensorFlow.js backend. Default `wasm`. Resolve `auto` with `chooseBackend` first. */
  backend: BackendName;
  /** The repository, whose node_modules contains the native TensorFlow packages. Default: working folder. */
  repository: string;
}

/**
 * Loads a profile's corpus and split from `root/data/<profile>/`.
 *
 * @throws {RangeError} When the profile name is unknown.
 * @throws {Deno.errors.NotFound} When the profile has not been run yet, saying which command to run.
 * @throws {RangeError} When the split names a pid that the corpus does not contain.
 */
export async function loadTrainedProfile(root: string, profile: string): Promise<TrainedProfile> {
  const config = getProfile(profile, 'where mpd is the profile that "deno task reproduce --mpd DIR" trains');
  const paths = studyPaths(root, config.name);
  const needed = [paths.splitFile, `${paths.ingestedDir}/${INGEST_FILES.report}`];
  for (const path of needed) await requireArtifact(path, config.name);

  const corpus = loadCorpus(paths.ingestedDir);
  const split = await loadSplit(paths, corpus);
  const popularity = new PopularityRecommender(countTracks(corpus, split.sets.training));
  return { config, paths, corpus, split, popularity };
}

/**
 * Loads a profile's trained Track2Seq model behind the recommender interface, with the profile's
 * prediction settings and the popularity baseline as its fallback.
 *
 * @throws {Deno.errors.NotFound} When the model is missing, saying which command to run.
 */
export async function loadTrack2Seq(
  profile: TrainedProfile,
  options: Partial<LoadTrack2SeqOptions> = {},
): Promise<LoadedTrack2Seq> {
  await requireArtifact(`${profile.paths.modelDir}/model.json`, profile.config.name);
  const backend = await selectBackend(options.backend ?? "wasm", options.repository ?? Deno.cwd(), {
    workload: { vocabSize: profile.split.vocabulary.size },
  });
  const { model, optimizer } = await loadCheckpoint(profile.paths.modelDir);
  optimizer?.dispose();

  const prediction = profile.config.prediction;
  const recommender = new Track2SeqRecommender(model, profile.split.vocabulary, profile.popularity, {
    steps: prediction.steps,
    topK: prediction.topK,
    mode: prediction.mode,
    thesisCompatible: prediction.thesisCompatible,
    seed: profile.config.seed,
  });
  return { recommender, backend, dispose: () => model.dispose() };
}

/**
 * Fits CWVA over the profile's training playlists with the settings of the study's cwva and track2seq_cwva
 * methods (see {@linkcode fitStudyCwva}), with the popularity baseline as the fallback. The study does not
 * store the vectors, so they are learned again, which takes about as long as in the study's evaluation
 * stage.
 *
 * @param onProgress called after each skip-gram epoch.
 */
export function fitProfileCwva(
  profile: TrainedProfile,
  onProgress?: (progress: SkipGramProgress) => void,
): CwvaRecommender {
  return fitStudyCwva(
    profile.corpus,
    profile.split.sets.training,
    profile.config,
    profile.popularity,
    onProgress,
  );
}

/**
 * Fits CWVA with the settings of the study's cwva and track2seq_cwva methods, which the study's evaluation
 * and {@linkcode fitProfileCwva} share: skip-gram seeded with the profile's seed, then the profile's CWVA
 * options, and `fallback` for titles without a usable word.
 *
 * @param training Indices of the training playlists in `corpus.playlists`.
 * @param fallback The popularity baseline over the training playlists.
 * @param onProgress called after each skip-gram epoch.
 */
export function fitStudyCwva(
  corpus: Corpus,
  training: readonly number[],
  config: StudyConfig,
  fallback: PopularityRecommender,
  onProgress?: (progress: SkipGramProgress) => void,
): CwvaRecommender {
  return fitCwva(corpus, training, {
    skipGram: { seed: config.seed },
    ...config.baselines?.cwva,
    fallback,
  }, onProgress);
}

async function requireArtifact(path: string, profile: string): Promise<void> {
  try {
    await Deno.stat(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    // The mpd profile takes its input folder instead of a profile name.
    const command = profile === "mpd"
      ? "deno task reproduce --mpd MPD_FOLDER"
      : `deno task reproduce --profile ${profile}`;
    throw new Deno.errors.NotFound(
      `Profile ${profile} has not been run yet: ${path} is missing. Run "${command}" first.`,
    );
  }
}
