/**
 * The w2v_vs_gensim benchmark: training tokens per second of our skip-gram (lib/embeddings/skipgram.ts)
 * against gensim's Word2Vec (Debian's python3-gensim, bench/w2v_gensim.py), both with two threads. Both
 * train with the same settings on the same training playlists. Each side's vectors then go through the same W2V
 * recommender, and the entry records the recall@500 that each reaches on the 600 test playlists.
 * @module
 */

import { fileURLToPath } from "node:url";
import { join } from "node:path";
import type { BenchmarkEntry } from "../lib/bench/results.ts";
import { PopularityRecommender } from "../lib/baselines/popularity.ts";
import { artistIds, DEFAULT_W2V_OPTIONS, fitW2v, W2vRecommender } from "../lib/baselines/w2v.ts";
import type { Corpus } from "../lib/data/corpus.ts";
import { countTracks, type EvaluationCase, seedBuckets } from "../lib/data/split.ts";
import type { SkipGramProgress } from "../lib/embeddings/skipgram.ts";
import { readWordVectors } from "../lib/embeddings/word_vectors.ts";
import { evaluateRecommender } from "../lib/eval/evaluate.ts";
import type { Recommender } from "../lib/recommender.ts";
import { prepareBenchCorpus } from "./als.ts";
import { ensurePythonModule, PYTHON } from "./python_reference.ts";

/**
 * Training threads of each side. The count is fixed, so entries from different machines compare the same
 * setting, and two is the core count of the machines this project is developed on.
 */
const THREADS = 2;

/** The report that bench/w2v_gensim.py prints as its last line. */
interface GensimReport {
  tokens_per_s: number;
  seconds: number;
  raw_tokens: number;
  trained_tokens: number;
  vocabulary: number;
  workers: number;
  gensim: string;
}

/** Runs the benchmark and returns its entry. */
export async function w2vVsGensim(): Promise<Omit<BenchmarkEntry, "command" | "machine" | "date">> {
  await ensurePythonModule("gensim", "python3-gensim");
  const { corpus, split } = await prepareBenchCorpus();
  const cases = seedBuckets(corpus, split.test);
  const loadBefore = Deno.loadavg()[0];

  let last: SkipGramProgress | undefined;
  const ours = await fitW2v(corpus, split.train, { threads: THREADS }, (progress) => last = progress);
  if (last === undefined) {
    throw new Error(
      "Training our W2V failed: it reported no epoch. Check that the training playlists have tracks.",
    );
  }
  const oursTokensPerSecond = last.tokensRead / last.seconds;
  const oursRecall = await bucketMeanRecall(ours, cases);

  const work = await Deno.makeTempDir({ prefix: "w2v_vs_gensim_" });
  let gensim: GensimReport;
  let gensimRecall: number;
  try {
    const sentences = join(work, "sentences.txt");
    const vectorsPath = join(work, "vectors.txt");
    const lines = split.train.map((index) => corpus.playlists[index].tracks.join(" "));
    await Deno.writeTextFile(sentences, lines.join("\n") + "\n");

    gensim = await runGensim(sentences, vectorsPath);
    gensimRecall = await bucketMeanRecall(await gensimRecommender(corpus, split.train, vectorsPath), cases);
  } finally {
    await Deno.remove(work, { recursive: true });
  }

  const ratio = oursTokensPerSecond / gensim.tokens_per_s;
  return {
    ratio,
    ratio_meaning: `skip-gram training tokens/s of ours (${THREADS} threads) over gensim ${gensim.gensim} ` +
      `Word2Vec (${gensim.workers} workers), same settings and corpus`,
    figures: {
      playlists: split.train.length,
      ours_threads: THREADS,
      test_playlists: cases.length,
      tokens_per_epoch: gensim.raw_tokens / DEFAULT_W2V_OPTIONS.epochs,
      ours_tokens_per_s: Math.round(oursTokensPerSecond),
      ours_seconds: round(last.seconds),
      ours_recall_at_500: round4(oursRecall),
      gensim_tokens_per_s: Math.round(gensim.tokens_per_s),
      gensim_seconds: round(gensim.seconds),
      gensim_recall_at_500: round4(gensimRecall),
      gensim_workers: gensim.workers,
      gensim_vocabulary: gensim.vocabulary,
      gensim_version: gensim.gensim,
      load_average_1m_before: round(loadBefore),
      load_average_1m_after: round(Deno.loadavg()[0]),
    },
    notes:
      `Both sides train skip-gram with window 5, 100 dimensions, 5 negatives, 5 epochs, min count 1 and ` +
      `subsampling 1e-3 on the ${split.train.length} training playlists of the 20,000-playlist synthetic ` +
      `corpus (seed 2018). Tokens/s counts tokens read before subsampling over the training epochs only. ` +
      `Ours runs ${THREADS} workers that update shared WebAssembly memory without locks. A SIMD kernel ` +
      `draws the negatives and updates each pair, and like gensim it skips targets whose dot product ` +
      `reaches 6 in absolute value. gensim runs ${gensim.workers} worker threads of its compiled ` +
      `routines. On our side most of the time goes to the kernel waiting for output rows drawn at random ` +
      `from memory, which is why each call starts loading the rows of the next call's negatives; the ` +
      `subsampling and window loop in JavaScript takes the rest. Recall@500 is the unweighted mean over ` +
      `the six seed buckets of ` +
      `the 600 test playlists, both through the same W2vRecommender (nearest neighbours by cosine, ` +
      `round-robin over seeds, at most 3 tracks per artist, popularity fallback): ours ` +
      `${round4(oursRecall)}, gensim ${round4(gensimRecall)}. Each side ran once with its own random ` +
      `stream, so the recall gap includes seed noise that one run does not measure. gensim reads the ` +
      `sentences through LineSentence, whose Python iteration feeds its worker threads.`,
  };
}

async function bucketMeanRecall(recommender: Recommender, cases: EvaluationCase[]): Promise<number> {
  const { results } = await evaluateRecommender(recommender, cases, { batchSize: 64 });
  return results.bucket_mean.recall_at_500;
}

/** Runs bench/w2v_gensim.py and returns its report. */
async function runGensim(sentences: string, vectorsPath: string): Promise<GensimReport> {
  const script = fileURLToPath(new URL("./w2v_gensim.py", import.meta.url));
  const output = await new Deno.Command(PYTHON, {
    args: [script, sentences, vectorsPath, "--workers", String(THREADS)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    const stderr = new TextDecoder().decode(output.stderr).trim().split("\n");
    throw new Error(
      `Running the gensim reference failed with exit code ${output.code}: ${stderr.slice(-3).join(" | ")}. ` +
        `Install python3-gensim with apt-get, or run ${script} by hand to see the full error.`,
    );
  }
  const lines = new TextDecoder().decode(output.stdout).trim().split("\n");
  return JSON.parse(lines[lines.length - 1]) as GensimReport;
}

/** Builds a W2vRecommender on gensim's vectors, with the settings that fitW2v gives ours. */
async function gensimRecommender(
  corpus: Corpus,
  trainPlaylists: readonly number[],
  vectorsPath: string,
): Promise<W2vRecommender> {
  const vectors = await readWordVectors(vectorsPath, { format: "text" });
  const wordTracks = Int32Array.from(vectors.words, (word) => Number(word));
  const counts = countTracks(corpus, trainPlaylists);
  return new W2vRecommender({
    vectors: vectors.vectors,
    dimension: vectors.dimension,
    wordTracks,
    trackArtists: artistIds(corpus),
    maxTracksPerArtist: DEFAULT_W2V_OPTIONS.maxTracksPerArtist,
    fallback: new PopularityRecommender(counts),
  });
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

function round4(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
