import { deepStrictEqual, notDeepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { Track2SeqCwvaRecommender } from "../lib/cwva/track2seq_cwva.ts";
import { loadCorpus } from "../lib/data/load.ts";
import { loadSplit } from "../lib/pipeline/load_artifacts.ts";
import { getProfile } from "../lib/pipeline/profiles.ts";
import { fitProfileCwva, loadTrack2Seq, loadTrainedProfile } from "../lib/pipeline/trained_profile.ts";
import { runStudy } from "../lib/pipeline/study.ts";

const TASK = new URL("../tasks/recommend.ts", import.meta.url).pathname;

interface TaskOutput {
  code: number;
  stdout: string;
  stderr: string;
}

async function runRecommend(args: string[]): Promise<TaskOutput> {
  const command = new Deno.Command(Deno.execPath(), { args: ["run", "-A", TASK, ...args] });
  const { code, stdout, stderr } = await command.output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

interface JsonAnswer {
  synthetic: boolean;
  title: string;
  seeds: { used: string[]; unknown: string[]; out_of_vocabulary: string[] };
  method: string;
  title_seeds: string[];
  title_match: string | null;
  popularity_fallback: boolean;
  tracks: { rank: number; track_uri: string; track_name: string; artist_name: string; score: number }[];
}

/**
 * Runs the task on the smoke profile under `root` with `args` and `--json`, checks that it exits with 0,
 * and returns its parsed JSON output with its stderr.
 */
async function recommendSmokeJson(
  root: string,
  args: string[],
): Promise<{ answer: JsonAnswer; stderr: string }> {
  const output = await runRecommend(["--root", root, "--profile", "smoke", ...args, "--json"]);
  strictEqual(output.code, 0, output.stderr);
  return { answer: JSON.parse(output.stdout), stderr: output.stderr };
}

Deno.test({
  name: "recommend task on a tiny trained profile",
  // TF.js keeps its backend registry and timers for the whole process.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const root = await Deno.makeTempDir();
    try {
      // The smoke profile, cut down to train in seconds; the task reads its prediction settings by name.
      const config = getProfile("smoke");
      config.playlists = 1000;
      config.devSize = 10;
      config.testSize = 20;
      config.methods = ["popularity", "track2seq"];
      config.training = { ...config.training, maxSteps: 2, batchSize: 8 };
      const outcome = await runStudy(config, { root, backend: "wasm" });

      const corpus = loadCorpus(outcome.paths.ingestedDir);
      const { vocabulary } = await loadSplit(outcome.paths, corpus);
      const inVocabulary = corpus.tracks.uri.filter((_, id) => vocabulary.tokenOfTrack[id] >= 0);
      const outOfVocabulary = corpus.tracks.uri.find((_, id) => vocabulary.tokenOfTrack[id] < 0);
      ok(outOfVocabulary !== undefined, "every track is in the vocabulary");
      const unknown = "spotify:track:notInTheCorpus00000000";

      // Seeds: two usable ones, one outside the vocabulary, one unknown.
      const seeded = await recommendSmokeJson(root, [
        "--title",
        "summer vibes",
        ...[inVocabulary[0], unknown, outOfVocabulary, inVocabulary[1]].flatMap((uri) => ["--seed", uri]),
        "--count",
        "7",
      ]);
      const answer = seeded.answer;
      strictEqual(answer.synthetic, true);
      strictEqual(answer.title, "summer vibes");
      deepStrictEqual(answer.seeds.used, [inVocabulary[0], inVocabulary[1]]);
      deepStrictEqual(answer.seeds.unknown, [unknown]);
      deepStrictEqual(answer.seeds.out_of_vocabulary, [outOfVocabulary]);
      strictEqual(answer.method, "track2seq");
      deepStrictEqual(answer.title_seeds, []);
      strictEqual(answer.popularity_fallback, false);
      deepStrictEqual(answer.tracks.map((track) => track.rank), [1, 2, 3, 4, 5, 6, 7]);
      const seedUris = new Set([inVocabulary[0], inVocabulary[1], outOfVocabulary]);
      ok(answer.tracks.every((track) => !seedUris.has(track.track_uri)), "a seed was recommended");
      strictEqual(new Set(answer.tracks.map((track) => track.track_uri)).size, 7);
      const id = corpus.tracks.uri.indexOf(answer.tracks[0].track_uri);
      strictEqual(answer.tracks[0].track_name, corpus.tracks.name[id]);
      strictEqual(answer.tracks[0].artist_name, corpus.tracks.artistName[id]);
      ok(seeded.stderr.includes(`skipped 1 not in the profile's corpus: ${unknown}`), seeded.stderr);

      // A title alone goes through CWVA title-to-seeds and Track2Seq.
      const titled = await runRecommend(["--root", root, "--profile", "smoke", "--title", "chill"]);
      strictEqual(titled.code, 0, titled.stderr);
      ok(titled.stderr.includes("CWVA guessed 100 seed tracks from the title"), titled.stderr);
      ok(titled.stderr.includes("(method track2seq_cwva)"), titled.stderr);
      const rows = titled.stdout.trim().split("\n").filter((line) => /^\s*\d+ /.test(line));
      strictEqual(rows.length, 500);
      ok(rows[0].trimStart().startsWith("1 "), rows[0]);
      ok(rows[499].includes("spotify:track:"), rows[499]);

      // The same request in JSON gives what the study's track2seq_cwva method gives for the title.
      const { answer: titleAnswer } = await recommendSmokeJson(root, ["--title", "chill", "--count", "50"]);
      strictEqual(titleAnswer.method, "track2seq_cwva");
      strictEqual(titleAnswer.popularity_fallback, false);
      strictEqual(titleAnswer.title_seeds.length, 100);
      strictEqual(titleAnswer.title_match, "vectors");
      const profile = await loadTrainedProfile(root, "smoke");
      const cwva = fitProfileCwva(profile);
      const model = await loadTrack2Seq(profile, { backend: "wasm" });
      try {
        const study = new Track2SeqCwvaRecommender(model.recommender, cwva);
        const [expected] = await study.recommend([{ pid: 0, name: "chill", seeds: new Int32Array() }], 50);
        deepStrictEqual(
          titleAnswer.tracks.map((track) => track.track_uri),
          Array.from(expected.tracks, (id) => corpus.tracks.uri[id]),
        );
      } finally {
        model.dispose();
      }
      const popular = profile.popularity.recommendOne({ pid: 0, name: "", seeds: new Int32Array() }, 50);
      notDeepStrictEqual(
        titleAnswer.tracks.map((track) => track.track_uri),
        Array.from(popular.tracks, (id) => corpus.tracks.uri[id]),
      );

      // Seeds that are all unknown, with a title: CWVA too, and a known seed outside the vocabulary is
      // never recommended back.
      const { answer: unknownAnswer } = await recommendSmokeJson(root, [
        "--title",
        "chill",
        "--seed",
        unknown,
        "--seed",
        outOfVocabulary,
      ]);
      strictEqual(unknownAnswer.method, "track2seq_cwva");
      deepStrictEqual(unknownAnswer.seeds.used, []);
      deepStrictEqual(unknownAnswer.seeds.unknown, [unknown]);
      strictEqual(unknownAnswer.tracks.length, 500);
      ok(
        unknownAnswer.tracks.every((track) => track.track_uri !== outOfVocabulary),
        "a seed was recommended",
      );

      // A title whose words occur in no training title: CWVA by edit distance, which stderr names.
      const nonsense = await recommendSmokeJson(root, ["--title", "qwertyzzz", "--count", "5"]);
      strictEqual(nonsense.answer.method, "track2seq_cwva");
      strictEqual(nonsense.answer.title_match, "edit-distance");
      ok(
        nonsense.stderr.includes('no word of the title "qwertyzzz" occurs in a training title'),
        nonsense.stderr,
      );
      ok(nonsense.stderr.includes("CWVA matched the training titles by edit distance"), nonsense.stderr);
      ok(!nonsense.stderr.includes("seed tracks from the title"), nonsense.stderr);

      // A title that keeps no word after normalization, and no seed: popularity.
      const noWord = await recommendSmokeJson(root, ["--title", "Music"]);
      const noWordAnswer = noWord.answer;
      strictEqual(noWordAnswer.method, "popularity");
      strictEqual(noWordAnswer.popularity_fallback, true);
      deepStrictEqual(noWordAnswer.title_seeds, []);
      ok(noWord.stderr.includes('the title "Music" keeps no word once punctuation'), noWord.stderr);
      strictEqual(noWordAnswer.title_match, null);
      ok(!noWord.stderr.includes("cwva: learning"), "CWVA was fitted for a title without a usable word");

      // A playlist file gives the title and the seeds.
      const file = join(root, "playlist.json");
      await Deno.writeTextFile(
        file,
        JSON.stringify({ name: "road trip", tracks: [{ track_uri: inVocabulary[2] }] }),
      );
      const { answer: fileAnswer } = await recommendSmokeJson(root, ["--playlist", file, "--count", "3"]);
      strictEqual(fileAnswer.title, "road trip");
      deepStrictEqual(fileAnswer.seeds.used, [inVocabulary[2]]);
      strictEqual(fileAnswer.tracks.length, 3);

      // A profile that was never run.
      const missing = await runRecommend([
        "--root",
        join(root, "elsewhere"),
        "--profile",
        "smoke",
        "--title",
        "x",
      ]);
      strictEqual(missing.code, 1);
      ok(missing.stderr.includes('Run "deno task reproduce --profile smoke" first'), missing.stderr);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test("loadTrainedProfile hint fits recommend", async () => {
  await rejects(loadTrainedProfile(Deno.cwd(), "nosuch"), (error: Error) => {
    ok(error instanceof RangeError, error.name);
    ok(error.message.startsWith('Unknown profile "nosuch": use one of smoke, default, mpd'), error.message);
    ok(
      error.message.includes('mpd is the profile that "deno task reproduce --mpd DIR" trains'),
      error.message,
    );
    ok(!error.message.includes("or --mpd DIR for real data"), error.message);
    return true;
  });
});
