/**
 * A hash index from ASCII byte strings to integer ids that looks keys up straight from a byte buffer,
 * so reading a track URI from a file needs no JavaScript string unless the URI is new.
 * @module
 */

/** Int32 values per slot: the key's hash, its id plus 1 (0 for an empty slot), its start and length. */
const SLOT_SIZE = 4;
const HASH = 0;
const ID = 1;
const START = 2;
const LENGTH = 3;

/** Slots are added when more than this share of them is in use. */
const MAX_LOAD = 0.75;

/**
 * Maps ASCII keys, given as byte ranges, to ids. Open addressing with linear probing over a power-of-two
 * table. Each slot keeps the key's hash, id, start and length together, so a lookup usually reads one slot
 * and the key's bytes: with millions of keys the cost is in cache misses, not in instructions.
 */
export class AsciiKeyIndex {
  /** Bytes of every key, one after another, in insertion order. */
  #arena = new Uint8Array(1 << 16);
  #arenaLength = 0;
  #slots = new Int32Array(1024 * SLOT_SIZE);
  /** The slot count minus 1. */
  #mask = 1023;
  #size = 0;

  /** The number of keys. */
  get size(): number {
    return this.#size;
  }

  /** The number of key bytes stored, which {@linkcode truncate} takes to undo later insertions. */
  get byteLength(): number {
    return this.#arenaLength;
  }

  /** Returns the id of the key in `bytes[start:end]`, or -1 when the index does not contain it. */
  find(bytes: Uint8Array, start: number, end: number): number {
    const hash = hashBytes(bytes, start, end);
    const length = end - start;
    const slots = this.#slots;
    const arena = this.#arena;
    const mask = this.#mask;
    let slot = hash & mask;
    for (;;) {
      const at = slot * SLOT_SIZE;
      const id = slots[at + ID];
      if (id === 0) return -1;
      if (slots[at + HASH] === hash && slots[at + LENGTH] === length) {
        const keyStart = slots[at + START];
        let k = 0;
        while (k < length && arena[keyStart + k] === bytes[start + k]) k++;
        if (k === length) return id - 1;
      }
      slot = (slot + 1) & mask;
    }
  }

  /** Adds the key in `bytes[start:end]` with `id` (at least 0). The caller checks that the key is absent. */
  insert(bytes: Uint8Array, start: number, end: number, id: number): void {
    const length = end - start;
    if (this.#arenaLength + length > this.#arena.length) {
      let grownLength = this.#arena.length * 2;
      while (grownLength < this.#arenaLength + length) grownLength *= 2;
      const grown = new Uint8Array(grownLength);
      grown.set(this.#arena.subarray(0, this.#arenaLength));
      this.#arena = grown;
    }
    this.#arena.set(bytes.subarray(start, end), this.#arenaLength);

    if (this.#size + 1 > MAX_LOAD * (this.#mask + 1)) this.#rehash((this.#mask + 1) * 2, Infinity);
    this.#place(hashBytes(bytes, start, end), id + 1, this.#arenaLength, length);
    this.#arenaLength += length;
    this.#size++;
  }

  /**
   * Removes the keys inserted after the index stored `byteLength` bytes, which must all have ids of at least
   * `firstId`, while every earlier key has a smaller id.
   */
  truncate(byteLength: number, firstId: number): void {
    if (byteLength >= this.#arenaLength) return;
    this.#arenaLength = byteLength;
    this.#rehash(this.#mask + 1, firstId);
  }

  #place(hash: number, idPlusOne: number, start: number, length: number): void {
    const slots = this.#slots;
    let slot = hash & this.#mask;
    while (slots[slot * SLOT_SIZE + ID] !== 0) slot = (slot + 1) & this.#mask;
    const at = slot * SLOT_SIZE;
    slots[at + HASH] = hash;
    slots[at + ID] = idPlusOne;
    slots[at + START] = start;
    slots[at + LENGTH] = length;
  }

  /** Rebuilds the table with `slotCount` slots, keeping the keys whose id is below `idLimit`. */
  #rehash(slotCount: number, idLimit: number): void {
    const old = this.#slots;
    this.#slots = new Int32Array(slotCount * SLOT_SIZE);
    this.#mask = slotCount - 1;
    this.#size = 0;
    for (let at = 0; at < old.length; at += SLOT_SIZE) {
      const idPlusOne = old[at + ID];
      if (idPlusOne === 0 || idPlusOne - 1 >= idLimit) continue;
      this.#place(old[at + HASH], idPlusOne, old[at + START], old[at + LENGTH]);
      this.#size++;
    }
  }
}

/** Hashes the bytes four at a time with a multiply and shift per word, as a signed 32-bit integer. */
function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let hash = (end - start) | 0;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const word = bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    hash = Math.imul(hash ^ word, 0x9e3779b1);
    hash ^= hash >>> 15;
  }
  for (; i < end; i++) hash = Math.imul(hash ^ bytes[i], 0x01000193);
  // Fold the high bits into the low ones, which pick the slot.
  return hash ^ (hash >>> 16);
}
