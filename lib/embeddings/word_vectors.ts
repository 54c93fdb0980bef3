/**
 * Word vectors: a vocabulary with one dense vector per word, read from the word2vec file formats, and the
 * top-k selection that nearest-neighbour searches over such vectors use.
 *
 * Both formats of word2vec (Mikolov et al. 2013, "Distributed representations of words and phrases and
 * their compositionality") start with an ASCII header line `<words> <dimension>`. The binary format then
 * holds, per word, its UTF-8 bytes, a space, `dimension` little-endian float32 values and usually a newline.
 * The text format has one line per word: the word and its values, separated by spaces. Text files without
 * the header line (the GloVe layout) are read too. Files whose name ends in `.gz` are decompressed while
 * reading, so `GoogleNews-vectors-negative300.bin.gz` can be read as downloaded.
 * @module
 */

/** A vocabulary of words with one vector each, stored row-major in one Float32Array. */
export class WordVectors {
  /** The words, in file order; row `i` of `vectors` belongs to `words[i]`. */
  readonly words: string[];
  /** Number of values per vector. */
  readonly dimension: number;
  /** All vectors, row-major: `words.length * dimension` values. */
  readonly vectors: Float32Array;
  readonly #index = new Map<string, number>();

  /**
   * @param words the vocabulary; when a word repeats, lookups find its first row.
   * @param vectors `words.length * dimension` values, row-major.
   * @param dimension number of values per vector.
   * @throws {RangeError} when the dimension is not a positive integer or the number of values does not
   *   match.
   */
  constructor(words: string[], vectors: Float32Array, dimension: number) {
    if (!Number.isInteger(dimension) || dimension < 1) {
      throw new RangeError(
        `Cannot create word vectors: dimension must be a positive integer, got ${dimension}.`,
      );
    }
    if (vectors.length !== words.length * dimension) {
      throw new RangeError(
        `Cannot create word vectors: ${words.length} words of dimension ${dimension} need ` +
          `${words.length * dimension} values, got ${vectors.length}.`,
      );
    }
    this.words = words;
    this.dimension = dimension;
    this.vectors = vectors;
    for (let i = 0; i < words.length; i++) if (!this.#index.has(words[i])) this.#index.set(words[i], i);
  }

  /** Number of words. */
  get size(): number {
    return this.words.length;
  }

  /** Returns the row of `word`, or -1 when the word is unknown. */
  indexOf(word: string): number {
    return this.#index.get(word) ?? -1;
  }

  /** Returns whether `word` has a vector. */
  has(word: string): boolean {
    return this.#index.has(word);
  }

  /** Returns a view of the vector of `word` (not a copy), or undefined when the word is unknown. */
  vector(word: string): Float32Array | undefined {
    const row = this.#index.get(word);
    if (row === undefined) return undefined;
    return this.vectors.subarray(row * this.dimension, (row + 1) * this.dimension);
  }
}

/** Options of {@linkcode readWordVectors}. */
export interface ReadWordVectorsOptions {
  /**
   * File format. Default "auto": binary for names ending in `.bin` or `.bin.gz`, text for `.txt`, `.vec`
   * and their `.gz` forms, otherwise binary when the bytes after the header contain control characters
   * other than tab, newline and carriage return.
   */
  format: "auto" | "binary" | "text";
  /**
   * Maximum number of words to read, from the start of the file (word2vec files list frequent words
   * first). Default Infinity.
   */
  limit: number;
  /** Keeps only the words for which this returns true; others are skipped. Default: keep every word. */
  keep?: (word: string) => boolean;
}

const DEFAULT_READ_OPTIONS: ReadWordVectorsOptions = { format: "auto", limit: Infinity };

const SPACE = 0x20;
const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const TAB = 0x09;

/**
 * Reads word vectors from a file in the word2vec binary or text format, decompressing `.gz` files.
 *
 * Words are decoded as UTF-8, with invalid bytes replaced by U+FFFD, so a file with a few broken words
 * still loads. The vectors are held in one Float32Array: the 3,000,000 300-d GoogleNews vectors need
 * 3.6 GB, so pass `keep` (for instance, the title words of the corpus) or `limit` to read fewer.
 *
 * @param path the file to read.
 * @param options format, word limit and word filter; see {@linkcode ReadWordVectorsOptions}.
 * @returns the vectors, in file order.
 * @throws {SyntaxError} when the header or a row is malformed, naming the file and the row.
 */
export async function readWordVectors(
  path: string,
  options: Partial<ReadWordVectorsOptions> = {},
): Promise<WordVectors> {
  const config = { ...DEFAULT_READ_OPTIONS, ...options };
  const file = await Deno.open(path, { read: true });
  let stream: ReadableStream<Uint8Array> = file.readable;
  if (path.endsWith(".gz")) {
    // The decompressor accepts any BufferSource, so it accepts the file's Uint8Array chunks.
    const gunzip = new DecompressionStream("gzip");
    stream = stream.pipeThrough({
      writable: gunzip.writable as WritableStream<Uint8Array>,
      readable: gunzip.readable,
    });
  }
  const reader = new ByteReader(stream.getReader());

  try {
    const firstLine = await reader.readLine();
    if (firstLine === null) {
      throw new SyntaxError(`Cannot read word vectors from ${path}: the file is empty.`);
    }
    const header = parseHeader(firstLine);

    const format = config.format === "auto" ? await detectFormat(path, reader) : config.format;
    if (format === "binary") {
      if (header === null) {
        throw new SyntaxError(
          `Cannot read word vectors from ${path} as binary: the first line must be "<words> <dimension>", ` +
            `got "${firstLine.slice(0, 80)}". Pass format "text" if the file is text without a header.`,
        );
      }
      return await readBinary(path, reader, header, config);
    }
    return await readText(path, reader, firstLine, header, config);
  } finally {
    await reader.cancel();
  }
}

interface Header {
  words: number;
  dimension: number;
}

function parseHeader(line: string): Header | null {
  const fields = line.trim().split(/\s+/);
  if (fields.length !== 2 || !/^\d+$/.test(fields[0]) || !/^\d+$/.test(fields[1])) return null;
  const header = { words: Number(fields[0]), dimension: Number(fields[1]) };
  return header.dimension > 0 ? header : null;
}

async function detectFormat(path: string, reader: ByteReader): Promise<"binary" | "text"> {
  const name = path.endsWith(".gz") ? path.slice(0, -3) : path;
  if (name.endsWith(".bin")) return "binary";
  if (name.endsWith(".txt") || name.endsWith(".vec")) return "text";

  // Float32 bytes almost always include control characters; UTF-8 text has none besides whitespace.
  const sample = await reader.peek(4096);
  for (const byte of sample) {
    if (byte === TAB || byte === NEWLINE || byte === CARRIAGE_RETURN) continue;
    if (byte < 0x20 || byte === 0x7f) return "binary";
  }
  return "text";
}

/** A growable row-major matrix, for when the final number of rows is not known in advance. */
class RowBuffer {
  values: Float32Array;
  rows = 0;

  constructor(readonly dimension: number, capacity: number) {
    this.values = new Float32Array(Math.max(1, capacity) * dimension);
  }

  /** Returns the offset of a new row, growing the storage when full. */
  addRow(): number {
    if ((this.rows + 1) * this.dimension > this.values.length) {
      const grown = new Float32Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    return this.rows++ * this.dimension;
  }

  /** Returns the rows written; a full buffer is returned without a copy, which matters for large files. */
  toArray(): Float32Array {
    const length = this.rows * this.dimension;
    return length === this.values.length ? this.values : this.values.slice(0, length);
  }
}

async function readBinary(
  path: string,
  reader: ByteReader,
  header: Header,
  config: ReadWordVectorsOptions,
): Promise<WordVectors> {
  const { dimension } = header;
  const rowBytes = dimension * 4;
  const wanted = Math.min(header.words, config.limit);
  const rows = new RowBuffer(dimension, config.keep ? Math.min(wanted, 1 << 16) : wanted);
  const words: string[] = [];
  const decoder = new TextDecoder();

  for (let row = 0; row < header.words && words.length < config.limit; row++) {
    // word2vec writes a newline after each vector, while some writers do not: skip it when present.
    const word = await reader.readToken();
    if (word === null) {
      throw new SyntaxError(
        `Cannot read word vectors from ${path}: the header declares ${header.words} words but the file ` +
          `ends after ${row}. The file may be truncated: download it again.`,
      );
    }
    const bytes = await reader.read(rowBytes);
    if (bytes === null) {
      throw new SyntaxError(
        `Cannot read word vectors from ${path}: the file ends inside the vector of word ${row + 1}. ` +
          `The file may be truncated, or the dimension in the header (${dimension}) is wrong.`,
      );
    }

    const text = decoder.decode(word);
    if (config.keep && !config.keep(text)) continue;
    const offset = rows.addRow();
    const view = new DataView(bytes.buffer, bytes.byteOffset, rowBytes);
    for (let d = 0; d < dimension; d++) rows.values[offset + d] = view.getFloat32(d * 4, true);
    words.push(text);
  }
  return new WordVectors(words, rows.toArray(), dimension);
}

async function readText(
  path: string,
  reader: ByteReader,
  firstLine: string,
  header: Header | null,
  config: ReadWordVectorsOptions,
): Promise<WordVectors> {
  // Without a header line (GloVe layout), the first line is already a row that sets the dimension.
  let pending: string | null = header === null ? firstLine : null;
  const dimension = header?.dimension ?? firstLine.trim().split(/\s+/).length - 1;
  if (dimension < 1) {
    throw new SyntaxError(
      `Cannot read word vectors from ${path}: the first line is neither a "<words> <dimension>" header ` +
        `nor a word followed by numbers, got "${firstLine.slice(0, 80)}".`,
    );
  }

  const expectedWords = header?.words ?? Infinity;
  const rows = new RowBuffer(dimension, Math.min(expectedWords, config.limit, 1 << 16));
  const words: string[] = [];
  let lineNumber = header === null ? 0 : 1;

  while (words.length < config.limit) {
    const line = pending ?? await reader.readLine();
    pending = null;
    if (line === null) break;
    lineNumber++;
    if (line.trim() === "") continue;

    // Split on spaces only: a word may itself contain other whitespace-like characters.
    const fields = line.replace(/[\r\n]+$/, "").split(" ").filter((field) => field !== "");
    if (fields.length !== dimension + 1) {
      throw new SyntaxError(
        `Cannot read word vectors from ${path}: line ${lineNumber} has ${fields.length - 1} values, ` +
          `expected ${dimension}. Check that the file is in the word2vec text format.`,
      );
    }
    const word = fields[0];
    if (config.keep && !config.keep(word)) continue;

    const offset = rows.addRow();
    for (let d = 0; d < dimension; d++) {
      const value = Number(fields[d + 1]);
      if (Number.isNaN(value) && fields[d + 1] !== "NaN") {
        throw new SyntaxError(
          `Cannot read word vectors from ${path}: value ${d + 1} of line ${lineNumber} is not a number, ` +
            `got "${fields[d + 1]}".`,
        );
      }
      rows.values[offset + d] = value;
    }
    words.push(word);
  }
  return new WordVectors(words, rows.toArray(), dimension);
}

/** A buffered reader of bytes, lines and space-delimited tokens over a byte stream. */
class ByteReader {
  #buffer = new Uint8Array(1 << 16);
  #start = 0;
  #end = 0;
  #done = false;
  readonly #source: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();

  constructor(source: ReadableStreamDefaultReader<Uint8Array>) {
    this.#source = source;
  }

  /** Buffers at least `count` bytes unless the stream ends first; returns the number buffered. */
  async #fill(count: number): Promise<number> {
    while (this.#end - this.#start < count && !this.#done) {
      const { value, done } = await this.#source.read();
      if (done) {
        this.#done = true;
        break;
      }
      this.#append(value);
    }
    return this.#end - this.#start;
  }

  #append(chunk: Uint8Array): void {
    const available = this.#end - this.#start;
    if (this.#end + chunk.length > this.#buffer.length) {
      // Move the unread bytes to the front, and grow only when they still do not fit.
      if (available + chunk.length > this.#buffer.length) {
        const grown = new Uint8Array((available + chunk.length) * 2);
        grown.set(this.#buffer.subarray(this.#start, this.#end));
        this.#buffer = grown;
      } else {
        this.#buffer.copyWithin(0, this.#start, this.#end);
      }
      this.#start = 0;
      this.#end = available;
    }
    this.#buffer.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /** Returns up to `count` upcoming bytes without consuming them. */
  async peek(count: number): Promise<Uint8Array> {
    const available = await this.#fill(count);
    return this.#buffer.slice(this.#start, this.#start + Math.min(count, available));
  }

  /**
   * Consumes exactly `count` bytes, or returns null when the stream ends first. The returned view is valid
   * until the next call.
   */
  async read(count: number): Promise<Uint8Array | null> {
    if (await this.#fill(count) < count) return null;
    const bytes = this.#buffer.subarray(this.#start, this.#start + count);
    this.#start += count;
    return bytes;
  }

  /** Consumes one line and returns it without its line break; returns null at the end of the stream. */
  async readLine(): Promise<string | null> {
    let scanned = 0;
    for (;;) {
      const available = this.#end - this.#start;
      const newline = this.#buffer.subarray(this.#start + scanned, this.#end).indexOf(NEWLINE);
      if (newline >= 0) {
        const end = this.#start + scanned + newline;
        const line = this.#decoder.decode(this.#buffer.subarray(this.#start, end));
        this.#start = end + 1;
        return line.endsWith("\r") ? line.slice(0, -1) : line;
      }
      scanned = available;
      if (await this.#fill(available + 1) === available) {
        if (available === 0) return null;
        const line = this.#decoder.decode(this.#buffer.subarray(this.#start, this.#end));
        this.#start = this.#end;
        return line;
      }
    }
  }

  /**
   * Skips spaces and line breaks, then consumes the bytes up to the next space and the space itself.
   * Returns a copy of the token's bytes, or null when the stream ends before a token starts.
   */
  async readToken(): Promise<Uint8Array | null> {
    for (;;) {
      if (this.#start === this.#end && await this.#fill(1) === 0) return null;
      const byte = this.#buffer[this.#start];
      if (byte !== SPACE && byte !== NEWLINE && byte !== CARRIAGE_RETURN) break;
      this.#start++;
    }

    let scanned = 0;
    for (;;) {
      const available = this.#end - this.#start;
      const space = this.#buffer.subarray(this.#start + scanned, this.#end).indexOf(SPACE);
      if (space >= 0) {
        const end = this.#start + scanned + space;
        const token = this.#buffer.slice(this.#start, end);
        this.#start = end + 1;
        return token;
      }
      scanned = available;
      if (await this.#fill(available + 1) === available) {
        const token = this.#buffer.slice(this.#start, this.#end);
        this.#start = this.#end;
        return token;
      }
    }
  }

  async cancel(): Promise<void> {
    await this.#source.cancel().catch(() => {});
  }
}

/**
 * Returns the indices of the `k` largest scores, best first; ties go to the lower index.
 *
 * A bounded min-heap keeps the selection at O(n log k), which matters when ranking tens of thousands of
 * tracks per query.
 *
 * @param scores the values to rank; NaN values are never selected.
 * @param k the number of indices to return at most.
 * @param skip indices for which this returns true are never selected.
 */
export function selectTopIndices(
  scores: ArrayLike<number>,
  k: number,
  skip?: (index: number) => boolean,
): Int32Array {
  const capacity = Math.max(0, Math.min(k, scores.length));
  const heapIndex = new Int32Array(capacity);
  const heapScore = new Float64Array(capacity);
  let size = 0;

  // The heap root is the worst kept entry: the lowest score, and among equal scores the highest index.
  const worse = (a: number, b: number) =>
    heapScore[a] < heapScore[b] || (heapScore[a] === heapScore[b] && heapIndex[a] > heapIndex[b]);
  const swap = (a: number, b: number) => {
    const index = heapIndex[a];
    heapIndex[a] = heapIndex[b];
    heapIndex[b] = index;
    const score = heapScore[a];
    heapScore[a] = heapScore[b];
    heapScore[b] = score;
  };
  const siftDown = (from: number) => {
    let node = from;
    for (;;) {
      const left = 2 * node + 1;
      const right = left + 1;
      let worst = node;
      if (left < size && worse(left, worst)) worst = left;
      if (right < size && worse(right, worst)) worst = right;
      if (worst === node) return;
      swap(node, worst);
      node = worst;
    }
  };

  if (capacity > 0) {
    for (let i = 0; i < scores.length; i++) {
      const score = scores[i];
      if (Number.isNaN(score)) continue;
      if (size === capacity && score <= heapScore[0]) continue;
      if (skip?.(i)) continue;
      if (size < capacity) {
        heapIndex[size] = i;
        heapScore[size] = score;
        let node = size++;
        while (node > 0) {
          const parent = (node - 1) >> 1;
          if (!worse(node, parent)) break;
          swap(node, parent);
          node = parent;
        }
      } else {
        heapIndex[0] = i;
        heapScore[0] = score;
        siftDown(0);
      }
    }
  }

  // Popping the worst entry repeatedly fills the result from the back.
  const result = new Int32Array(size);
  for (let position = size - 1; position >= 0; position--) {
    result[position] = heapIndex[0];
    size--;
    if (size > 0) {
      heapIndex[0] = heapIndex[size];
      heapScore[0] = heapScore[size];
      siftDown(0);
    }
  }
  return result;
}
