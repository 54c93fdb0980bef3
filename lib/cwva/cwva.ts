/**
 * CWVA: playlist titles to tracks through word vectors. A title becomes the mean of its word vectors, the
 * training playlists with the most similar titles vote for their tracks, and the winners serve as seeds
 * for another method or as recommendations of their own.
 * @module
 */

import { appendFallback } from "../baselines/w2v.ts";
import { PopularityRecommender } from "../baselines/popularity.ts";
import type { Corpus } from "../data/corpus.ts";
import { countTracks } from "../data/split.ts";
import {
  DEFAULT_SKIP_GRAM_OPTIONS,
  type SkipGramGroup,
  type SkipGramOptions,
  type SkipGramProgress,
  trainGroupSkipGram,
} from "../embeddings/skipgram.ts";
import { selectTopIndices, WordVectors } from "../embeddings/word_vectors.ts";
import type { PlaylistQuery, Recommendation, Recommender } from "../recommender.ts";
import { normalizeTitle, wordVariants } from "./normalize.ts";

/** Options of {@linkcode fitCwva}. */
export interface CwvaOptions {
  /** Number of most similar training playlists whose tracks are scored. Default 100. */
  neighbours: number;
  /** Number of tracks that {@linkcode CwvaRecommender.cwvaSeeds} returns. Default 100. */
  seedCount: number;
  /**
   * Pre-trained word vectors, such as the 300-d GoogleNews vectors read with `readWordVectors`.
   * Default: vectors learned from the training playlists (see {@linkcode learnTitleWordVectors}).
   */
  vectors?: WordVectors;
  /**
   * Skip-gram settings of the learned vectors, merged over the default. Default: the skip-gram defaults
   * with seed 2018.
   */
  skipGram: Partial<SkipGramOptions>;
  /**
   * Recommender for titles with no usable word, also used to fill short lists. Default: popularity over
   * the training playlists.
   */
  fallback?: Recommender;
}

/** Defaults of {@linkcode CwvaOptions}. */
export const DEFAULT_CWVA_OPTIONS: CwvaOptions = {
  neighbours: 100,
  seedCount: 100,
  skipGram: { seed: 2018 },
};

/**
 * Learns title word vectors from the training playlists, so CWVA needs no download.
 *
 * Skip-gram runs on groups: every normalized word of a playlist's title predicts every track of that
 * playlist (see `trainGroupSkipGram`). Words of playlists that share tracks thus get similar vectors,
 * which is the similarity CWVA needs: "gym" lands near "workout" because such playlists contain the same
 * tracks, even where general-language vectors would not place them together. A whole-playlist context
 * also avoids the bias of a sentence "title words, then tracks", where a window of 5 would pair the words
 * only with the first few tracks. Training costs one update per title word and track occurrence, and
 * took about a third of the time of W2V's skip-gram over the same 20,000 synthetic playlists.
 *
 * @param onProgress called after each skip-gram epoch.
 * @throws {RangeError} when no training playlist has both a title word and a track.
 */
export function learnTitleWordVectors(
  corpus: Corpus,
  trainPlaylists: readonly number[],
  skipGram: Partial<SkipGramOptions> = {},
  onProgress?: (progress: SkipGramProgress) => void,
): WordVectors {
  const wordIds = new Map<string, number>();
  const groups: SkipGramGroup[] = [];
  for (const index of trainPlaylists) {
    const playlist = corpus.playlists[index];
    const words = Int32Array.from(normalizeTitle(playlist.name), (word) => {
      let id = wordIds.get(word);
      if (id === undefined) {
        id = wordIds.size;
        wordIds.set(word, id);
      }
      return id;
    });
    groups.push({ words, contexts: playlist.tracks });
  }

  const model = trainGroupSkipGram(groups, wordIds.size, corpus.tracks.uri.length, {
    ...DEFAULT_SKIP_GRAM_OPTIONS,
    ...skipGram,
  }, onProgress);
  return new WordVectors([...wordIds.keys()], model.input, model.dimension);
}

/**
 * Fits CWVA on the training playlists: learns word vectors unless `options.vectors` is given, then
 * indexes the training titles.
 *
 * @param corpus the corpus that the playlist indices and track ids refer to.
 * @param trainPlaylists indices into `corpus.playlists` of the training playlists.
 * @param options see {@linkcode CwvaOptions}.
 * @param onProgress called after each skip-gram epoch of the learned vectors.
 * @throws {RangeError} when an option is invalid or a playlist index is outside the corpus.
 */
export function fitCwva(
  corpus: Corpus,
  trainPlaylists: readonly number[],
  options: Partial<CwvaOptions> = {},
  onProgress?: (progress: SkipGramProgress) => void,
): CwvaRecommender {
  const config = { ...DEFAULT_CWVA_OPTIONS, ...options };
  for (const name of ["neighbours", "seedCount"] as const) {
    if (!Number.isInteger(config[name]) || config[name] < 1) {
      throw new RangeError(`Cannot fit CWVA: "${name}" must be a positive integer, got ${config[name]}.`);
    }
  }
  for (const index of trainPlaylists) {
    if (!(Number.isInteger(index) && index >= 0 && index < corpus.playlists.length)) {
      throw new RangeError(
        `Cannot fit CWVA: training playlist index ${index} is outside the corpus of ` +
          `${corpus.playlists.length} playlists. Pass indices into corpus.playlists.`,
      );
    }
  }

  const skipGram = { ...DEFAULT_CWVA_OPTIONS.skipGram, ...options.skipGram };
  const vectors = config.vectors ?? learnTitleWordVectors(corpus, trainPlaylists, skipGram, onProgress);
  return new CwvaRecommender(corpus, trainPlaylists, vectors, {
    neighbours: config.neighbours,
    seedCount: config.seedCount,
    fallback: config.fallback ?? new PopularityRecommender(countTracks(corpus, trainPlaylists)),
  });
}

/** Training playlists with similar titles, most similar first. */
export interface SimilarPlaylists {
  /** Indices into `corpus.playlists`. */
  playlists: Int32Array;
  /** Cosine similarity of the title vectors, or 1 - normalized edit distance when no word was known. */
  similarities: Float32Array;
  /** The similarity measure used. */
  method: "vectors" | "edit-distance";
}

/**
 * Recommends tracks from a playlist's title alone (CWVA, the title-to-seeds step of Track2Seq).
 *
 * The title is normalized (`normalizeTitle`), and its vector is the mean of the vectors of its known
 * words. A word without a vector is also tried in a few spellings (`wordVariants`) and as two known words
 * run together ("vibespool"). The `neighbours` training playlists whose title vectors have the highest
 * cosine similarity are taken, and each of their tracks scores the sum of the similarities of the
 * playlists it occurs in. When no word of the title has a vector, the similarity is 1 minus the
 * Levenshtein distance between the normalized titles divided by the longer length. A title that
 * normalizes to nothing (such as "Music") gets the fallback's tracks. Word vectors follow Mikolov et al.
 * 2013 ("Distributed representations of words and phrases and their compositionality").
 */
export class CwvaRecommender implements Recommender {
  readonly name = "cwva";
  readonly vectors: WordVectors;
  readonly neighbours: number;
  readonly seedCount: number;
  readonly fallback: Recommender;
  readonly #corpus: Corpus;
  /** Distinct normalized training titles, words joined by one space, in order of first playlist. */
  readonly #titles: string[] = [];
  /** Playlist indices per distinct title, ascending. */
  readonly #titlePlaylists: number[][] = [];
  /** Unit title vectors, [titles x dimension]; rows of titles without a known word are zero. */
  readonly #titleVectors: Float32Array;
  readonly #hasVector: Uint8Array;
  readonly #trackScores: Float64Array;
  readonly #trackCallMarks: Float64Array;
  readonly #trackPlaylistMarks: Float64Array;
  #callMark = 0;
  #playlistMark = 0;

  /**
   * @param corpus the corpus that the playlist indices and track ids refer to.
   * @param trainPlaylists indices into `corpus.playlists` of the training playlists.
   * @param vectors word vectors for title words.
   * @param settings the number of neighbour playlists and of seeds, and the fallback recommender.
   */
  constructor(
    corpus: Corpus,
    trainPlaylists: readonly number[],
    vectors: WordVectors,
    settings: { neighbours: number; seedCount: number; fallback: Recommender },
  ) {
    this.vectors = vectors;
    this.neighbours = settings.neighbours;
    this.seedCount = settings.seedCount;
    this.fallback = settings.fallback;
    this.#corpus = corpus;

    const titleIndex = new Map<string, number>();
    const titleWords: string[][] = [];
    for (const index of [...trainPlaylists].sort((a, b) => a - b)) {
      const words = normalizeTitle(corpus.playlists[index].name);
      if (words.length === 0) continue;
      const key = words.join(" ");
      let title = titleIndex.get(key);
      if (title === undefined) {
        title = this.#titles.length;
        titleIndex.set(key, title);
        this.#titles.push(key);
        this.#titlePlaylists.push([]);
        titleWords.push(words);
      }
      this.#titlePlaylists[title].push(index);
    }

    const dimension = vectors.dimension;
    this.#titleVectors = new Float32Array(this.#titles.length * dimension);
    this.#hasVector = new Uint8Array(this.#titles.length);
    titleWords.forEach((words, title) => {
      const vector = this.#titleVector(words);
      if (vector === null) return;
      this.#titleVectors.set(vector, title * dimension);
      this.#hasVector[title] = 1;
    });

    this.#trackScores = new Float64Array(corpus.tracks.uri.length);
    this.#trackCallMarks = new Float64Array(corpus.tracks.uri.length);
    this.#trackPlaylistMarks = new Float64Array(corpus.tracks.uri.length);
  }

  /**
   * Returns the training playlists whose titles are most similar to `title`, at most `neighbours` of them;
   * empty when the title normalizes to no word.
   */
  similarPlaylists(title: string): SimilarPlaylists {
    const words = normalizeTitle(title);
    const empty: SimilarPlaylists = {
      playlists: new Int32Array(),
      similarities: new Float32Array(),
      method: "vectors",
    };
    if (words.length === 0) return empty;

    const similarities = new Float64Array(this.#titles.length).fill(NaN);
    const vector = this.#titleVector(words);
    let method: SimilarPlaylists["method"] = "vectors";
    if (vector !== null) {
      const dimension = this.vectors.dimension;
      for (let title = 0; title < this.#titles.length; title++) {
        if (!this.#hasVector[title]) continue;
        let dot = 0;
        for (let d = 0; d < dimension; d++) dot += vector[d] * this.#titleVectors[title * dimension + d];
        similarities[title] = dot;
      }
    } else {
      method = "edit-distance";
      const text = words.join(" ");
      for (let title = 0; title < this.#titles.length; title++) {
        const other = this.#titles[title];
        similarities[title] = 1 - levenshtein(text, other) / Math.max(text.length, other.length);
      }
    }

    // Every title has at least one playlist, so the best `neighbours` titles hold enough playlists.
    const playlists: number[] = [];
    const weights: number[] = [];
    for (const title of selectTopIndices(similarities, this.neighbours)) {
      for (const index of this.#titlePlaylists[title]) {
        if (playlists.length === this.neighbours) break;
        playlists.push(index);
        weights.push(similarities[title]);
      }
    }
    return { playlists: Int32Array.from(playlists), similarities: Float32Array.from(weights), method };
  }

  /**
   * Returns the similarity measure that {@linkcode similarPlaylists} uses for `title`: "vectors" when a word
   * of the title has a vector, "edit-distance" when none has, and undefined when the title normalizes to
   * no word, so no playlist is similar.
   */
  similarityMethod(title: string): SimilarPlaylists["method"] | undefined {
    const words = normalizeTitle(title);
    if (words.length === 0) return undefined;
    return this.#titleVector(words) === null ? "edit-distance" : "vectors";
  }

  /**
   * Ranks tracks for a title: each track of the similar playlists scores the sum of their similarities.
   * Ties break by track id. Tracks in `exclude` are left out.
   */
  rankTracks(title: string, exclude: ArrayLike<number> = []): { tracks: Int32Array; scores: Float64Array } {
    const similar = this.similarPlaylists(title);
    const call = ++this.#callMark;
    const touched: number[] = [];

    // Marks instead of sets: a track counts once per playlist, and its score resets on its first visit
    // of this call, so nothing is cleared between calls.
    for (let i = 0; i < similar.playlists.length; i++) {
      const similarity = similar.similarities[i];
      const playlist = ++this.#playlistMark;
      for (const track of this.#corpus.playlists[similar.playlists[i]].tracks) {
        if (this.#trackPlaylistMarks[track] === playlist) continue;
        this.#trackPlaylistMarks[track] = playlist;
        if (this.#trackCallMarks[track] !== call) {
          this.#trackCallMarks[track] = call;
          this.#trackScores[track] = 0;
          touched.push(track);
        }
        this.#trackScores[track] += similarity;
      }
    }

    const excluded = new Set(Array.from(exclude));
    const ranked = touched.filter((track) => !excluded.has(track));
    ranked.sort((a, b) => this.#trackScores[b] - this.#trackScores[a] || a - b);
    return {
      tracks: Int32Array.from(ranked),
      scores: Float64Array.from(ranked, (track) => this.#trackScores[track]),
    };
  }

  /**
   * Returns up to `count` seed tracks guessed from the query's title, best first, never one of its seeds.
   * The result is empty when the title normalizes to no word.
   */
  cwvaSeeds(query: PlaylistQuery, count: number = this.seedCount): Int32Array {
    return this.rankTracks(query.name, query.seeds).tracks.slice(0, count);
  }

  async recommend(queries: PlaylistQuery[], count: number): Promise<Recommendation[]> {
    const results: Recommendation[] = [];
    for (const query of queries) {
      const ranked = this.rankTracks(query.name, query.seeds);
      if (ranked.tracks.length === 0) {
        results.push(...await this.fallback.recommend([query], count));
        continue;
      }

      const tracks = Array.from(ranked.tracks.subarray(0, count));
      const scores = Array.from(ranked.scores.subarray(0, count));

      // Tracks from the fallback rank below every CWVA track: they score 1, 2, ... below min(0, last score).
      if (tracks.length < count) {
        const floor = Math.min(0, scores[scores.length - 1]);
        const known = tracks.length;
        await appendFallback(this.fallback, query, tracks, count);
        for (let i = known; i < tracks.length; i++) scores.push(floor - (i - known + 1));
      }
      results.push({ pid: query.pid, tracks: Int32Array.from(tracks), scores: Float32Array.from(scores) });
    }
    return results;
  }

  /** Returns the unit mean vector of the known words, or null when none is known or the mean is zero. */
  #titleVector(words: string[]): Float64Array | null {
    const dimension = this.vectors.dimension;
    const sum = new Float64Array(dimension);
    let known = 0;
    for (const word of words) {
      for (const resolved of this.#resolve(word)) {
        const vector = this.vectors.vector(resolved)!;
        for (let d = 0; d < dimension; d++) sum[d] += vector[d];
        known++;
      }
    }
    if (known === 0) return null;

    let norm = 0;
    for (let d = 0; d < dimension; d++) norm += sum[d] * sum[d];
    if (norm === 0) return null;
    const scale = 1 / Math.sqrt(norm);
    for (let d = 0; d < dimension; d++) sum[d] *= scale;
    return sum;
  }

  /** Returns the known word(s) that `word` stands for: itself, a variant spelling, or two joined words. */
  #resolve(word: string): string[] {
    const single = this.#resolveSpelling(word);
    if (single !== undefined) return [single];

    // Longest first part first, so "vibespool" prefers "vibes" + "pool" over "vibe" + "spool".
    for (let split = word.length - 2; split >= 2; split--) {
      const first = this.#resolveSpelling(word.slice(0, split));
      const second = first === undefined ? undefined : this.#resolveSpelling(word.slice(split));
      if (first !== undefined && second !== undefined) return [first, second];
    }
    return [];
  }

  #resolveSpelling(word: string): string | undefined {
    return wordVariants(word).find((variant) => this.vectors.has(variant));
  }
}

/** Returns the Levenshtein distance between two strings, by UTF-16 code unit. */
export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;

  let previous = new Int32Array(b.length + 1);
  let current = new Int32Array(b.length + 1);
  for (let j = 0; j <= b.length; j++) previous[j] = j;
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1);
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, substitution);
    }
    [previous, current] = [current, previous];
  }
  return previous[b.length];
}
