/**
 * Choosing the TensorFlow.js backend that trains and runs the model.
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { installKernelFixes } from "./kernels.ts";
import {
  compareSelfTestValues,
  computeSelfTestValues,
  describeSelfTest,
  type SelfTestResult,
  type SelfTestValues,
} from "./self_test.ts";
import {
  type AdapterFacts,
  describeWebGpuAdapter,
  explainSyncReadFailures,
  judgeAdapter,
  judgeWorkload,
  type WorkloadShape,
} from "./webgpu.ts";

/**
 * A backend name:
 * - `tensorflow`: native TensorFlow through `@tensorflow/tfjs-node-gpu` (CUDA) or `@tensorflow/tfjs-node`
 *   (CPU), whichever is installed in `node_modules`, the GPU package first.
 * - `webgpu`: `@tensorflow/tfjs-backend-webgpu` on Deno's `navigator.gpu`, used only on a hardware adapter
 *   that passes the numeric self-test against wasm. NOTE: tfjs-webgpu cannot read a tensor synchronously
 *   (`dataSync`) under Deno, so training, dev evaluation, checkpoints and guided prediction read with
 *   `await tensor.data()`. On Deno's software adapter, accepted with `allowFallbackAdapter`, they give the
 *   losses and recommendations of wasm (tests/webgpu_test.ts).
 * - `wasm`: WebAssembly with SIMD, single-threaded under Deno; the default on a CPU-only machine.
 * - `cpu`: plain JavaScript, slow but dependency-free.
 */
export type BackendName = "tensorflow" | "webgpu" | "wasm" | "cpu";

/** A backend name, or `auto`: the fastest backend that passes its self-test (see `chooseBackend`). */
export type BackendChoice = BackendName | "auto";

/** Every backend, in the order `auto` tries them. */
export const BACKEND_NAMES: readonly BackendName[] = ["tensorflow", "webgpu", "wasm", "cpu"];

/**
 * Parses the value of a `--backend` option.
 *
 * @param option the option's name, for the error message.
 * @throws {RangeError} when `text` is not a backend name or `auto`.
 */
export function parseBackendChoice(text: string, option = "--backend"): BackendChoice {
  const choices: readonly string[] = [...BACKEND_NAMES, "auto"];
  if (!choices.includes(text)) {
    throw new RangeError(`Invalid ${option} "${text}": use ${choices.slice(0, -1).join(", ")} or auto.`);
  }
  return text as BackendChoice;
}

/** Options of {@linkcode selectBackend}. */
export interface SelectBackendOptions {
  /**
   * The shapes of the run. On `webgpu`, every tensor must fit into one storage buffer binding of the adapter,
   * and the selection is rejected when one does not. Other backends ignore it. Default: not checked.
   */
  workload?: WorkloadShape;
  /** Accept a software (fallback) WebGPU adapter, for diagnostics. Default false. */
  allowFallbackAdapter?: boolean;
}

/** The native packages tried for `tensorflow`, in order of preference. */
const NATIVE_PACKAGES = ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"] as const;

/**
 * Sets the TensorFlow.js backend and waits until it is ready. On `wasm` and `cpu` it also registers the
 * kernel fixes of `installKernelFixes`, which training needs. On `webgpu` it first checks the adapter and the
 * workload's buffer sizes, then runs the numeric self-test against wasm once per process.
 *
 * @param name the backend to use.
 * @param projectRoot the folder whose `node_modules` is searched for the native packages. Defaults to the
 *   current working folder.
 * @returns the name under which TensorFlow.js registered the backend, such as `wasm` or `tensorflow`.
 * @throws {Error} when `tensorflow` is requested and neither native package is installed, when `webgpu` has
 *   no hardware adapter, a workload tensor too large for it, or a failed self-test, or when the backend fails
 *   to initialize.
 */
export async function selectBackend(
  name: BackendName,
  projectRoot: string = Deno.cwd(),
  options: SelectBackendOptions = {},
): Promise<string> {
  if (!(BACKEND_NAMES as readonly string[]).includes(name)) {
    throw new RangeError(
      `Selecting a backend failed: unknown backend "${name}". Use ${BACKEND_NAMES.join(", ")}, or resolve ` +
        `"auto" with chooseBackend first.`,
    );
  }
  if (name !== "webgpu") {
    await initializeBackend(name, projectRoot);
    return tf.getBackend();
  }

  const verdict = await verifyBackend("webgpu", projectRoot, options);
  if (!verdict.ok) throw new Error(`Selecting the webgpu backend failed: ${verdict.reason}`);
  await initializeBackend("webgpu", projectRoot);
  return tf.getBackend();
}

/** The outcome of {@linkcode verifyBackend}. */
export type BackendVerdict =
  & ({ ok: true } | { ok: false; reason: string })
  & { selfTest?: SelfTestResult & { reference: BackendName } };

/** The adapter that the webgpu backend was checked on, once checked. */
let webgpuAdapter: AdapterFacts | null | undefined;

/** Self-test results by backend, so `verifyBackend` runs each backend's self-test once per process. */
const selfTests = new Map<BackendName, SelfTestResult & { reference: BackendName }>();

/**
 * Checks whether `name` may be used: it must start, and its numeric self-test must match the reference
 * backend. On `webgpu` the adapter must be a hardware one, and the workload, when given, must fit into its
 * storage buffer bindings. Both are checked before the backend starts. The self-test runs once per process
 * and backend. Leaves `name` active when it started.
 *
 * @returns `ok`, or the reason for rejecting, with the self-test's result when it ran.
 */
export async function verifyBackend(
  name: BackendName,
  projectRoot: string = Deno.cwd(),
  options: SelectBackendOptions = {},
): Promise<BackendVerdict> {
  if (name === "webgpu") {
    webgpuAdapter ??= await describeWebGpuAdapter();
    const adapterVerdict = judgeAdapter(webgpuAdapter, options.allowFallbackAdapter);
    if (!adapterVerdict.ok) return adapterVerdict;
    if (options.workload !== undefined) {
      const workloadVerdict = judgeWorkload(options.workload, webgpuAdapter as AdapterFacts);
      if (!workloadVerdict.ok) return workloadVerdict;
    }
  }

  let selfTest = selfTests.get(name);
  try {
    if (selfTest === undefined) {
      selfTest = await runSelfTest(name, projectRoot);
      selfTests.set(name, selfTest);
    } else {
      await initializeBackend(name, projectRoot);
    }
  } catch (error) {
    return { ok: false, reason: withoutPrefix((error as Error).message) };
  }
  if (!selfTest.passed) {
    return {
      ok: false,
      reason: `its ${describeSelfTest(selfTest, selfTest.reference)}. The backend computes wrong numbers; ` +
        "choose another backend.",
      selfTest,
    };
  }
  return { ok: true, selfTest };
}

/** Strips a leading "Selecting the X backend failed: " from a message, which the caller states itself. */
function withoutPrefix(message: string): string {
  return message.replace(/^Selecting the \w+ backend failed: /, "");
}

/**
 * Checks `workload` against the buffer limit of the active backend's adapter: a no-op unless the active
 * backend is webgpu. Call it when the shapes become known after `selectBackend`, such as after loading a
 * model.
 *
 * @throws {Error} when a tensor of `workload` is larger than one storage buffer binding of the adapter.
 */
export function assertWorkloadFits(workload: WorkloadShape): void {
  if (tf.getBackend() !== "webgpu" || !webgpuAdapter) return;
  const verdict = judgeWorkload(workload, webgpuAdapter);
  if (!verdict.ok) throw new Error(`Running on the webgpu backend failed: ${verdict.reason}`);
}

/**
 * Imports, registers and activates a backend without any check: the native package for `tensorflow`, the
 * backend package and kernel fixes for `webgpu` and `wasm`, the kernel fixes for `cpu`.
 */
export async function initializeBackend(name: BackendName, projectRoot: string = Deno.cwd()): Promise<void> {
  switch (name) {
    case "tensorflow":
      await importNativeBackend(projectRoot);
      await activate("tensorflow");
      return;
    case "webgpu":
      await import("@tensorflow/tfjs-backend-webgpu");
      await activate("webgpu");
      explainSyncReadFailures(tf.backend());
      return;
    case "wasm":
      await import("@tensorflow/tfjs-backend-wasm");
      installKernelFixes("wasm");
      await activate("wasm");
      return;
    case "cpu":
      installKernelFixes("cpu");
      await activate("cpu");
      return;
  }
}

/** The reference values of the self-test, by reference backend. */
const referenceValues = new Map<BackendName, SelfTestValues>();

/**
 * Runs the numeric self-test of `name` against its reference, wasm (cpu when `name` is wasm), and leaves
 * `name` as the active backend. Both backends must start.
 *
 * @returns the comparison, with the reference's name in `reference`.
 * @throws {Error} when either backend fails to initialize or a kernel throws.
 */
export async function runSelfTest(
  name: BackendName,
  projectRoot: string = Deno.cwd(),
): Promise<SelfTestResult & { reference: BackendName }> {
  const reference: BackendName = name === "wasm" ? "cpu" : "wasm";
  let expected = referenceValues.get(reference);
  if (expected === undefined) {
    await initializeBackend(reference, projectRoot);
    expected = await computeSelfTestValues();
    referenceValues.set(reference, expected);
  }

  await initializeBackend(name, projectRoot);
  const actual = await computeSelfTestValues();
  return { ...compareSelfTestValues(expected, actual), reference };
}

async function activate(name: string): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok) {
    throw new Error(
      `Selecting the ${name} backend failed: TensorFlow.js could not initialize it. ` +
        `Run with --allow-read so the backend can load its files, or choose another backend.`,
    );
  }
  await tf.ready();
}

/**
 * Imports the first installed native package. The specifier is computed, so Deno does not try to resolve or
 * download a package that is not installed.
 */
async function importNativeBackend(projectRoot: string): Promise<void> {
  for (const packageName of NATIVE_PACKAGES) {
    if (existsSync(join(projectRoot, "node_modules", ...packageName.split("/")))) {
      // Resolved through the imports of deno.json, where the install instructions below add the package.
      const specifier: string = packageName;
      await import(specifier);
      return;
    }
  }

  throw new Error(
    `Selecting the tensorflow backend failed: neither ${NATIVE_PACKAGES.join(" nor ")} is installed in ` +
      `${join(projectRoot, "node_modules")}. On a machine with CUDA 11.2 and cuDNN 8.1, add ` +
      `"@tensorflow/tfjs-node-gpu": "npm:@tensorflow/tfjs-node-gpu@4.22.0" to the imports of deno.json ` +
      `and run ` +
      `\`deno install --allow-scripts=npm:@tensorflow/tfjs-node-gpu\` (its install script downloads ` +
      `libtensorflow). Without a GPU use @tensorflow/tfjs-node the same way, or choose the "wasm" backend.`,
  );
}
