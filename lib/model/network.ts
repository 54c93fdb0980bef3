/**
 * The Track2Seq network: a token embedding, stacked LSTM layers and a dense projection to the vocabulary.
 *
 * The LSTM is written with TensorFlow.js ops on plain variables, and the recurrent state is passed in and
 * returned explicitly, so a training loop can carry it from batch to batch and dispose it reliably.
 * Sequences are time-major: row `t * batch + b` of a flattened sequence is time step `t` of stream `b`,
 * which makes every time step a contiguous block of rows.
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { createRandom, type RandomSource } from "../util/random.ts";
import { HostTables, type TableStorage, transposeMatrix } from "./host_tables.ts";

/** Sizes of a Track2Seq network. */
export interface NetworkConfig {
  /** Number of tokens, special tokens included. */
  vocabSize: number;
  /** Width of the token embedding. Default 128. */
  embeddingSize: number;
  /** Units per LSTM layer. Default 128. */
  hiddenUnits: number;
  /** Number of stacked LSTM layers. Default 2. */
  layers: number;
}

/** Default sizes, those of the original study. */
export const DEFAULT_NETWORK_CONFIG: Omit<NetworkConfig, "vocabSize"> = {
  embeddingSize: 128,
  hiddenUnits: 128,
  layers: 2,
};

/** Weights of one LSTM layer. Gate blocks along the last axis are ordered input, forget, output, cell. */
export interface LstmWeights {
  /** Input weights, [inputSize, 4 * units]. */
  kernel: tf.Variable;
  /** Recurrent weights, [units, 4 * units]. */
  recurrentKernel: tf.Variable;
  /** Gate biases, [4 * units]. */
  bias: tf.Variable;
}

/**
 * The recurrent state: per layer the hidden and cell state, each [batch, units]. A type alias rather than an
 * interface, so that `tf.tidy` accepts it as a tensor container.
 */
export type LstmState = {
  h: tf.Tensor2D[];
  c: tf.Tensor2D[];
};

/** A weight with the stable name under which checkpoints store it. */
export interface NamedWeight {
  name: string;
  variable: tf.Variable;
}

/** The names of the weights that a model with tables in host memory keeps there. */
const TABLE_WEIGHTS = new Set(["embedding", "output/kernel", "output/bias"]);

/**
 * A Track2Seq network and its weights. Call {@linkcode Track2SeqModel.dispose} to free the weights.
 *
 * The embedding and output tables live either in the wasm heap as variables (`tables` is `heap`), or in
 * host memory as {@linkcode HostTables} (`tables` is `host`), which lets the vocabulary grow beyond the
 * 4 GiB wasm heap. With host tables, `embedding`, `outputKernel` and `outputBias` throw; use
 * {@linkcode Track2SeqModel.run}, {@linkcode Track2SeqModel.logits} or {@linkcode Track2SeqModel.outputSlice},
 * which work with both.
 */
export class Track2SeqModel {
  readonly config: NetworkConfig;
  readonly lstm: LstmWeights[];
  /** The tables in host memory, or null when they are variables in the wasm heap. */
  readonly host: HostTables | null;
  // Plain private fields, not #fields, so that Object.create(model) still reads them.
  private readonly heapTables:
    | { embedding: tf.Variable; outputKernel: tf.Variable; outputBias: tf.Variable }
    | null;

  /**
   * Wraps existing weights; use {@linkcode createModel} for fresh ones.
   * @param weights tensors by the names of {@linkcode weightShapes}. The model takes ownership of them,
   *   except when the constructor throws. With `host`, the embedding and output weights are left out.
   * @param host the embedding and output tables in host memory; the model takes them over.
   * @throws {RangeError} when a weight is missing or has the wrong shape for `config`.
   */
  constructor(config: NetworkConfig, weights: Map<string, tf.Tensor>, host?: HostTables) {
    validateConfig(config);
    this.config = { ...config };
    if (
      host !== undefined &&
      (host.vocabSize !== config.vocabSize || host.embeddingSize !== config.embeddingSize ||
        host.hiddenUnits !== config.hiddenUnits)
    ) {
      throw new RangeError(
        `Building the Track2Seq model failed: the host tables are [${host.vocabSize}, ` +
          `${host.embeddingSize}] and [${host.vocabSize}, ${host.hiddenUnits}], which do not fit ` +
          `${JSON.stringify(config)}.`,
      );
    }

    const shapes = weightShapes(config).filter(([name]) => host === undefined || !TABLE_WEIGHTS.has(name));
    for (const [name, shape] of shapes) {
      const tensor = weights.get(name);
      if (tensor === undefined) {
        throw new RangeError(`Building the Track2Seq model failed: weight "${name}" is missing.`);
      }
      if (!tf.util.arraysEqual(tensor.shape, shape)) {
        throw new RangeError(
          `Building the Track2Seq model failed: weight "${name}" has shape [${tensor.shape}], ` +
            `expected [${shape}] for ${JSON.stringify(config)}.`,
        );
      }
    }

    const take = (name: string): tf.Variable => {
      const tensor = weights.get(name) as tf.Tensor;
      const variable = tf.variable(tensor, true);
      tensor.dispose();
      return variable;
    };
    const embedding = host === undefined ? take("embedding") : undefined;
    this.lstm = [];
    for (let layer = 0; layer < config.layers; layer++) {
      this.lstm.push({
        kernel: take(`lstm_${layer}/kernel`),
        recurrentKernel: take(`lstm_${layer}/recurrent_kernel`),
        bias: take(`lstm_${layer}/bias`),
      });
    }
    this.host = host ?? null;
    this.heapTables = embedding === undefined ? null : {
      embedding,
      outputKernel: take("output/kernel"),
      outputBias: take("output/bias"),
    };
  }

  /** The storage of the embedding and output tables. */
  get tables(): TableStorage {
    return this.host === null ? "heap" : "host";
  }

  /** Token embedding, [vocabSize, embeddingSize]. @throws {Error} with host tables. */
  get embedding(): tf.Variable {
    return this.heapTable("embedding");
  }

  /** Output projection, [hiddenUnits, vocabSize]. @throws {Error} with host tables. */
  get outputKernel(): tf.Variable {
    return this.heapTable("outputKernel");
  }

  /** Output bias, [vocabSize]. @throws {Error} with host tables. */
  get outputBias(): tf.Variable {
    return this.heapTable("outputBias");
  }

  private heapTable(name: "embedding" | "outputKernel" | "outputBias"): tf.Variable {
    if (this.heapTables === null) {
      throw new Error(
        `Reading ${name} failed: this model keeps its tables in host memory (tables "host"). Read ` +
          `model.host, or use run, logits and outputSlice, which work with both kinds of tables.`,
      );
    }
    return this.heapTables[name];
  }

  /**
   * Returns the weights in the wasm heap in a fixed order, with their checkpoint names: all weights, or
   * with host tables only the LSTM weights.
   */
  namedWeights(): NamedWeight[] {
    const named: NamedWeight[] = [];
    if (this.heapTables !== null) named.push({ name: "embedding", variable: this.heapTables.embedding });
    this.lstm.forEach((weights, layer) => {
      named.push({ name: `lstm_${layer}/kernel`, variable: weights.kernel });
      named.push({ name: `lstm_${layer}/recurrent_kernel`, variable: weights.recurrentKernel });
      named.push({ name: `lstm_${layer}/bias`, variable: weights.bias });
    });
    if (this.heapTables !== null) {
      named.push({ name: "output/kernel", variable: this.heapTables.outputKernel });
      named.push({ name: "output/bias", variable: this.heapTables.outputBias });
    }
    return named;
  }

  /** Creates a zero state for `batch` streams. */
  zeroState(batch: number): LstmState {
    const units = this.config.hiddenUnits;
    const h: tf.Tensor2D[] = [];
    const c: tf.Tensor2D[] = [];
    for (let layer = 0; layer < this.config.layers; layer++) {
      h.push(tf.zeros([batch, units]));
      c.push(tf.zeros([batch, units]));
    }
    return { h, c };
  }

  /**
   * Runs the LSTM layers over a window of `steps` time steps for `batch` streams.
   *
   * @param tokens token ids, int32, time-major [steps * batch].
   * @param state the state before the first step; it is not disposed.
   * @param carryAfter how many steps the returned state has seen, 1 to `steps`. Defaults to `steps`. Training
   *   on overlapping windows carries the state after the window's stride, where the next window starts.
   * @returns the top layer's output, time-major [steps * batch, hiddenUnits], and the state after
   *   `carryAfter` steps. The caller owns both.
   */
  run(
    tokens: tf.Tensor1D,
    batch: number,
    state: LstmState,
    carryAfter?: number,
  ): { hidden: tf.Tensor2D; state: LstmState } {
    const carryStep = checkWindow(tokens.shape[0], batch, carryAfter);
    return tf.tidy(() => {
      // Host tables need the ids on the host. Callers pass a tensor just made from host values, which every
      // backend returns without a device read, so this synchronous read works on webgpu too.
      const embedded = this.heapTables === null
        ? (this.host as HostTables).embeddingRows(tokens.dataSync() as Int32Array)
        : tf.gather(this.heapTables.embedding, tokens) as tf.Tensor2D;
      return this.runLayers(embedded, state, carryStep);
    });
  }

  /**
   * Runs the LSTM layers as {@linkcode Track2SeqModel.run} does, from embedded tokens instead of token ids,
   * so a training step with host tables can differentiate with respect to the embedding rows it uploaded.
   *
   * @param embedded the embedding of each token, time-major [steps * batch, embeddingSize].
   */
  runEmbedded(
    embedded: tf.Tensor2D,
    batch: number,
    state: LstmState,
    carryAfter?: number,
  ): { hidden: tf.Tensor2D; state: LstmState } {
    const carryStep = checkWindow(embedded.shape[0], batch, carryAfter);
    return tf.tidy(() => this.runLayers(embedded, state, carryStep));
  }

  private runLayers(
    embedded: tf.Tensor2D,
    state: LstmState,
    carryStep: number,
  ): { hidden: tf.Tensor2D; state: LstmState } {
    const next: LstmState = { h: [], c: [] };
    let layerInput: tf.Tensor2D = embedded;

    for (let layer = 0; layer < this.config.layers; layer++) {
      const weights = this.lstm[layer];

      // One product for the whole window's input contribution, so each step only adds the recurrent part.
      const projected = tf.add(tf.matMul(layerInput, weights.kernel), weights.bias) as tf.Tensor2D;
      const layerOutput = lstmLayer(
        projected,
        weights.recurrentKernel,
        state.h[layer],
        state.c[layer],
        carryStep,
      );

      const rows = projected.shape[0];
      const batch = state.h[layer].shape[0];
      layerInput = tf.slice(layerOutput, [0, 0], [rows, -1]);
      next.h.push(tf.slice(layerOutput, [rows, 0], [batch, -1]));
      next.c.push(tf.slice(layerOutput, [rows + batch, 0], [batch, -1]));
    }
    return { hidden: layerInput, state: next };
  }

  /**
   * Advances `tokens.shape[0]` streams by one step. Rows where `mask` is 0 keep their old state.
   *
   * @param tokens token ids, int32, [batch].
   * @param state the state before the step; it is not disposed.
   * @param mask 1 for rows that advance, 0 for rows that keep their state, [batch, 1]. Defaults to all 1.
   * @returns the logits over the vocabulary, [batch, vocabSize], and the new state. The caller owns both.
   */
  step(tokens: tf.Tensor1D, state: LstmState, mask?: tf.Tensor2D): { logits: tf.Tensor2D; state: LstmState } {
    return tf.tidy(() => {
      const { hidden, state: next } = this.stepHidden(tokens, state, mask);
      return { logits: this.logits(hidden), state: next };
    });
  }

  /**
   * Advances the streams by one step as {@linkcode Track2SeqModel.step} does, but returns the top layer's
   * output [batch, hiddenUnits] instead of the logits, for a caller that projects it in slices.
   */
  stepHidden(
    tokens: tf.Tensor1D,
    state: LstmState,
    mask?: tf.Tensor2D,
  ): { hidden: tf.Tensor2D; state: LstmState } {
    return tf.tidy(() => {
      const { hidden, state: advanced } = this.run(tokens, tokens.shape[0], state);
      if (mask === undefined) {
        return { hidden, state: advanced };
      }

      // A selection rather than old + mask * (fresh - old), so advancing rows get exactly the values that
      // an unmasked step gives them.
      const advances = tf.cast(mask, "bool");
      const keepOld = (fresh: tf.Tensor2D, old: tf.Tensor2D): tf.Tensor2D => tf.where(advances, fresh, old);
      const next: LstmState = {
        h: advanced.h.map((h, layer) => keepOld(h, state.h[layer])),
        c: advanced.c.map((c, layer) => keepOld(c, state.c[layer])),
      };
      return { hidden, state: next };
    });
  }

  /**
   * Projects hidden states [rows, hiddenUnits] to logits [rows, vocabSize]. With host tables the output
   * table is uploaded slice by slice, but the result is still [rows, vocabSize]. At large vocabularies,
   * project onto the slices of `OutputSlices` (lib/model/output_slices.ts) instead.
   */
  logits(hidden: tf.Tensor2D): tf.Tensor2D {
    if (this.heapTables === null) {
      return tf.tidy(() => {
        const parts: tf.Tensor2D[] = [];
        const vocabSize = this.config.vocabSize;
        const sliceSize = Math.max(1, Math.floor(OUTPUT_SLICE_VALUES / Math.max(1, hidden.shape[0])));
        for (let start = 0; start < vocabSize; start += sliceSize) {
          const { kernel, bias } = this.outputSlice(start, Math.min(sliceSize, vocabSize - start));
          parts.push(tf.fused.matMul({ a: hidden, b: kernel, transposeB: true, bias }) as tf.Tensor2D);
        }
        return parts.length === 1 ? parts[0] : tf.concat(parts, 1);
      });
    }
    // The fused product adds the bias while writing the output, saving a pass over [rows, vocabSize].
    return tf.fused.matMul({
      a: hidden,
      b: this.heapTables.outputKernel as tf.Tensor2D,
      bias: this.heapTables.outputBias,
    }) as tf.Tensor2D;
  }

  /**
   * Returns the output weights of tokens `start` to `start + count - 1`, with either kind of tables: kernel
   * rows [count, hiddenUnits], one row per token, and bias [count]. The caller owns both tensors.
   */
  outputSlice(start: number, count: number): { kernel: tf.Tensor2D; bias: tf.Tensor1D } {
    const vocabSize = this.config.vocabSize;
    if (
      !Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 1 ||
      start + count > vocabSize
    ) {
      throw new RangeError(
        `Slicing the output table failed: tokens [${start}, ${
          start + count
        }) are not within [0, ${vocabSize}).`,
      );
    }
    if (this.heapTables === null) return (this.host as HostTables).outputSlice(start, count);
    const { outputKernel, outputBias } = this.heapTables;
    return tf.tidy(() => ({
      kernel: tf.transpose(tf.slice(outputKernel, [0, start], [-1, count])) as tf.Tensor2D,
      bias: tf.slice(outputBias, [start], [count]) as tf.Tensor1D,
    }));
  }

  /** Frees the weights. The model cannot be used afterwards. */
  dispose(): void {
    for (const { variable } of this.namedWeights()) {
      variable.dispose();
    }
  }
}

/**
 * The number of logits one slice of the output table produces at most, rows times tokens: 16 M values,
 * 64 MiB in float32.
 */
export const OUTPUT_SLICE_VALUES = 16 * 2 ** 20;

/**
 * Checks that `rows` rows split into steps of `batch` and that `carryAfter` is a step of the window.
 * @returns the step after which the state is carried.
 */
function checkWindow(rows: number, batch: number, carryAfter: number | undefined): number {
  const steps = rows / batch;
  if (!Number.isInteger(steps) || steps < 1) {
    throw new RangeError(
      `Running the LSTM failed: ${rows} tokens do not split into steps of batch ${batch}.`,
    );
  }
  const carryStep = carryAfter ?? steps;
  if (!Number.isInteger(carryStep) || carryStep < 1 || carryStep > steps) {
    throw new RangeError(`Running the LSTM failed: carryAfter ${carryAfter} is not in [1, ${steps}].`);
  }
  return carryStep;
}

/**
 * Runs one LSTM layer over a window, as one custom op with a hand-written backward pass.
 *
 * Automatic differentiation of the step loop runs dozens of small kernels per step and copies every tensor
 * it saves. Here the backward pass takes 7 kernels per step, because every factor that does not depend on
 * the incoming gradient is computed for the whole window at once. Measured with `tf.profile` on wasm
 * (2 layers, 50 steps, batch 32, sampled softmax), a training step ran about 7,000 kernels before and 2,300
 * with this op. Gates are ordered input, forget, output, cell candidate.
 *
 * @param projected input contribution plus bias, time-major [steps * batch, 4 * units].
 * @param recurrentKernel [units, 4 * units].
 * @param h0 hidden state before the window, [batch, units].
 * @param c0 cell state before the window, [batch, units].
 * @param carryStep the step after which the returned state is taken, 1 to steps.
 * @returns [steps * batch + 2 * batch, units]: first the hidden states, time-major, then `batch` rows of the
 *   hidden state after `carryStep` steps, then `batch` rows of the cell state after `carryStep` steps.
 */
function lstmLayer(
  projected: tf.Tensor2D,
  recurrentKernel: tf.Tensor,
  h0: tf.Tensor2D,
  c0: tf.Tensor2D,
  carryStep: number,
): tf.Tensor2D {
  const [batch, units] = h0.shape;
  const steps = projected.shape[0] / batch;

  const layer = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [z, kernel, hStart, cStart] = args as tf.Tensor2D[];
    const save = args[4] as tf.GradSaveFunc;
    const perStep = tf.split(z, steps, 0);
    const gates: tf.Tensor[][] = [[], [], [], []];
    const cells: tf.Tensor[] = [];
    const cellTanhs: tf.Tensor[] = [];
    const outputs: tf.Tensor[] = [];

    let h = hStart;
    let c = cStart;
    for (let t = 0; t < steps; t++) {
      const [inputPart, forgetPart, outputPart, candidatePart] = tf.split(
        tf.add(perStep[t], tf.matMul(h, kernel)),
        4,
        1,
      );
      const inputGate = tf.sigmoid(inputPart);
      const forgetGate = tf.sigmoid(forgetPart);
      const outputGate = tf.sigmoid(outputPart);
      const candidate = tf.tanh(candidatePart);
      c = tf.add(tf.mul(forgetGate, c), tf.mul(inputGate, candidate));
      const cellTanh = tf.tanh(c);
      h = tf.mul(outputGate, cellTanh);

      [inputGate, forgetGate, outputGate, candidate].forEach((gate, k) => gates[k].push(gate));
      cells.push(c);
      cellTanhs.push(cellTanh);
      outputs.push(h);
    }

    const hidden = tf.concat(outputs, 0);
    save([
      ...gates.map((list) => tf.concat(list, 0)),
      tf.concat(cells, 0),
      tf.concat(cellTanhs, 0),
      hidden,
      kernel,
      hStart,
      cStart,
    ]);
    return {
      value: tf.concat([hidden, outputs[carryStep - 1], cells[carryStep - 1]], 0),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
        lstmLayerGradients(dy as tf.Tensor2D, saved as tf.Tensor2D[], steps, batch, units, carryStep),
    };
  });
  return layer(projected, recurrentKernel, h0, c0) as tf.Tensor2D;
}

/**
 * Backpropagation through time for {@linkcode lstmLayer}, with i, f, o, g the gates, c the cell state and
 * h = o * tanh(c). Per step, from the last: dh = dH[t] + dh', dc = dh * o * (1 - tanh(c)^2) + dc',
 * dz = [dc * g * i(1 - i), dc * c[t-1] * f(1 - f), dh * tanh(c) * o(1 - o), dc * i * (1 - g^2)],
 * then dc' = dc * f and dh' = dz U^T for the step before.
 *
 * @returns gradients of the projected input [steps * batch, 4 * units], the recurrent kernel, h0 and c0.
 */
function lstmLayerGradients(
  dy: tf.Tensor2D,
  saved: tf.Tensor2D[],
  steps: number,
  batch: number,
  units: number,
  carryStep: number,
): tf.Tensor[] {
  const [inputGates, forgetGates, outputGates, candidates, cells, cellTanhs, hidden, kernel, h0, c0] = saved;
  const rows = steps * batch;
  const one = tf.scalar(1);

  // Step-independent factors for the whole window, [steps * batch, units] each.
  const previousCells = tf.concat([c0, tf.slice(cells, [0, 0], [rows - batch, units])], 0);
  const previousHidden = tf.concat([h0, tf.slice(hidden, [0, 0], [rows - batch, units])], 0);
  const cellFromHidden = tf.mul(outputGates, tf.sub(one, tf.square(cellTanhs)));
  const sigmoidSlope = (gate: tf.Tensor2D) => tf.mul(gate, tf.sub(one, gate));
  const gateFactors = tf.concat([
    tf.mul(candidates, sigmoidSlope(inputGates)),
    tf.mul(previousCells, sigmoidSlope(forgetGates)),
    tf.mul(cellTanhs, sigmoidSlope(outputGates)),
    tf.mul(inputGates, tf.sub(one, tf.square(candidates))),
  ], 1);

  const hiddenGrads = tf.split(tf.slice(dy, [0, 0], [rows, units]), steps, 0);
  const carriedHiddenGrad = tf.slice(dy, [rows, 0], [batch, units]);
  const carriedCellGrad = tf.slice(dy, [rows + batch, 0], [batch, units]);
  const cellFactors = tf.split(cellFromHidden, steps, 0);
  const forgetFactors = tf.split(forgetGates, steps, 0);
  const gateFactorSteps = tf.split(gateFactors, steps, 0);
  const kernelTransposed = tf.transpose(kernel);

  const gateGrads: tf.Tensor[] = new Array(steps);
  let hiddenNext: tf.Tensor | undefined;
  let cellNext: tf.Tensor | undefined;
  for (let t = steps - 1; t >= 0; t--) {
    let dh: tf.Tensor = hiddenNext === undefined ? hiddenGrads[t] : tf.add(hiddenGrads[t], hiddenNext);
    if (t === carryStep - 1) dh = tf.add(dh, carriedHiddenGrad);
    let dc = tf.mul(dh, cellFactors[t]);
    if (cellNext !== undefined) dc = tf.add(dc, cellNext);
    if (t === carryStep - 1) dc = tf.add(dc, carriedCellGrad);

    gateGrads[t] = tf.mul(tf.concat([dc, dc, dh, dc], 1), gateFactorSteps[t]);
    cellNext = tf.mul(dc, forgetFactors[t]);
    hiddenNext = tf.matMul(gateGrads[t], kernelTransposed);
  }

  const projectedGrad = tf.concat(gateGrads, 0);
  const kernelGrad = tf.matMul(previousHidden, projectedGrad, true, false);
  return [projectedGrad, kernelGrad, hiddenNext as tf.Tensor, cellNext as tf.Tensor];
}

/**
 * Creates a network with fresh weights drawn from `seed`: embedding uniform in [-0.05, 0.05], input and
 * output kernels Glorot-uniform, recurrent kernels orthogonal per gate block, biases zero except the forget
 * gate's, which is 1. The same config and seed give the same weights on every backend.
 *
 * Both kinds of tables get the same weights from the same seed.
 *
 * @param config sizes; fields left out take {@linkcode DEFAULT_NETWORK_CONFIG}.
 * @param tables where the embedding and output tables live; see {@linkcode Track2SeqModel}. Default `heap`.
 * @throws {RangeError} when a size is not a positive integer or `vocabSize` is below 3.
 */
export function createModel(
  config: Partial<NetworkConfig> & Pick<NetworkConfig, "vocabSize">,
  seed: number,
  tables: TableStorage = "heap",
): Track2SeqModel {
  const full: NetworkConfig = { ...DEFAULT_NETWORK_CONFIG, ...config };
  validateConfig(full);
  if (tables !== "heap" && tables !== "host") {
    throw new RangeError(
      `Building the Track2Seq model failed: tables must be "heap" or "host", got "${tables}".`,
    );
  }
  const random = createRandom(seed);
  const { vocabSize, embeddingSize, hiddenUnits, layers } = full;

  const weights = new Map<string, tf.Tensor>();
  const embedding = uniform(random, vocabSize * embeddingSize, 0.05);
  if (tables === "heap") weights.set("embedding", tf.tensor2d(embedding, [vocabSize, embeddingSize]));

  for (let layer = 0; layer < layers; layer++) {
    const inputSize = layer === 0 ? embeddingSize : hiddenUnits;
    weights.set(`lstm_${layer}/kernel`, glorotUniform(random, inputSize, 4 * hiddenUnits));
    weights.set(`lstm_${layer}/recurrent_kernel`, recurrentOrthogonal(random, hiddenUnits));

    const bias = new Float32Array(4 * hiddenUnits);
    bias.fill(1, hiddenUnits, 2 * hiddenUnits);
    weights.set(`lstm_${layer}/bias`, tf.tensor1d(bias));
  }

  const outputKernel = glorotUniformValues(random, hiddenUnits, vocabSize);
  if (tables === "host") {
    const host = new HostTables(full, {
      embedding,
      outputKernel: transposeMatrix(outputKernel, hiddenUnits, vocabSize),
      outputBias: new Float32Array(vocabSize),
    });
    return new Track2SeqModel(full, weights, host);
  }
  weights.set("output/kernel", tf.tensor2d(outputKernel, [hiddenUnits, vocabSize]));
  weights.set("output/bias", tf.zeros([vocabSize]));
  return new Track2SeqModel(full, weights);
}

/**
 * Returns a copy of `model` whose embedding and output tables live in host memory, for prediction or
 * training at vocabularies too large for the wasm heap. `model` is left as it is; the caller disposes
 * both. A model that already has host tables is copied as well.
 */
export async function copyWithHostTables(model: Track2SeqModel): Promise<Track2SeqModel> {
  const { vocabSize, hiddenUnits } = model.config;
  // Read with `await data()`, because the webgpu backend cannot read synchronously under Deno.
  const host = model.host === null
    ? new HostTables(model.config, {
      embedding: (await model.embedding.data() as Float32Array).slice(),
      outputKernel: transposeMatrix(await model.outputKernel.data() as Float32Array, hiddenUnits, vocabSize),
      outputBias: (await model.outputBias.data() as Float32Array).slice(),
    })
    : new HostTables(model.config, {
      embedding: model.host.embedding.slice(),
      outputKernel: model.host.outputKernel.slice(),
      outputBias: model.host.outputBias.slice(),
    });
  // The weights are cloned after the reads, so a failed read leaves no tensor behind.
  const weights = new Map<string, tf.Tensor>();
  for (const { name, variable } of model.namedWeights()) {
    if (!TABLE_WEIGHTS.has(name)) weights.set(name, variable.clone());
  }
  return new Track2SeqModel(model.config, weights, host);
}

/**
 * Returns the checkpoint names and shapes of all weights of a network with `config`, in the order of
 * {@linkcode Track2SeqModel.namedWeights}.
 */
export function weightShapes(config: NetworkConfig): [string, number[]][] {
  const { vocabSize, embeddingSize, hiddenUnits, layers } = config;
  const shapes: [string, number[]][] = [["embedding", [vocabSize, embeddingSize]]];
  for (let layer = 0; layer < layers; layer++) {
    const inputSize = layer === 0 ? embeddingSize : hiddenUnits;
    shapes.push([`lstm_${layer}/kernel`, [inputSize, 4 * hiddenUnits]]);
    shapes.push([`lstm_${layer}/recurrent_kernel`, [hiddenUnits, 4 * hiddenUnits]]);
    shapes.push([`lstm_${layer}/bias`, [4 * hiddenUnits]]);
  }
  shapes.push(["output/kernel", [hiddenUnits, vocabSize]]);
  shapes.push(["output/bias", [vocabSize]]);
  return shapes;
}

/** Disposes every tensor of `state`. */
export function disposeState(state: LstmState): void {
  tf.dispose([...state.h, ...state.c]);
}

function validateConfig(config: NetworkConfig): void {
  for (const key of ["vocabSize", "embeddingSize", "hiddenUnits", "layers"] as const) {
    const value = config[key];
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(
        `Building the Track2Seq model failed: ${key} must be a positive integer, got ${value}.`,
      );
    }
  }
  if (config.vocabSize < 3) {
    throw new RangeError(
      `Building the Track2Seq model failed: vocabSize ${config.vocabSize} leaves no track token ` +
        `besides the end-of-playlist and unknown tokens.`,
    );
  }
}

function uniform(random: RandomSource, size: number, limit: number): Float32Array {
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    values[i] = (2 * random() - 1) * limit;
  }
  return values;
}

/** Draws a [fanIn, fanOut] matrix uniform in ±sqrt(6 / (fanIn + fanOut)) (Glorot and Bengio, 2010). */
function glorotUniform(random: RandomSource, fanIn: number, fanOut: number): tf.Tensor2D {
  return tf.tensor2d(glorotUniformValues(random, fanIn, fanOut), [fanIn, fanOut]);
}

/** Draws the values of {@linkcode glorotUniform}, row-major [fanIn, fanOut]. */
function glorotUniformValues(random: RandomSource, fanIn: number, fanOut: number): Float32Array {
  return uniform(random, fanIn * fanOut, Math.sqrt(6 / (fanIn + fanOut)));
}

/** Draws a [units, 4 * units] matrix whose four [units, units] gate blocks are each orthogonal. */
function recurrentOrthogonal(random: RandomSource, units: number): tf.Tensor2D {
  const values = new Float32Array(units * 4 * units);
  for (let block = 0; block < 4; block++) {
    const q = orthogonal(random, units);
    for (let row = 0; row < units; row++) {
      for (let col = 0; col < units; col++) {
        values[row * 4 * units + block * units + col] = q[row * units + col];
      }
    }
  }
  return tf.tensor2d(values, [units, 4 * units]);
}

/** Draws a random orthogonal [n, n] matrix, row-major, by Gram-Schmidt on the rows of a Gaussian matrix. */
function orthogonal(random: RandomSource, n: number): Float64Array {
  const q = new Float64Array(n * n);
  for (let i = 0; i < n * n; i++) {
    q[i] = gaussian(random);
  }

  for (let row = 0; row < n; row++) {
    const current = q.subarray(row * n, (row + 1) * n);
    for (let previous = 0; previous < row; previous++) {
      const basis = q.subarray(previous * n, (previous + 1) * n);
      let dot = 0;
      for (let k = 0; k < n; k++) dot += current[k] * basis[k];
      for (let k = 0; k < n; k++) current[k] -= dot * basis[k];
    }
    let norm = 0;
    for (let k = 0; k < n; k++) norm += current[k] * current[k];
    norm = Math.sqrt(norm);
    for (let k = 0; k < n; k++) current[k] /= norm;
  }
  return q;
}

/** Draws a standard normal number (Box-Muller transform). */
function gaussian(random: RandomSource): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
