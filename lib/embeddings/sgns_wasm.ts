/**
 * The inner update of skip-gram with negative sampling as a WebAssembly module with 128-bit SIMD, built
 * from bytes in this file, so no compiler or downloaded binary is needed.
 *
 * The module imports a memory, which may be shared between workers, and exports three functions:
 *
 * - `update(input, positive, learningRate, scratch, rowBytes, negatives, outputBase, table, tableSize,
 *   maxDot)` trains the input row at byte offset `input` against output row `positive` (label 1) and the
 *   negatives (label 0) that the previous call drew, skipping any equal to `positive`. For each target with
 *   |input . output| < maxDot it computes g = (label - sigmoid(input . output)) * learningRate, adds
 *   g * output to a gradient row and adds g * input to the output row. After the last target it adds the gradient to the input row. This is the
 *   update of word2vec's `train_sg_pair`. Output row r starts at `outputBase + r * rowBytes`, and
 *   `rowBytes` is a multiple of 32. Before training, it draws the next call's `negatives` from the alias
 *   table and starts loading their rows.
 * - `sample(state, table, tableSize)` draws one row from the alias table.
 * - `random(state)` advances the mulberry32 state at address `state` and returns the next u32.
 *
 * A thread's scratch at `scratch` holds, in order: the gradient row (`rowBytes`), the target list
 * (`negatives + 1` i32), the drawn negatives (`negatives` i32), the random state (i32) and one f32.
 * @module
 */

const I32 = 0x7f;
const F32 = 0x7d;
const F64 = 0x7c;
const V128 = 0x7b;

// Indices of the update function's parameters, then its locals.
const INPUT = 0;
const POSITIVE = 1;
const LEARNING_RATE = 2;
const SCRATCH = 3;
const ROW_BYTES = 4;
const NEGATIVES = 5;
const OUTPUT_BASE = 6;
const TABLE = 7;
const TABLE_SIZE = 8;
const MAX_DOT = 9;
const GRADIENT = 10;
const TARGETS = 11;
const AHEAD = 12;
const STATE = 13;
const COUNT = 14;
const TARGET_INDEX = 15;
const OFFSET = 16;
const OUTPUT_ROW = 17;
const NEGATIVE = 18;
const SUM = 19;
const SCALE = 20;
const SUM_HIGH = 21;
const STEP = 22;
const TOUCHED = 23;
const DOT = 24;

// Function indices.
const EXP_FUNCTION = 0;
const RANDOM_FUNCTION = 1;
const SAMPLE_FUNCTION = 2;
const UPDATE_FUNCTION = 3;

/** Encodes an unsigned integer as LEB128. */
function unsigned(value: number): number[] {
  const bytes: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (value !== 0);
  return bytes;
}

/** Encodes a signed 32-bit integer as LEB128. */
function signed(value: number): number[] {
  const bytes: number[] = [];
  while (true) {
    const byte = value & 0x7f;
    value >>= 7;
    const done = (value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0);
    bytes.push(done ? byte : byte | 0x80);
    if (done) return bytes;
  }
}

function name(text: string): number[] {
  const bytes = [...new TextEncoder().encode(text)];
  return [...unsigned(bytes.length), ...bytes];
}

function vector(items: number[][]): number[] {
  return [...unsigned(items.length), ...items.flat()];
}

function section(id: number, contents: number[]): number[] {
  return [id, ...unsigned(contents.length), ...contents];
}

/** Instructions used below, by their WebAssembly text names. */
const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  brIf: (depth: number) => [0x0d, ...unsigned(depth)],
  call: (index: number) => [0x10, ...unsigned(index)],
  localGet: (index: number) => [0x20, ...unsigned(index)],
  localSet: (index: number) => [0x21, ...unsigned(index)],
  localTee: (index: number) => [0x22, ...unsigned(index)],
  i32Load: [0x28, 0x02, 0x00],
  i32LoadAt: (offset: number) => [0x28, 0x02, ...unsigned(offset)],
  i32Store: [0x36, 0x02, 0x00],
  f32Load: [0x2a, 0x02, 0x00],
  f32StoreAt: (offset: number) => [0x38, 0x02, ...unsigned(offset)],
  i32Const: (value: number) => [0x41, ...signed(value)],
  f64Const: (value: number) => [0x44, ...new Uint8Array(Float64Array.of(value).buffer)],
  i32Eqz: [0x45],
  i32Eq: [0x46],
  i32LtU: [0x49],
  i32Add: [0x6a],
  i32Mul: [0x6c],
  i32Or: [0x72],
  i32Xor: [0x73],
  i32Shl: [0x74],
  i32ShrU: [0x76],
  i32WrapI64: [0xa7],
  i64ExtendI32U: [0xad],
  i64Mul: [0x7e],
  i64ShrU: [0x88],
  select: [0x1b],
  f32Sub: [0x93],
  f32Abs: [0x8b],
  f32Ge: [0x60],
  f32Mul: [0x94],
  f32Add: [0x92],
  f64Neg: [0x9a],
  f64Nearest: [0x9e],
  f64Add: [0xa0],
  f64Sub: [0xa1],
  f64Mul: [0xa2],
  f64Div: [0xa3],
  f64Min: [0xa4],
  f64Max: [0xa5],
  i64TruncF64S: [0xb0],
  i64Add: [0x7c],
  i64Shl: [0x86],
  i64Const: (value: number) => [0x42, ...signed(value)],
  f64ReinterpretI64: [0xbf],
  f32DemoteF64: [0xb6],
  f32ConvertI32U: [0xb3],
  f64PromoteF32: [0xbb],
  v128Load: (offset: number) => [0xfd, 0x00, 0x04, ...unsigned(offset)],
  v128Store: (offset: number) => [0xfd, 0x0b, 0x04, ...unsigned(offset)],
  v128Zero: [0xfd, 0x0c, ...new Array(16).fill(0)],
  f32x4Splat: [0xfd, 0x13],
  f32x4ExtractLane: (lane: number) => [0xfd, 0x1f, lane],
  f32x4Add: [0xfd, ...unsigned(0xe4)],
  f32x4Mul: [0xfd, ...unsigned(0xe6)],
  /** Relaxed SIMD's a * b + c, fused into one instruction where the CPU has FMA. */
  f32x4MulAdd: [0xfd, ...unsigned(0x105)],
};

/**
 * Emits `for (index = 0; index < limit; index += step) body`, for a body that runs at least once. `index`
 * and `limit` are local indices.
 */
function countedLoop(index: number, limit: number, step: number, body: number[]): number[] {
  return [
    ...op.i32Const(0),
    ...op.localSet(index),
    ...op.loop,
    ...body,
    ...op.localGet(index),
    ...op.i32Const(step),
    ...op.i32Add,
    ...op.localTee(index),
    ...op.localGet(limit),
    ...op.i32LtU,
    ...op.brIf(0),
    ...op.end,
  ];
}

/** Emits `body(0)` and `body(16)` in a loop over OFFSET = 0, 32, ... while OFFSET < rowBytes. */
function overRow(body: (half: number) => number[][]): number[] {
  return countedLoop(OFFSET, ROW_BYTES, 32, [...body(0).flat(), ...body(16).flat()]);
}

/** Pushes the address `list + 4 * index`, element `index` of an i32 list. */
function element(list: number, index: number): number[] {
  return [...op.localGet(list), ...op.localGet(index), ...op.i32Const(2), ...op.i32Shl, ...op.i32Add];
}

/** Pushes the address `base + OFFSET`. */
function at(base: number): number[] {
  return [...op.localGet(base), ...op.localGet(OFFSET), ...op.i32Add];
}

function updateBody(): number[] {
  const zeroGradient = overRow((half) => [at(GRADIENT), op.v128Zero, op.v128Store(half)]);

  // SUM += input * output over the first half of each 32 bytes, SUM_HIGH over the second, so the two
  // chains of additions run in parallel.
  const dot = overRow((half) => {
    const sum = half === 0 ? SUM : SUM_HIGH;
    return [
      at(INPUT),
      op.v128Load(half),
      at(OUTPUT_ROW),
      op.v128Load(half),
      op.localGet(sum),
      op.f32x4MulAdd,
      op.localSet(sum),
    ];
  });
  // gradient += SCALE * output; output += SCALE * input.
  const accumulate = overRow((half) => [
    at(GRADIENT),
    op.localGet(SCALE),
    at(OUTPUT_ROW),
    op.v128Load(half),
    at(GRADIENT),
    op.v128Load(half),
    op.f32x4MulAdd,
    op.v128Store(half),
    at(OUTPUT_ROW),
    op.localGet(SCALE),
    at(INPUT),
    op.v128Load(half),
    at(OUTPUT_ROW),
    op.v128Load(half),
    op.f32x4MulAdd,
    op.v128Store(half),
  ]);
  const applyGradient = overRow((half) => [
    at(INPUT),
    at(INPUT),
    op.v128Load(half),
    at(GRADIENT),
    op.v128Load(half),
    op.f32x4Add,
    op.v128Store(half),
  ]);

  // STEP = (label - 1 / (1 + exp(-dot))) * learningRate, where label is 1 for the first target only.
  const lanes = [0, 1, 2, 3].map((lane) => [...op.localGet(SUM), ...op.f32x4ExtractLane(lane)]);
  const step = [
    ...op.localGet(TARGET_INDEX),
    ...op.i32Eqz,
    ...op.f32ConvertI32U,
    ...op.f64Const(1),
    ...op.f64Const(1),
    ...op.localGet(DOT),
    ...op.f64PromoteF32,
    ...op.f64Neg,
    ...op.call(EXP_FUNCTION),
    ...op.f64Add,
    ...op.f64Div,
    ...op.f32DemoteF64,
    ...op.f32Sub,
    ...op.localGet(LEARNING_RATE),
    ...op.f32Mul,
    ...op.localSet(STEP),
  ];

  const perTarget = [
    // OUTPUT_ROW = targets[TARGET_INDEX]
    ...element(TARGETS, TARGET_INDEX),
    ...op.i32Load,
    ...op.localSet(OUTPUT_ROW),
    ...op.v128Zero,
    ...op.localSet(SUM),
    ...op.v128Zero,
    ...op.localSet(SUM_HIGH),
    ...dot,
    ...op.localGet(SUM),
    ...op.localGet(SUM_HIGH),
    ...op.f32x4Add,
    ...op.localSet(SUM),
    ...lanes[0],
    ...lanes[1],
    ...op.f32Add,
    ...lanes[2],
    ...lanes[3],
    ...op.f32Add,
    ...op.f32Add,
    ...op.localSet(DOT),
    // Like gensim, leaves the target alone when |dot| >= MAX_DOT.
    ...op.block,
    ...op.localGet(DOT),
    ...op.f32Abs,
    ...op.localGet(MAX_DOT),
    ...op.f32Ge,
    ...op.brIf(0),
    ...step,
    ...op.localGet(STEP),
    ...op.f32x4Splat,
    ...op.localSet(SCALE),
    ...accumulate,
    ...op.end,
  ];

  const overTargets = countedLoop(TARGET_INDEX, COUNT, 1, perTarget);

  // The scratch contains the gradient row, the target list, the negatives drawn by the previous call, the
  // random state and one float that keeps the touching loads below alive.
  const scratchPointers = [
    ...op.localGet(SCRATCH),
    ...op.localSet(GRADIENT),
    ...op.localGet(SCRATCH),
    ...op.localGet(ROW_BYTES),
    ...op.i32Add,
    ...op.localTee(TARGETS),
    ...op.localGet(NEGATIVES),
    ...op.i32Const(1),
    ...op.i32Add,
    ...op.i32Const(2),
    ...op.i32Shl,
    ...op.i32Add,
    ...op.localTee(AHEAD),
    ...op.localGet(NEGATIVES),
    ...op.i32Const(2),
    ...op.i32Shl,
    ...op.i32Add,
    ...op.localSet(STATE),
  ];

  // targets = [positive, the previous call's negatives except the positive], as byte offsets.
  const rowOffset = (row: number) => [
    ...op.localGet(OUTPUT_BASE),
    ...op.localGet(row),
    ...op.localGet(ROW_BYTES),
    ...op.i32Mul,
    ...op.i32Add,
  ];
  const collectTargets = [
    ...op.localGet(TARGETS),
    ...rowOffset(POSITIVE),
    ...op.i32Store,
    ...op.i32Const(1),
    ...op.localSet(COUNT),
    ...countedLoop(TARGET_INDEX, NEGATIVES, 1, [
      ...op.block,
      ...element(AHEAD, TARGET_INDEX),
      ...op.i32Load,
      ...op.localTee(NEGATIVE),
      ...op.localGet(POSITIVE),
      ...op.i32Eq,
      ...op.brIf(0),
      ...element(TARGETS, COUNT),
      ...rowOffset(NEGATIVE),
      ...op.i32Store,
      ...op.localGet(COUNT),
      ...op.i32Const(1),
      ...op.i32Add,
      ...op.localSet(COUNT),
      ...op.end,
    ]),
  ];

  // Draws the next call's negatives into AHEAD and reads one float per 64-byte cache line of each of their
  // rows. Those rows then load from memory while this call computes, instead of missing one after another
  // when the next call reaches them.
  const drawAhead = countedLoop(TARGET_INDEX, NEGATIVES, 1, [
    ...element(AHEAD, TARGET_INDEX),
    ...op.localGet(STATE),
    ...op.localGet(TABLE),
    ...op.localGet(TABLE_SIZE),
    ...op.call(SAMPLE_FUNCTION),
    ...op.localTee(NEGATIVE),
    ...op.i32Store,
    ...rowOffset(NEGATIVE),
    ...op.localSet(OUTPUT_ROW),
    ...countedLoop(OFFSET, ROW_BYTES, 64, [
      ...op.localGet(TOUCHED),
      ...at(OUTPUT_ROW),
      ...op.f32Load,
      ...op.f32Add,
      ...op.localSet(TOUCHED),
    ]),
  ]);
  const storeTouched = [
    ...op.localGet(STATE),
    ...op.localGet(TOUCHED),
    ...op.f32StoreAt(4),
  ];

  const locals = vector([[9, I32], [3, V128], [3, F32]].map(([count, type]) => [...unsigned(count), type]));
  const code = [
    ...locals,
    ...scratchPointers,
    ...collectTargets,
    ...drawAhead,
    ...zeroGradient,
    ...overTargets,
    ...applyGradient,
    ...storeTouched,
    ...op.end,
  ];
  return [...unsigned(code.length), ...code];
}

/**
 * Builds the body of `random(state: i32) -> i32`: one step of mulberry32 on the i32 at address `state`,
 * the generator of util/random.ts, so both give the same stream from the same seed.
 */
function randomBody(): number[] {
  const ADDRESS = 0;
  const S = 1;
  const T = 2;
  const code = [
    ...vector([[...unsigned(2), I32]]),
    // S = state += 0x6d2b79f5
    ...op.localGet(ADDRESS),
    ...op.localGet(ADDRESS),
    ...op.i32Load,
    ...op.i32Const(0x6d2b79f5),
    ...op.i32Add,
    ...op.localTee(S),
    ...op.i32Store,
    // T = imul(S ^ (S >>> 15), S | 1)
    ...op.localGet(S),
    ...op.localGet(S),
    ...op.i32Const(15),
    ...op.i32ShrU,
    ...op.i32Xor,
    ...op.localGet(S),
    ...op.i32Const(1),
    ...op.i32Or,
    ...op.i32Mul,
    ...op.localSet(T),
    // T ^= T + imul(T ^ (T >>> 7), T | 61)
    ...op.localGet(T),
    ...op.localGet(T),
    ...op.localGet(T),
    ...op.localGet(T),
    ...op.i32Const(7),
    ...op.i32ShrU,
    ...op.i32Xor,
    ...op.localGet(T),
    ...op.i32Const(61),
    ...op.i32Or,
    ...op.i32Mul,
    ...op.i32Add,
    ...op.i32Xor,
    ...op.localTee(T),
    // T ^ (T >>> 14)
    ...op.localGet(T),
    ...op.i32Const(14),
    ...op.i32ShrU,
    ...op.i32Xor,
    ...op.end,
  ];
  return [...unsigned(code.length), ...code];
}

/**
 * Builds the body of `sample(state: i32, table: i32, size: i32) -> i32`, a draw from an alias table of
 * `size` columns at `table`. Column c is two u32 values at table + 8c: its threshold and its alias. The
 * first random number picks the column, through the high 32 bits of r * size, and the second keeps the
 * column when it is below the threshold, else takes the alias.
 */
function sampleBody(): number[] {
  const ADDRESS = 0;
  const TABLE_START = 1;
  const SIZE = 2;
  const COLUMN = 3;
  const ENTRY = 4;
  const code = [
    ...vector([[...unsigned(2), I32]]),
    ...op.localGet(ADDRESS),
    ...op.call(RANDOM_FUNCTION),
    ...op.i64ExtendI32U,
    ...op.localGet(SIZE),
    ...op.i64ExtendI32U,
    ...op.i64Mul,
    ...op.i64Const(32),
    ...op.i64ShrU,
    ...op.i32WrapI64,
    ...op.localTee(COLUMN),
    ...op.localGet(COLUMN),
    ...op.i32Const(3),
    ...op.i32Shl,
    ...op.localGet(TABLE_START),
    ...op.i32Add,
    ...op.localTee(ENTRY),
    ...op.i32LoadAt(4),
    ...op.localGet(ADDRESS),
    ...op.call(RANDOM_FUNCTION),
    ...op.localGet(ENTRY),
    ...op.i32Load,
    ...op.i32LtU,
    ...op.select,
    ...op.end,
  ];
  return [...unsigned(code.length), ...code];
}

/**
 * Builds the body of `exp(x: f64) -> f64`, the module's own exponential, so the update needs no call out
 * to JavaScript. It clamps x to [-40, 40], splits it as k ln 2 + r with |r| <= ln 2 / 2, and multiplies 2^k
 * (built from its bits) by the degree-9 Taylor polynomial of e^r, whose relative error is below 2e-11,
 * far below float32 precision.
 */
function expBody(): number[] {
  const X = 0;
  const K = 1;
  const R = 2;
  let polynomial = [...op.f64Const(1 / 362880)];
  for (const factorial of [40320, 5040, 720, 120, 24, 6, 2, 1, 1]) {
    polynomial = [
      ...polynomial,
      ...op.localGet(R),
      ...op.f64Mul,
      ...op.f64Const(1 / factorial),
      ...op.f64Add,
    ];
  }
  const code = [
    ...vector([[...unsigned(2), F64]]),
    // X = max(min(X, 40), -40); K = nearest(X / ln 2); R = X - K ln 2
    ...op.localGet(X),
    ...op.f64Const(40),
    ...op.f64Min,
    ...op.f64Const(-40),
    ...op.f64Max,
    ...op.localTee(X),
    ...op.f64Const(Math.LOG2E),
    ...op.f64Mul,
    ...op.f64Nearest,
    ...op.localTee(K),
    ...op.f64Const(Math.LN2),
    ...op.f64Mul,
    ...op.localGet(X),
    ...op.f64Sub,
    ...op.f64Neg,
    ...op.localSet(R),
    ...polynomial,
    // 2^K: the exponent field K + 1023 shifted into place.
    ...op.localGet(K),
    ...op.i64TruncF64S,
    ...op.i64Const(1023),
    ...op.i64Add,
    ...op.i64Const(52),
    ...op.i64Shl,
    ...op.f64ReinterpretI64,
    ...op.f64Mul,
    ...op.end,
  ];
  return [...unsigned(code.length), ...code];
}

/** Returns the bytes of the module described at the top of this file. */
export function sgnsModuleBytes(): Uint8Array<ArrayBuffer> {
  const types = [
    [0x60, ...vector([[F64]]), ...vector([[F64]])],
    [0x60, ...vector([[I32]]), ...vector([[I32]])],
    [0x60, ...vector([[I32], [I32], [I32]]), ...vector([[I32]])],
    [0x60, ...vector([[I32], [I32], [F32], [I32], [I32], [I32], [I32], [I32], [I32], [F32]]), ...vector([])],
  ];
  const sharedMemoryLimits = [0x03, ...unsigned(1), ...unsigned(65536)];
  const imports = vector([[...name("env"), ...name("memory"), 0x02, ...sharedMemoryLimits]]);
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d],
    ...[0x01, 0x00, 0x00, 0x00],
    ...section(1, vector(types)),
    ...section(2, imports),
    // Function i has type i.
    ...section(3, vector([[EXP_FUNCTION], [RANDOM_FUNCTION], [SAMPLE_FUNCTION], [UPDATE_FUNCTION]])),
    ...section(
      7,
      vector([
        [...name("update"), 0x00, UPDATE_FUNCTION],
        [...name("sample"), 0x00, SAMPLE_FUNCTION],
        [...name("random"), 0x00, RANDOM_FUNCTION],
      ]),
    ),
    ...section(10, vector([expBody(), randomBody(), sampleBody(), updateBody()])),
  ]);
}

/** The exported functions; see the module documentation. */
export interface SgnsExports {
  update(
    input: number,
    positive: number,
    learningRate: number,
    scratch: number,
    rowBytes: number,
    negatives: number,
    outputBase: number,
    table: number,
    tableSize: number,
    maxDot: number,
  ): void;
  sample(state: number, table: number, tableSize: number): number;
  random(state: number): number;
}

let compiled: WebAssembly.Module | undefined;

/** Compiles the module once per thread. */
function sgnsModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(sgnsModuleBytes());
  return compiled;
}

/** Instantiates the module on `memory`, which must be shared, and returns its functions. */
export function instantiateSgns(memory: WebAssembly.Memory): SgnsExports {
  const instance = new WebAssembly.Instance(sgnsModule(), { env: { memory } });
  return instance.exports as unknown as SgnsExports;
}
