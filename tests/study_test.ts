import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { generateSyntheticMpd } from "../lib/mpd/generate.ts";
import type { MpdSlice } from "../lib/mpd/schema.ts";
import { ALL_METHODS, getProfile } from "../lib/pipeline/profiles.ts";
import { describeRun, describeTrainingSetup, runStudy, SAMPLED_LOSS_NOTE } from "../lib/pipeline/study.ts";
import type { SplitArtifact } from "../lib/pipeline/paths.ts";
import { SEED_BUCKETS } from "../lib/data/split.ts";
import { evaluateRecommender } from "../lib/eval/evaluate.ts";
import { fitProfileCwva, loadTrainedProfile } from "../lib/pipeline/trained_profile.ts";
import { SILENT_REPORTER } from "../lib/pipeline/reporter.ts";

/** Writes generated slices as a real MPD copy cut down in the wild would look: fields dropped, pids renumbered. */
async function writeCutDownMpd(dir: string, playlists: number): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  for (const slice of generateSyntheticMpd({ playlists, seed: 5 })) {
    const cut: MpdSlice = {
      info: { generated_on: "unknown", slice: slice.info.slice, version: "v1" },
      playlists: slice.playlists.map((playlist) => ({
        pid: playlist.pid + 500000,
        name: playlist.name,
        num_followers: playlist.num_followers,
        tracks: playlist.tracks.map((track) => ({
          track_uri: track.track_uri,
          track_name: track.track_name,
          artist_name: track.artist_name,
        })),
      })),
    };
    const first = cut.playlists[0].pid;
    const last = cut.playlists[cut.playlists.length - 1].pid;
    await Deno.writeTextFile(join(dir, `mpd.slice.${first}-${last}.json`), JSON.stringify(cut));
  }
}

Deno.test({
  name: "runStudy on a cut-down MPD folder",
  // TF.js keeps its backend registry and timers for the whole process.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const root = await Deno.makeTempDir();
    try {
      const mpd = join(root, "input");
      await writeCutDownMpd(mpd, 3000);

      const config = getProfile("mpd");
      config.mpdDir = mpd;
      config.devSize = 10;
      config.testSize = 30;
      config.training = { ...config.training, maxSteps: 2, batchSize: 8 };
      config.prediction = { steps: 10, topK: 20 };
      config.baselines = { wmf: { factors: 8, iterations: 2 }, w2v: { epochs: 1, dimension: 16 } };
      const outcome = await runStudy(config, { root, backend: "wasm" });

      const evaluations = ALL_METHODS.map((method) => `evaluate ${method}`);
      deepStrictEqual(outcome.ran, ["ingest", "split", "train", ...evaluations, "report"]);
      strictEqual(outcome.results.synthetic, false);
      deepStrictEqual(Object.keys(outcome.results.methods), ALL_METHODS);
      for (const method of Object.values(outcome.results.methods)) {
        strictEqual(method.overall.playlists, 30);
        deepStrictEqual(Object.keys(method.by_seed).map(Number).sort((a, b) => a - b), [...SEED_BUCKETS]);
      }

      const split: SplitArtifact = JSON.parse(await Deno.readTextFile(outcome.paths.splitFile));
      deepStrictEqual(split.strata_features, ["num_tracks", "popularity"]);
      deepStrictEqual(split.strata_missing, { num_tracks: 0, popularity: 0 });
      ok(split.test.every((pid) => pid >= 500000), "test pids are the input's pids");
      for (
        const name of ["results.json", "results.md", "r_precision_by_seed.svg", "r_precision_by_seed.png"]
      ) {
        ok((await Deno.stat(join(outcome.paths.figuresDir, name))).size > 0, `${name} is empty`);
      }

      // deno task recommend fits CWVA as the study's cwva method does, so it scores the same.
      const profile = await loadTrainedProfile(root, "mpd");
      const cwva = await evaluateRecommender(fitProfileCwva(profile), profile.split.testCases, {
        batchSize: 64,
      });
      const saved = JSON.parse(await Deno.readTextFile(join(outcome.paths.methodsDir, "cwva.json")));
      // The saved file went through JSON, which writes NaN as null.
      deepStrictEqual(JSON.parse(JSON.stringify(cwva.results)), saved.results);
      deepStrictEqual(JSON.parse(JSON.stringify(cwva.scores)), saved.scores);

      // Nothing changed, so a second run reuses every stage.
      const again = await runStudy(config, { root, backend: "wasm" });
      deepStrictEqual(again.ran, []);

      // A changed prediction setting reruns only the methods that predict with Track2Seq, and the report.
      config.prediction = { steps: 12, topK: 20 };
      const changed = await runStudy(config, { root, backend: "wasm" });
      deepStrictEqual(changed.ran, ["evaluate track2seq", "evaluate track2seq_cwva", "report"]);

      // Host tables (reproduce's --tables host) are part of the training stage's key and its manifest.
      config.training = { ...config.training, softmax: "sampled", sampledNegatives: 50, tables: "host" };
      const messages: string[] = [];
      const reporter = { ...SILENT_REPORTER, info: (message: string) => messages.push(message) };
      const host = await runStudy(config, { root, backend: "wasm", reporter });
      const trainLine = messages.find((message) => message.includes("training tokens"));
      ok(
        trainLine?.endsWith(", sampled softmax with 50 negatives, tables host (JavaScript memory)"),
        trainLine,
      );
      ok(messages.includes(`train: ${SAMPLED_LOSS_NOTE}`), messages.join("\n"));
      deepStrictEqual(host.ran, ["train", "evaluate track2seq", "evaluate track2seq_cwva", "report"]);
      const training = JSON.parse(await Deno.readTextFile(host.paths.trainingFile));
      strictEqual(training.config.tables, "host");
      const modelFile = JSON.parse(await Deno.readTextFile(join(host.paths.modelDir, "model.json")));
      strictEqual(modelFile.track2seq.tables, "host");
      for (const method of ["track2seq", "track2seq_cwva"]) {
        strictEqual(host.results.methods[method].overall.playlists, 30);
      }
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test("describeTrainingSetup names softmax and tables", () => {
  const training = getProfile("smoke").training;
  strictEqual(describeTrainingSetup(training), "full softmax, tables heap (TensorFlow.js variables)");
  strictEqual(
    describeTrainingSetup({ ...training, softmax: "sampled", sampledNegatives: 1000, tables: "host" }),
    "sampled softmax with 1000 negatives, tables host (JavaScript memory)",
  );
  ok(SAMPLED_LOSS_NOTE.includes("sampled-softmax loss"), SAMPLED_LOSS_NOTE);
  ok(SAMPLED_LOSS_NOTE.includes("dev loss is the full-softmax loss"), SAMPLED_LOSS_NOTE);
});

Deno.test("describeRun names profile and run name", () => {
  const config = getProfile("smoke");
  strictEqual(describeRun("smoke", config), "profile smoke (synthetic data)");
  config.name = "trial";
  strictEqual(describeRun("smoke", config), "profile smoke, run name trial (synthetic data)");
  const mpd = getProfile("mpd");
  mpd.mpdDir = "/data/mpd";
  strictEqual(describeRun("mpd", mpd), "profile mpd from /data/mpd");
});
