import * as tf from "@tensorflow/tfjs";
import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { selectBackend } from "../lib/model/backend.ts";
import { RestorableRandom } from "../lib/model/negative_sampler.ts";
import { trainTrack2Seq } from "../lib/model/train.ts";
import { listCheckpointSteps, loadLatestCheckpoint } from "../lib/model/training_checkpoints.ts";
import type { LossPoint } from "../lib/model/training_state.ts";
import { createRandom } from "../lib/util/random.ts";
import { patternStream, SMALL_SAMPLED, VOCAB_SIZE } from "./helpers/patterns.ts";

await selectBackend("wasm");

const SCRIPT = new URL("./fixtures/resume_training.ts", import.meta.url).pathname;

/** 8 streams of 37 positions: 8 windows of 10 tokens every 4 tokens per epoch. */
const TOKENS = patternStream(60, 1).slice(0, 297);

/** Runs the fixture script to its end and returns its final learning curve. */
async function runToEnd(dir: string, tables = "heap"): Promise<LossPoint[]> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SCRIPT, "--dir", dir, "--steps", "20", "--every", "3", "--tables", tables],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  strictEqual(output.code, 0, `the training script failed: ${stderr}`);

  const lines = new TextDecoder().decode(output.stdout).trim().split("\n");
  return (JSON.parse(lines[lines.length - 1]) as { history: LossPoint[] }).history;
}

/** Starts the fixture script slowed down and kills it with SIGKILL once it has reported `killAfter` steps. */
async function runAndKill(dir: string, killAfter: number, tables = "heap"): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      SCRIPT,
      "--dir",
      dir,
      "--steps",
      "20",
      "--every",
      "3",
      "--delay-ms",
      "40",
      "--tables",
      tables,
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();

  let lastStep = 0;
  let buffered = "";
  const decoder = new TextDecoder();
  for await (const chunk of child.stdout) {
    buffered += decoder.decode(chunk, { stream: true });
    for (const line of buffered.split("\n").slice(0, -1)) {
      const report = JSON.parse(line) as { step?: number };
      if (report.step !== undefined) lastStep = report.step;
    }
    buffered = buffered.slice(buffered.lastIndexOf("\n") + 1);
    if (lastStep >= killAfter) {
      child.kill("SIGKILL");
      break;
    }
  }
  const status = await child.status;
  strictEqual(status.signal, "SIGKILL", `the training script ended by itself after step ${lastStep}`);
  return lastStep;
}

Deno.test("resume after SIGKILL matches uninterrupted run", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const uninterrupted = await runToEnd(`${dir}/uninterrupted`);
    const killedAfter = await runAndKill(`${dir}/killed`, 10);
    const saved = await listCheckpointSteps(`${dir}/killed`);
    const resumed = await runToEnd(`${dir}/killed`);

    strictEqual(uninterrupted.length, 20);
    // Checkpoints come every 3 steps, so the latest is at step 9 or, if the kill came late, a later one.
    strictEqual(saved.length, 1);
    ok(saved[0] >= 9 && saved[0] % 3 === 0, `latest checkpoint at step ${saved[0]}`);
    ok(saved[0] < 20, `the run was killed after step ${killedAfter} but saved step ${saved[0]}`);
    deepStrictEqual(resumed, uninterrupted);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("host-table resume after SIGKILL is exact", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const uninterrupted = await runToEnd(`${dir}/uninterrupted`, "host");
    await runAndKill(`${dir}/killed`, 10, "host");
    const saved = await listCheckpointSteps(`${dir}/killed`);
    const resumed = await runToEnd(`${dir}/killed`, "host");

    strictEqual(uninterrupted.length, 20);
    strictEqual(saved.length, 1);
    ok(saved[0] >= 9 && saved[0] < 20, `latest checkpoint at step ${saved[0]}`);
    deepStrictEqual(resumed, uninterrupted);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("resume in memory is exact", async () => {
  const uninterrupted = await trainTrack2Seq(TOKENS, VOCAB_SIZE, { ...SMALL_SAMPLED, maxSteps: 12 });
  const first = await trainTrack2Seq(TOKENS, VOCAB_SIZE, { ...SMALL_SAMPLED, maxSteps: 5 });
  const second = await trainTrack2Seq(TOKENS, VOCAB_SIZE, {
    ...SMALL_SAMPLED,
    maxSteps: 12,
    resumeFrom: first,
  });

  // Step 5 ends mid-epoch, so the carried state and the sampler's state matter; step 9 starts a new epoch.
  ok(first.position.carried !== null);
  deepStrictEqual(second.history, uninterrupted.history);
  deepStrictEqual(second.position, uninterrupted.position);
  for (const result of [uninterrupted, second]) {
    result.model.dispose();
    result.optimizer.dispose();
  }
});

Deno.test("periodic checkpoints keep the latest", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const tensorsBefore = tf.memory().numTensors;
    const result = await trainTrack2Seq(TOKENS, VOCAB_SIZE, {
      ...SMALL_SAMPLED,
      maxSteps: 5,
      checkpointDir: dir,
      checkpointEvery: 2,
      checkpointMetadata: { run: "test" },
    });
    const weights = result.model.namedWeights().length;
    // Each weight has a variable and two Adam moments; Adam adds two decay products.
    strictEqual(tf.memory().numTensors - tensorsBefore, 3 * weights + 2);

    deepStrictEqual(await listCheckpointSteps(dir), [5]);
    const entries = await Array.fromAsync(Deno.readDir(dir));
    deepStrictEqual(entries.map((entry) => entry.name), ["step-000000005"]);
    const loaded = await loadLatestCheckpoint(dir);
    ok(loaded !== undefined);
    strictEqual(loaded.step, 5);
    deepStrictEqual(loaded.metadata, { run: "test" });
    deepStrictEqual(loaded.history, result.history);
    deepStrictEqual(loaded.position, result.position);
    strictEqual(loaded.options?.checkpointEvery, 2);

    result.model.dispose();
    result.optimizer.dispose();
    loaded.model.dispose();
    loaded.optimizer?.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("resume rejects another stream", async () => {
  const first = await trainTrack2Seq(TOKENS, VOCAB_SIZE, { ...SMALL_SAMPLED, maxSteps: 2 });
  const other = patternStream(60, 2).slice(0, 297);

  await rejects(
    trainTrack2Seq(other, VOCAB_SIZE, { ...SMALL_SAMPLED, maxSteps: 3, resumeFrom: first }),
    /trained on a stream of 297 tokens/,
  );
  await rejects(
    trainTrack2Seq(TOKENS, VOCAB_SIZE, { ...SMALL_SAMPLED, stride: 5, maxSteps: 3, resumeFrom: first }),
    /trained with stride 4/,
  );
  first.model.dispose();
  first.optimizer.dispose();
});

Deno.test("fresh run rejects later checkpoints", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const first = await trainTrack2Seq(TOKENS, VOCAB_SIZE, {
      ...SMALL_SAMPLED,
      maxSteps: 3,
      checkpointDir: dir,
    });
    first.model.dispose();
    first.optimizer.dispose();

    await rejects(
      trainTrack2Seq(TOKENS, VOCAB_SIZE, { ...SMALL_SAMPLED, maxSteps: 3, checkpointDir: dir }),
      /contains the checkpoint of step 3/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("restorable random matches createRandom", () => {
  const reference = createRandom(42);
  const restorable = new RestorableRandom(42);
  for (let i = 0; i < 5; i++) strictEqual(restorable.next(), reference());

  const continued = new RestorableRandom(restorable.state);
  strictEqual(continued.next(), reference());
});
