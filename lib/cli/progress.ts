/**
 * A one-line progress bar on stderr for long loops in command-line tasks.
 * @module
 */

const encoder = new TextEncoder();

/**
 * Draws `label [#####.....] done/total extra` on stderr: redrawn in place at most every 200 ms on a terminal,
 * and as a new line every 10% otherwise, so logs stay short.
 */
export class ProgressBar {
  readonly #label: string;
  readonly #total: number;
  readonly #start = performance.now();
  readonly #interactive = Deno.stderr.isTerminal();
  #lastDraw = 0;
  #lastPercent = -1;

  constructor(label: string, total: number) {
    this.#label = label;
    this.#total = Math.max(1, total);
  }

  /** Updates the bar; `extra` is shown after the counts, for example the current loss. */
  update(done: number, extra = ""): void {
    const now = performance.now();
    const percent = Math.floor((100 * done) / this.#total);
    if (this.#interactive) {
      if (now - this.#lastDraw < 200 && done < this.#total) return;
    } else if (percent < this.#lastPercent + 10 && done < this.#total) {
      // Logs of non-interactive runs get a line every 10%, not a redraw every 200 ms.
      return;
    }
    this.#lastDraw = now;
    this.#lastPercent = percent;

    const width = 30;
    const filled = Math.round((width * Math.min(done, this.#total)) / this.#total);
    const elapsed = (now - this.#start) / 1000;
    const eta = done > 0 ? (elapsed * (this.#total - done)) / done : NaN;
    const line =
      `${this.#label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${this.#total}` +
      ` ${elapsed.toFixed(0)}s${Number.isFinite(eta) ? ` eta ${eta.toFixed(0)}s` : ""}${
        extra ? ` ${extra}` : ""
      }`;
    Deno.stderr.writeSync(encoder.encode(this.#interactive ? `\r${line}\x1b[K` : `${line}\n`));
  }

  /** Ends the bar's line. */
  finish(): void {
    if (this.#interactive) Deno.stderr.writeSync(encoder.encode("\n"));
  }
}

/** Writes one log line to stderr. */
export function log(message: string): void {
  Deno.stderr.writeSync(encoder.encode(`${message}\n`));
}
