/**
 * The state of a training run: what a checkpoint stores so that a resumed run continues exactly where the
 * interrupted one stopped.
 * @module
 */

import type * as tf from "@tensorflow/tfjs";
import type { Track2SeqModel } from "./network.ts";
import type { SparseAdam } from "./sparse_adam.ts";

/** The training loss of one step, in nats per token, of the configured softmax. */
export interface LossPoint {
  step: number;
  loss: number;
}

/** Loss on held-out tokens. */
export interface LossReport {
  /** Mean cross-entropy in nats per predicted token. */
  loss: number;
  /** exp(loss). */
  perplexity: number;
  /** Number of predicted tokens. */
  tokens: number;
}

/** A full-softmax dev loss measured after `step` steps. */
export type DevLossPoint = { step: number } & LossReport;

/**
 * The LSTM state carried from one training step into the next, as plain values, so it can be stored without
 * owning tensors. Per layer one array of [streams * hiddenUnits] values, row-major (row = stream).
 */
export interface CarriedState {
  h: Float32Array[];
  c: Float32Array[];
}

/**
 * The position of a training run in its token stream beyond the step count. The step decides the epoch and
 * the window, and this adds what the step cannot restore.
 */
export interface TrainingPosition {
  /** Number of tokens of the training stream. A resumed run must use the same stream. */
  streamTokens: number;
  /** FNV-1a hash of the training stream, 8 hexadecimal digits. */
  streamHash: string;
  /** The options that decide which tokens each step reads. A resumed run must use the same values. */
  window: number;
  stride: number;
  batchSize: number;
  /**
   * The LSTM state after the last step, which the next step starts from. Null at the end of an epoch,
   * because every epoch starts from a zero state.
   */
  carried: CarriedState | null;
  /**
   * The state of the negative sampler's random generator after the last step. Null with the full softmax.
   */
  samplerRandomState: number | null;
}

/** A model with the optimizer that trains it, the number of steps taken so far and the run's position. */
export interface TrainingState {
  model: Track2SeqModel;
  /** Absent for a model loaded without optimizer state; training then starts a fresh optimizer. */
  optimizer?: tf.AdamOptimizer;
  /**
   * Lazy Adam of a model with host tables (tables `host`), whose moments live in host memory beside the
   * tables. Absent for in-heap tables, or when training should start the tables' moments afresh.
   */
  tableOptimizer?: SparseAdam;
  step: number;
  /**
   * Absent for a model saved without a position: a resumed run then starts the LSTM from a zero state and
   * the negative sampler from its seed, so it does not repeat the uninterrupted run's numbers.
   */
  position?: TrainingPosition;
  /** Training loss of every step up to `step`. A resumed run appends to it. */
  history?: LossPoint[];
  /** Dev losses measured up to `step`. A resumed run appends to it. */
  devHistory?: DevLossPoint[];
}
