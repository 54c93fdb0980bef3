/**
 * The artifact layout of a profile, kept apart from the pipeline so tools can read artifacts without
 * loading TensorFlow.js.
 * @module
 */

import { join } from "node:path";

/** The artifact paths of a profile, below the repository root. */
export interface StudyPaths {
  dataDir: string;
  mpdDir: string;
  ingestedDir: string;
  splitFile: string;
  modelDir: string;
  trainingFile: string;
  /** One file per evaluated method, with its results and per-playlist scores. */
  methodsDir: string;
  figuresDir: string;
  resultsFile: string;
  stagesDir: string;
}

/** Returns the artifact paths of a profile under `root`. */
export function studyPaths(root: string, profile: string): StudyPaths {
  const dataDir = join(root, "data", profile);
  const figuresDir = join(root, "figures", profile);
  return {
    dataDir,
    mpdDir: join(dataDir, "mpd"),
    ingestedDir: join(dataDir, "ingested"),
    splitFile: join(dataDir, "split.json"),
    modelDir: join(dataDir, "model"),
    trainingFile: join(dataDir, "training.json"),
    methodsDir: join(dataDir, "methods"),
    figuresDir,
    resultsFile: join(figuresDir, "results.json"),
    stagesDir: join(dataDir, "stages"),
  };
}

/** The `split.json` artifact. */
export interface SplitArtifact {
  train: number;
  dev: number[];
  test: number[];
  /** Nominal seed bucket of each test pid. */
  seed_counts: Record<string, number>;
  /** Test playlists too short for their bucket's seed count, which keep all but their last track as seeds. */
  short_of_bucket: number;
  vocabulary_size: number;
  strata_features: string[];
  /**
   * Per feature of `strata_features`, the number of playlists without a value, which share a bin of their
   * own. Absent from a `split.json` written before this field existed.
   */
  strata_missing?: Record<string, number>;
  eligible: number;
}
