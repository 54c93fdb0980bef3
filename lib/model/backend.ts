/**
 * Choosing the TensorFlow.js backend that trains and runs the model.
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { installKernelFixes } from "./kernels.ts";

/**
 * A backend name:
 * - `tensorflow`: native TensorFlow through `@tensorflow/tfjs-node-gpu` (CUDA) or `@tensorflow/tfjs-node`
 *   (CPU), whichever is installed in `node_modules`, the GPU package first.
 * - `wasm`: WebAssembly with SIMD, single-threaded under Deno; the default on a CPU-only machine.
 * - `cpu`: plain JavaScript, slow but dependency-free.
 */
export type BackendName = "tensorflow" | "wasm" | "cpu";

/** The native packages tried for `tensorflow`, in order of preference. */
const NATIVE_PACKAGES = ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"] as const;

/**
 * Sets the TensorFlow.js backend and waits until it is ready. On `wasm` and `cpu` it also registers the
 * kernel fixes of `installKernelFixes`, which training needs.
 *
 * @param name the backend to use.
 * @param projectRoot the folder whose `node_modules` is searched for the native packages. Defaults to the
 *   current working folder.
 * @returns the name under which TensorFlow.js registered the backend, such as `wasm` or `tensorflow`.
 * @throws {Error} when `tensorflow` is requested and neither native package is installed, or when the
 *   backend fails to initialize.
 */
export async function selectBackend(name: BackendName, projectRoot: string = Deno.cwd()): Promise<string> {
  switch (name) {
    case "tensorflow":
      await importNativeBackend(projectRoot);
      await activate("tensorflow");
      return tf.getBackend();
    case "wasm":
      await import("@tensorflow/tfjs-backend-wasm");
      installKernelFixes("wasm");
      await activate("wasm");
      return tf.getBackend();
    case "cpu":
      installKernelFixes("cpu");
      await activate("cpu");
      return tf.getBackend();
    default:
      throw new RangeError(
        `Selecting a backend failed: unknown backend "${name}". Use "tensorflow", "wasm" or "cpu".`,
      );
  }
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
