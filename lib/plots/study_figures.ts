/**
 * All figures of a profile, built from the stages' artifacts and written under `figures/<profile>/`.
 * @module
 */

import { join } from "node:path";
import type { TopLevelSpec } from "vega-lite";
import type { Corpus } from "../data/corpus.ts";
import { loadCorpus } from "../data/load.ts";
import { countTracks } from "../data/split.ts";
import type { StudyResults } from "../eval/results.ts";
import { readArtifact, splitSetsFromPids } from "../pipeline/load_artifacts.ts";
import type { StudyPaths } from "../pipeline/paths.ts";
import { playlistLengthSpec, trackPopularitySpec } from "./distributions.ts";
import { lossCurveSpec, type TrainingArtifact } from "./loss.ts";
import { metricsBySeedSpec } from "./metrics.ts";
import { rPrecisionBySeedSpec } from "./r_precision.ts";
import { type FigurePaths, writeFigure } from "./render.ts";
import { strataBins, strataShares, strataSpec } from "./strata.ts";

/** File names, without extension, of the figures in `figures/<profile>/`. */
export const STUDY_FIGURES = {
  rPrecisionBySeed: "r_precision_by_seed",
  metricsBySeed: "metrics_by_seed",
  playlistLength: "playlist_length",
  trackPopularity: "track_popularity",
  splitStrata: "split_strata",
  trainingLoss: "training_loss",
} as const;

/** A figure's key in {@linkcode STUDY_FIGURES}. */
export type StudyFigure = keyof typeof STUDY_FIGURES;

/** Everything the study figures are built from. */
export interface StudyFigureInputs {
  /** The contents of `results.json`. */
  results: StudyResults;
  /** The ingested corpus. */
  corpus: Corpus;
  /** The contents of `training.json`. */
  training: TrainingArtifact;
  /** The dev and test pids of `split.json`. */
  split: { dev: number[]; test: number[] };
}

/**
 * Builds the spec of every study figure. The data source of each subtitle (profile, synthetic or MPD) is
 * taken from `results`.
 *
 * @throws {RangeError} When a dev or test pid of `split` is not in the corpus.
 */
export function studyFigureSpecs(inputs: StudyFigureInputs): Record<StudyFigure, TopLevelSpec> {
  const { results, corpus, training, split } = inputs;
  const source = { profile: results.profile, synthetic: results.synthetic };
  const sets = splitSetsFromPids(corpus, split.dev, split.test);

  return {
    rPrecisionBySeed: rPrecisionBySeedSpec(results),
    metricsBySeed: metricsBySeedSpec(results),
    playlistLength: playlistLengthSpec(corpus.playlists.map((playlist) => playlist.tracks.length), source),
    trackPopularity: trackPopularitySpec(countTracks(corpus), source),
    splitStrata: strataSpec(strataShares(strataBins(corpus), sets), source),
    trainingLoss: lossCurveSpec(training, source),
  };
}

/**
 * Writes every study figure of a profile as SVG and PNG into `paths.figuresDir`, reading the artifacts
 * that are not passed in: `results.json`, `training.json`, `split.json` and the ingested tables.
 *
 * @param paths The profile's artifact paths.
 * @param inputs Artifacts already in memory, so they are not read again.
 * @returns The paths written, by figure.
 * @throws {Deno.errors.NotFound} When an artifact is missing, naming it and the command that writes it.
 * @throws {RangeError} When a dev or test pid of `split.json` is not in the corpus.
 */
export async function writeStudyFigures(
  paths: StudyPaths,
  inputs: Partial<StudyFigureInputs> = {},
): Promise<Record<StudyFigure, FigurePaths>> {
  const specs = studyFigureSpecs({
    results: inputs.results ?? await readArtifact<StudyResults>(paths.resultsFile),
    corpus: inputs.corpus ?? loadCorpus(paths.ingestedDir),
    training: inputs.training ?? await readArtifact<TrainingArtifact>(paths.trainingFile),
    split: inputs.split ?? await readArtifact<{ dev: number[]; test: number[] }>(paths.splitFile),
  });

  const written: Partial<Record<StudyFigure, FigurePaths>> = {};
  for (const [figure, spec] of Object.entries(specs) as [StudyFigure, TopLevelSpec][]) {
    written[figure] = await writeFigure(spec, join(paths.figuresDir, STUDY_FIGURES[figure]));
  }
  return written as Record<StudyFigure, FigurePaths>;
}
