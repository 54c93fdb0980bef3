/**
 * Cutting a token stream into parallel streams and windows for training and evaluation.
 *
 * The stream is all playlists concatenated with the end-of-playlist token between them. It is cut into
 * `streams` contiguous pieces that are read side by side, one window per step, so the LSTM state at the end
 * of one window is the right starting state for the next (truncated backpropagation through time).
 * @module
 */

/** The cut of a token stream into parallel streams. */
export interface StreamLayout {
  streams: number;
  /** Input positions per stream; stream `s` reads inputs at s * streamLength + i and targets one later. */
  streamLength: number;
}

/** @param action the name of the failing action in error messages, such as "Training". */
export function layoutStreams(tokenCount: number, streams: number, action: string): StreamLayout {
  const streamLength = Math.floor((tokenCount - 1) / streams);
  if (streamLength < 1) {
    throw new RangeError(
      `${action} failed: ${tokenCount} tokens are too few for ` +
        `${streams} parallel streams. Use at least ${streams + 1} tokens or a smaller batchSize.`,
    );
  }
  return { streams, streamLength };
}

/**
 * Window starts 0, stride, 2 * stride, ... until a window reaches the end of the stream. Every position is
 * in some window; the last window may be shorter than `window`.
 */
export function windowStarts(streamLength: number, window: number, stride: number): number[] {
  const starts = [0];
  while (starts[starts.length - 1] + window < streamLength) {
    starts.push(starts[starts.length - 1] + stride);
  }
  return starts;
}

/** Inputs and targets of one window of all streams, time-major [length * streams]. */
export interface WindowBatch {
  inputs: Int32Array;
  targets: Int32Array;
}

export function windowBatch(
  tokens: Int32Array,
  layout: StreamLayout,
  start: number,
  length: number,
): WindowBatch {
  const { streams, streamLength } = layout;
  const inputs = new Int32Array(length * streams);
  const targets = new Int32Array(length * streams);
  for (let t = 0; t < length; t++) {
    for (let s = 0; s < streams; s++) {
      const position = s * streamLength + start + t;
      inputs[t * streams + s] = tokens[position];
      targets[t * streams + s] = tokens[position + 1];
    }
  }
  return { inputs, targets };
}

/** @param action the name of the failing action in error messages, such as "Training". */
export function validateTokens(tokens: Int32Array, vocabSize: number, action: string): void {
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i] < 0 || tokens[i] >= vocabSize) {
      throw new RangeError(
        `${action} failed: token ${tokens[i]} at position ${i} ` +
          `is outside the vocabulary [0, ${vocabSize}). Build the stream with the model's vocabulary.`,
      );
    }
  }
}

/**
 * Hashes a token stream with 32-bit FNV-1a over the bytes of each token, little-endian, and returns 8
 * hexadecimal digits. It detects a resumed run given another stream by mistake, not deliberate collisions.
 */
export function hashTokens(tokens: Int32Array): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    for (let shift = 0; shift < 32; shift += 8) {
      hash ^= (token >>> shift) & 0xff;
      hash = Math.imul(hash, 0x01000193);
    }
  }
  return (hash >>> 0).toString(16).padStart(8, "0");
}
