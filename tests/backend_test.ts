import { deepStrictEqual, ok, rejects, strictEqual, throws } from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { chooseBackend, describeSelection } from "../lib/model/auto_backend.ts";
import {
  BACKEND_NAMES,
  initializeBackend,
  parseBackendChoice,
  runSelfTest,
  selectBackend,
  verifyBackend,
} from "../lib/model/backend.ts";
import { compareSelfTestValues, type SelfTestValues } from "../lib/model/self_test.ts";
import {
  type AdapterFacts,
  describeWebGpuAdapter,
  hasCanvas2d,
  judgeAdapter,
  judgeWorkload,
  workloadBuffers,
} from "../lib/model/webgpu.ts";

const MIB = 2 ** 20;

/** The limits that Deno 2.9's software adapter (llvmpipe) reports. */
const SOFTWARE_ADAPTER: AdapterFacts = {
  description: "llvmpipe (LLVM 15.0.6, 256 bits)",
  isFallbackAdapter: true,
  maxStorageBufferBindingSize: 128 * MIB,
  maxBufferSize: 2 ** 31 - 1,
};

const HARDWARE_ADAPTER: AdapterFacts = {
  ...SOFTWARE_ADAPTER,
  description: "a GPU",
  isFallbackAdapter: false,
};

/** The adapter of this machine, or null; the webgpu tests that need one are skipped without it. */
const localAdapter = await describeWebGpuAdapter();

const REPRODUCE = new URL("../tasks/reproduce.ts", import.meta.url).pathname;

Deno.test("parseBackendChoice accepts every backend and auto", () => {
  for (const name of [...BACKEND_NAMES, "auto"]) {
    strictEqual(parseBackendChoice(name), name);
  }
  deepStrictEqual([...BACKEND_NAMES], ["tensorflow", "webgpu", "wasm", "cpu"]);
});

Deno.test("parseBackendChoice rejects unknown names", () => {
  throws(() => parseBackendChoice("gpu"), (error: Error) => {
    ok(error instanceof RangeError);
    ok(error.message.includes('Invalid --backend "gpu"'), error.message);
    ok(error.message.includes("webgpu"), error.message);
    ok(error.message.includes("auto"), error.message);
    return true;
  });
  throws(() => parseBackendChoice("WASM", "--backends entry"), /Invalid --backends entry "WASM"/);
});

Deno.test("adapter check rejects a fallback adapter", () => {
  const verdict = judgeAdapter(SOFTWARE_ADAPTER);
  strictEqual(verdict.ok, false);
  if (verdict.ok) return;
  ok(verdict.reason.includes("software (fallback) adapter"), verdict.reason);
  ok(verdict.reason.includes("llvmpipe"), verdict.reason);
  ok(verdict.reason.includes("choose the wasm backend"), verdict.reason);
});

Deno.test("adapter check rejects a missing adapter", () => {
  const verdict = judgeAdapter(null);
  strictEqual(verdict.ok, false);
  if (verdict.ok) return;
  ok(verdict.reason.includes("no WebGPU adapter"), verdict.reason);
});

Deno.test("adapter check accepts a hardware adapter", () => {
  deepStrictEqual(judgeAdapter(HARDWARE_ADAPTER), { ok: true });
  deepStrictEqual(judgeAdapter(SOFTWARE_ADAPTER, true), { ok: true });
});

Deno.test("buffer guard accepts logits under the limit", () => {
  // [32 * 50, 20,000] float32 logits take 128,000,000 bytes, just under 128 MiB.
  deepStrictEqual(judgeWorkload({ vocabSize: 20_000, softmax: "full" }, HARDWARE_ADAPTER), { ok: true });
  deepStrictEqual(judgeWorkload({ vocabSize: 200_000, softmax: "sampled" }, HARDWARE_ADAPTER), { ok: true });
});

Deno.test("buffer guard rejects full-softmax logits over the limit", () => {
  const verdict = judgeWorkload({ vocabSize: 30_000, softmax: "full" }, HARDWARE_ADAPTER);
  strictEqual(verdict.ok, false);
  if (verdict.ok) return;
  ok(verdict.reason.includes("full-softmax training logits [1600, 30000] takes 183.1 MiB"), verdict.reason);
  ok(verdict.reason.includes("maxStorageBufferBindingSize of 128.0 MiB"), verdict.reason);
  ok(verdict.reason.includes("wrong numbers"), verdict.reason);
  ok(verdict.reason.includes("--softmax sampled"), verdict.reason);
  ok(!verdict.reason.includes("embedding table"), verdict.reason);
});

Deno.test("buffer guard rejects tables over the limit", () => {
  const verdict = judgeWorkload({ vocabSize: 700_000, softmax: "sampled" }, HARDWARE_ADAPTER);
  strictEqual(verdict.ok, false);
  if (verdict.ok) return;
  ok(verdict.reason.includes("embedding table [700000, 128] takes 341.8 MiB"), verdict.reason);
  ok(verdict.reason.includes("output kernel [128, 700000]"), verdict.reason);
  ok(verdict.reason.includes("prediction logits [64, 700000]"), verdict.reason);
  ok(verdict.reason.includes("a smaller vocabulary"), verdict.reason);

  // The same tables fit on a GPU with 2 GiB bindings.
  const large = { ...HARDWARE_ADAPTER, maxStorageBufferBindingSize: 2 ** 31 - 1 };
  deepStrictEqual(judgeWorkload({ vocabSize: 700_000, softmax: "sampled" }, large), { ok: true });
});

Deno.test("buffer guard uses the smaller of both limits", () => {
  const smallBuffers = { ...HARDWARE_ADAPTER, maxBufferSize: 64 * MIB };
  strictEqual(judgeWorkload({ vocabSize: 20_000, softmax: "full" }, smallBuffers).ok, false);
});

Deno.test("workloadBuffers lists the largest first", () => {
  const buffers = workloadBuffers({ vocabSize: 1000, batchSize: 2, window: 3, predictionBatch: 4 });
  deepStrictEqual(
    buffers.map((buffer) => [buffer.name, buffer.shape, buffer.bytes]),
    [
      ["embedding table", [1000, 128], 512_000],
      ["output kernel", [128, 1000], 512_000],
      ["full-softmax training logits", [6, 1000], 24_000],
      ["prediction logits", [4, 1000], 16_000],
    ],
  );
  throws(() => workloadBuffers({ vocabSize: 0 }), /vocabSize must be a positive integer, got 0/);
});

Deno.test("self-test comparison flags wrong values", () => {
  const expected: SelfTestValues = {
    softmax: Float32Array.of(0.25, 0.75),
    topkIndices: Int32Array.of(3, 1),
  };
  const same = compareSelfTestValues(expected, structuredClone(expected));
  strictEqual(same.passed, true);
  deepStrictEqual(same.checks, ["softmax", "topkIndices"]);

  const rounded = compareSelfTestValues(expected, { ...expected, softmax: Float32Array.of(0.25001, 0.75) });
  strictEqual(rounded.passed, true);

  const wrong = compareSelfTestValues(expected, { ...expected, softmax: Float32Array.of(0.25, 0) });
  strictEqual(wrong.passed, false);
  deepStrictEqual(wrong.mismatches, [{ check: "softmax", index: 1, expected: 0.75, actual: 0 }]);

  const swapped = compareSelfTestValues(expected, { ...expected, topkIndices: Int32Array.of(1, 3) });
  deepStrictEqual(swapped.mismatches.map((mismatch) => mismatch.check), ["topkIndices"]);

  const nan = compareSelfTestValues(expected, { ...expected, softmax: Float32Array.of(NaN, 0.75) });
  strictEqual(nan.passed, false);

  const missing = compareSelfTestValues(expected, { softmax: expected.softmax });
  deepStrictEqual(missing.mismatches, [{ check: "topkIndices", index: -1, expected: 2, actual: 0 }]);
});

Deno.test("self-test passes on wasm and cpu", async () => {
  const wasm = await runSelfTest("wasm");
  strictEqual(wasm.reference, "cpu");
  strictEqual(wasm.passed, true, JSON.stringify(wasm.mismatches));
  ok(wasm.checks.includes("gatherRowsGrad"));
  ok(wasm.checks.includes("fullSoftmaxGradKernel"));

  const cpu = await runSelfTest("cpu");
  strictEqual(cpu.reference, "wasm");
  strictEqual(cpu.passed, true, JSON.stringify(cpu.mismatches));
  strictEqual(tf.getBackend(), "cpu");
});

Deno.test("selectBackend rejects webgpu without a hardware adapter", {
  ignore: localAdapter !== null && !localAdapter.isFallbackAdapter,
}, async () => {
  await rejects(selectBackend("webgpu"), (error: Error) => {
    ok(error.message.startsWith("Selecting the webgpu backend failed: "), error.message);
    ok(
      error.message.includes("software (fallback) adapter") || error.message.includes("no WebGPU adapter"),
      error.message,
    );
    return true;
  });
});

Deno.test("selectBackend rejects a webgpu workload over the limit", {
  ignore: localAdapter === null,
}, async () => {
  await rejects(
    selectBackend("webgpu", Deno.cwd(), {
      allowFallbackAdapter: true,
      workload: { vocabSize: 10_000_000, softmax: "sampled" },
    }),
    /Selecting the webgpu backend failed: the embedding table \[10000000, 128\] takes/,
  );
});

Deno.test("webgpu kernels pass the self-test", { ignore: localAdapter === null }, async () => {
  // The software adapter computes like a GPU, so it shows whether tfjs-webgpu's own kernels (gather
  // gradients through UnsortedSegmentSum, transposed products, float one-hot) need fixes: they do not.
  const verdict = await verifyBackend("webgpu", Deno.cwd(), { allowFallbackAdapter: true });
  strictEqual(verdict.ok, true, verdict.ok ? "" : verdict.reason);
  strictEqual(verdict.selfTest?.reference, "wasm");
  strictEqual(verdict.selfTest?.passed, true);
  strictEqual(tf.getBackend(), "webgpu");
});

Deno.test("webgpu dataSync failure explains itself", {
  ignore: localAdapter === null || hasCanvas2d(),
}, async () => {
  await initializeBackend("webgpu");
  const tensor = tf.add(tf.ones([64, 64]), tf.ones([64, 64]));
  try {
    throws(() => tensor.dataSync(), (error: Error) => {
      ok(error.message.includes("Reading a tensor synchronously (dataSync) failed"), error.message);
      ok(error.message.includes("await tensor.data()"), error.message);
      return true;
    });
    strictEqual((await tensor.data())[0], 2);
  } finally {
    tensor.dispose();
  }
});

Deno.test("auto picks a backend that passed", async () => {
  // An empty project root has no native package, so tensorflow is rejected on every machine.
  const emptyRoot = await Deno.makeTempDir();
  try {
    const selection = await chooseBackend({
      projectRoot: emptyRoot,
      probe: {
        vocabSize: 60,
        batchSize: 4,
        window: 5,
        embeddingSize: 8,
        hiddenUnits: 8,
        timedSteps: 1,
        predictionPlaylists: 2,
        predictionSteps: 2,
      },
    });

    deepStrictEqual(selection.reports.map((report) => report.backend), [...BACKEND_NAMES]);
    for (const report of selection.reports) {
      ok(report.reason.length > 0, `${report.backend} has no reason`);
    }

    const tensorflow = selection.reports[0];
    strictEqual(tensorflow.outcome, "rejected");
    ok(tensorflow.reason.includes("is installed in"), tensorflow.reason);
    if (localAdapter === null || localAdapter.isFallbackAdapter) {
      strictEqual(selection.reports[1].outcome, "rejected");
    }

    const chosen = selection.reports.filter((report) => report.outcome === "chosen");
    strictEqual(chosen.length, 1);
    strictEqual(chosen[0].backend, selection.backend);
    strictEqual(chosen[0].verdict?.ok, true);
    const passed = selection.reports.filter((report) => report.outcome !== "rejected");
    ok(passed.some((report) => report.backend === "wasm"), "wasm did not pass");
    for (const report of passed) {
      ok(report.probe !== undefined, `${report.backend} passed without a probe`);
      ok(
        report.probe.trainingTokensPerSecond <= chosen[0].probe!.trainingTokensPerSecond,
        `${report.backend} was faster than the chosen ${selection.backend}`,
      );
    }

    strictEqual(tf.getBackend(), selection.registered);
    const lines = describeSelection(selection);
    strictEqual(lines[0], `backend auto: chose ${selection.backend}`);
    strictEqual(lines.length, 1 + BACKEND_NAMES.length);
  } finally {
    await Deno.remove(emptyRoot, { recursive: true });
  }
});

Deno.test("auto without a working candidate lists reasons", async () => {
  const emptyRoot = await Deno.makeTempDir();
  try {
    await rejects(chooseBackend({ projectRoot: emptyRoot, candidates: ["tensorflow"] }), (error: Error) => {
      ok(error.message.startsWith("Choosing a backend failed: no candidate passed."), error.message);
      ok(error.message.includes("\ntensorflow: neither @tensorflow/tfjs-node-gpu"), error.message);
      return true;
    });
  } finally {
    await Deno.remove(emptyRoot, { recursive: true });
  }
});

/** Runs tasks/reproduce.ts with `args` and returns its exit code and error output. */
async function runReproduce(args: string[]): Promise<{ code: number; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", REPRODUCE, ...args],
    stdout: "null",
    stderr: "piped",
  }).output();
  return { code: output.code, stderr: new TextDecoder().decode(output.stderr) };
}

Deno.test("reproduce accepts --backend auto and webgpu", async () => {
  // An unknown profile stops the run after the options are parsed and before any stage or backend starts.
  for (const backend of ["auto", "webgpu"]) {
    const { code, stderr } = await runReproduce(["--backend", backend, "--profile", "no-such-profile"]);
    strictEqual(code, 2, stderr);
    ok(!stderr.includes("Invalid --backend"), stderr);
    ok(stderr.includes("no-such-profile"), stderr);
  }
});

Deno.test("reproduce rejects an unknown --backend", async () => {
  const { code, stderr } = await runReproduce(["--backend", "gpu"]);
  strictEqual(code, 2);
  ok(stderr.includes('Invalid --backend "gpu": use tensorflow, webgpu, wasm, cpu or auto.'), stderr);
});
