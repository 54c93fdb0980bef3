/**
 * Reads and scans slice files ahead of ingestion in a worker (`lib/mpd/scan_worker.ts`), while the main
 * thread adds the current slice to the track dictionary and writes its part. The main thread replays the
 * scanner's sink calls from the worker's record (`lib/mpd/scan_record.ts`), so the columns are the same as
 * a scan on the main thread gives.
 *
 * In `bench/ingest_run.ts` on 20 generated slices (a shared 2-core x86-64 machine), ingestion took 0.75 to
 * 0.78 s with the worker and 0.86 to 0.96 s without it, in alternating runs.
 * @module
 */

import type { PlaylistFields, SliceHeader } from "../mpd/scan.ts";
import { type SliceRecord, TRACK_STRIDE } from "../mpd/scan_record.ts";
import {
  CONTROL_FIELDS,
  type RecordJson,
  type ScanRequest,
  SLOT_FAILED,
  SLOT_NOT_HANDLED,
  SLOT_PENDING,
  SLOT_SCANNED,
} from "../mpd/scan_worker.ts";
import type { MpdSliceInfo } from "../mpd/schema.ts";

/** A slice file's bytes, with the worker's scan of them unless the worker failed. */
export interface ReadAheadSlice {
  bytes: Uint8Array;
  /** Undefined when the worker failed, so the caller scans the bytes itself. */
  scan: {
    /** As `scanSlice` returns it: null for a file that the scanner does not handle. */
    header: SliceHeader | null;
    record: SliceRecord;
  } | undefined;
}

/** Files read and scanned ahead of the one being ingested. */
const DEPTH = 2;
/** Slots of buffers: the file being ingested and the ones ahead of it. */
const SLOTS = DEPTH + 1;
/** Track rows of a new slot, enough for the about 66,000 track occurrences of a slice of the MPD. */
const INITIAL_ROWS = 1 << 17;
/** Bytes for a new slot's record JSON, enough for the playlists of a slice of the MPD. */
const INITIAL_RECORD_BYTES = 1 << 21;

/** The shared buffers of a slot. */
interface Slot {
  bytes: SharedArrayBuffer;
  rows: SharedArrayBuffer;
  record: SharedArrayBuffer;
}

const utf8 = new TextDecoder();

/**
 * Reads and scans files in order in a worker, up to {@linkcode DEPTH} files ahead of the one taken. The
 * memory in use is {@linkcode SLOTS} slots, each with a file's bytes, track rows and record.
 */
export class ScanAhead {
  readonly #files: string[];
  #worker: Worker | undefined;
  readonly #control = new Int32Array(new SharedArrayBuffer(SLOTS * CONTROL_FIELDS * 4));
  readonly #slots: Slot[] = [];
  #requested: number;

  /** Starts the worker and requests the files from index `first` on. */
  constructor(files: string[], first: number) {
    this.#files = files;
    this.#requested = first;
    if (first >= files.length) return;
    this.#worker = new Worker(new URL("../mpd/scan_worker.ts", import.meta.url), { type: "module" });
    this.#worker.onerror = (event) => {
      // An error that the worker did not catch, such as a failed start: this thread reads the files.
      event.preventDefault();
      this.close();
    };
    this.#requestAhead(first);
  }

  /**
   * Returns file `index` read, and scanned unless the worker failed or stopped. Files must be taken in
   * order, and the slice returned for a file is valid until the next call. Where the worker failed, this
   * thread reads the file, so a read error is raised here as {@linkcode readFile} raises it.
   */
  async take(index: number): Promise<ReadAheadSlice> {
    const state = index < this.#requested ? await this.#wait(index % SLOTS) : SLOT_FAILED;
    const result = this.#result(index, state);
    this.#requestAhead(index + 1);
    return result ?? { bytes: await readFile(this.#files[index]), scan: undefined };
  }

  /** Stops the worker. */
  close(): void {
    this.#worker?.terminate();
    this.#worker = undefined;
    for (let slot = 0; slot < SLOTS; slot++) {
      // A slot still pending reads as failed, so take reads its file on this thread.
      Atomics.compareExchange(this.#control, slot * CONTROL_FIELDS, SLOT_PENDING, SLOT_FAILED);
      Atomics.notify(this.#control, slot * CONTROL_FIELDS);
    }
  }

  /** Waits until the slot is no longer pending and returns its state. */
  async #wait(slot: number): Promise<number> {
    const at = slot * CONTROL_FIELDS;
    const waiting = Atomics.waitAsync(this.#control, at, SLOT_PENDING);
    if (waiting.async) await waiting.value;
    return Atomics.load(this.#control, at);
  }

  /** Returns the slot's content as a read slice, or undefined when the file must be read on this thread. */
  #result(index: number, state: number): ReadAheadSlice | undefined {
    if (state !== SLOT_SCANNED && state !== SLOT_NOT_HANDLED) {
      // A buffer may have been too small: the next use of the slot gets larger ones.
      if (index < this.#requested) this.#grow(index % SLOTS);
      return undefined;
    }
    const slot = this.#slots[index % SLOTS];
    const at = (index % SLOTS) * CONTROL_FIELDS;
    const bytes = new Uint8Array(slot.bytes, 0, this.#control[at + 1]);
    const tracks = new Int32Array(slot.rows);
    if (state === SLOT_NOT_HANDLED) {
      return {
        bytes,
        scan: { header: null, record: { tracks, trackRows: 0, playlists: [], trackCounts: [] } },
      };
    }
    const json = JSON.parse(utf8.decode(new Uint8Array(slot.record, 0, this.#control[at + 3]))) as RecordJson;
    const record: SliceRecord = {
      tracks,
      trackRows: this.#control[at + 2],
      playlists: json.playlists as PlaylistFields[],
      trackCounts: json.trackCounts,
    };
    return { bytes, scan: { header: { info: json.info as MpdSliceInfo | undefined }, record } };
  }

  #grow(slot: number): void {
    const old = this.#slots[slot];
    if (old === undefined) return;
    this.#slots[slot] = {
      bytes: old.bytes,
      rows: new SharedArrayBuffer(old.rows.byteLength * 2),
      record: new SharedArrayBuffer(old.record.byteLength * 2),
    };
  }

  /** Requests the files from `next` up to {@linkcode DEPTH} files ahead of it, `next` included. */
  #requestAhead(next: number): void {
    const worker = this.#worker;
    if (worker === undefined) return;
    while (this.#requested < Math.min(this.#files.length, next + DEPTH)) {
      const index = this.#requested++;
      const path = this.#files[index];
      const slot = index % SLOTS;
      let size = 0;
      try {
        size = Deno.statSync(path).size;
      } catch {
        // The read on this thread raises the error; the worker's read fails as well.
      }
      const buffers = this.#slots[slot] ?? {
        bytes: new SharedArrayBuffer(0),
        rows: new SharedArrayBuffer(INITIAL_ROWS * TRACK_STRIDE * 4),
        record: new SharedArrayBuffer(INITIAL_RECORD_BYTES),
      };
      if (buffers.bytes.byteLength < size + 1) buffers.bytes = new SharedArrayBuffer(size + (size >> 3) + 1);
      this.#slots[slot] = buffers;
      Atomics.store(this.#control, slot * CONTROL_FIELDS, SLOT_PENDING);
      const request: ScanRequest = { path, slot, control: this.#control, ...buffers };
      worker.postMessage(request);
    }
  }
}

/** Reads a file on Deno's I/O threads and returns its bytes, in a buffer with room for one byte more. */
export async function readFile(path: string): Promise<Uint8Array> {
  // Opening and the size are synchronous, so the read is under way when this returns its promise.
  using file = Deno.openSync(path);
  const size = file.statSync().size;
  let bytes = new Uint8Array(size + 1);

  // A file that grew since its size was taken fills the buffer, which then grows too.
  let length = 0;
  for (;;) {
    if (length === bytes.length) {
      const grown = new Uint8Array(bytes.length * 2);
      grown.set(bytes);
      bytes = grown;
    }
    const count = await file.read(bytes.subarray(length));
    if (count === null) break;
    length += count;
  }
  return bytes.subarray(0, length);
}
