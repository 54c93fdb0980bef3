/**
 * Reading a profile's stage artifacts back into the objects the stages worked with, so notebooks and
 * figures see exactly the split, vocabulary and test playlists of the run.
 * @module
 */

import type { Corpus } from "../data/corpus.ts";
import { type EvaluationCase, seedBuckets } from "../data/split.ts";
import { buildVocabulary, type Vocabulary } from "../data/vocabulary.ts";
import type { SplitArtifact, StudyPaths } from "./paths.ts";

/** Playlist indices into `corpus.playlists` of each set of the split, each ascending. */
export interface SplitSets {
  training: number[];
  dev: number[];
  test: number[];
}

/** The split stage's outputs, rebuilt from `split.json` and the corpus. */
export interface LoadedSplit {
  /** The contents of `split.json`. */
  artifact: SplitArtifact;
  sets: SplitSets;
  /** The vocabulary the model was trained with: built from the training, dev and test playlists. */
  vocabulary: Vocabulary;
  /** The test playlists cut into seed buckets, shortest first, as the evaluation stage scored them. */
  testCases: EvaluationCase[];
}

/**
 * Reads a JSON artifact.
 *
 * @param path The artifact's path, such as `paths.trainingFile`.
 * @throws {Deno.errors.NotFound} When the file is missing, naming it and the command that writes it.
 * @throws {SyntaxError} When the file is not valid JSON, naming it.
 */
export async function readArtifact<T>(path: string): Promise<T> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(
        `Reading ${path} failed: the file is missing. Run the study's stages first ` +
          "(deno task reproduce --profile <profile>).",
      );
    }
    throw error;
  }
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new SyntaxError(
      `Reading ${path} failed: ${(error as Error).message}. Rerun the stage that writes it ` +
        "(deno task reproduce --force).",
    );
  }
}

/**
 * Maps the dev and test pids of `split.json` to playlist indices; every other playlist is training.
 *
 * @throws {RangeError} When a pid is not in the corpus, naming the pid, so a stale split is noticed.
 */
export function splitSetsFromPids(
  corpus: Corpus,
  devPids: readonly number[],
  testPids: readonly number[],
): SplitSets {
  const indexOfPid = new Map(corpus.playlists.map((playlist, index) => [playlist.pid, index]));
  const indices = (pids: readonly number[], set: string) =>
    pids.map((pid) => {
      const index = indexOfPid.get(pid);
      if (index === undefined) {
        throw new RangeError(
          `Mapping the ${set} playlists failed: pid ${pid} is not in the corpus. The split does not belong ` +
            "to this ingestion; rerun the stages (deno task reproduce --force).",
        );
      }
      return index;
    }).sort((a, b) => a - b);

  const dev = indices(devPids, "dev");
  const test = indices(testPids, "test");
  const evaluation = new Set([...dev, ...test]);
  const training = corpus.playlists.map((_, index) => index).filter((index) => !evaluation.has(index));
  return { training, dev, test };
}

/**
 * Reads `split.json` and rebuilds the sets, the vocabulary and the test playlists' seed buckets as the
 * pipeline built them.
 *
 * @param paths The profile's artifact paths.
 * @param corpus The corpus loaded from `paths.ingestedDir`.
 * @throws {Deno.errors.NotFound} When `split.json` is missing.
 * @throws {RangeError} When a dev or test pid is not in the corpus.
 */
export async function loadSplit(paths: StudyPaths, corpus: Corpus): Promise<LoadedSplit> {
  const artifact = await readArtifact<SplitArtifact>(paths.splitFile);
  const sets = splitSetsFromPids(corpus, artifact.dev, artifact.test);
  const vocabulary = buildVocabulary(corpus, sets.training, [...sets.dev, ...sets.test]);
  return { artifact, sets, vocabulary, testCases: seedBuckets(corpus, sets.test) };
}
