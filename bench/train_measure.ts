/** Token streams and memory readings shared by the training benchmarks that run in their own process. */

import * as tf from "@tensorflow/tfjs";
import { createRandom } from "../lib/util/random.ts";

/** Token ids with probability proportional to 1 / (rank + 1), as skewed as track counts. */
export function zipfStream(vocabSize: number, length: number, seed: number): Int32Array {
  const cumulative = new Float64Array(vocabSize);
  let total = 0;
  for (let rank = 0; rank < vocabSize; rank++) {
    total += 1 / (rank + 1);
    cumulative[rank] = total;
  }

  const random = createRandom(seed);
  const stream = new Int32Array(length);
  for (let i = 0; i < length; i++) {
    const u = random() * total;
    let low = 0;
    let high = vocabSize - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (cumulative[middle] > u) high = middle;
      else low = middle + 1;
    }
    stream[i] = low;
  }
  return stream;
}

/** Returns the process's peak resident memory in MiB (VmHWM of /proc/self/status), or -1 off Linux. */
export async function peakResidentMiB(): Promise<number> {
  try {
    const status = await Deno.readTextFile("/proc/self/status");
    const kib = Number(status.match(/^VmHWM:\s+(\d+) kB/m)?.[1]);
    return Number.isFinite(kib) ? kib / 1024 : -1;
  } catch {
    return -1;
  }
}

/** Returns the wasm backend's heap size in MiB, or -1 on other backends. The heap never shrinks. */
export function wasmHeapMiB(): number {
  const heap = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8;
  return heap === undefined ? -1 : heap.byteLength / 2 ** 20;
}
