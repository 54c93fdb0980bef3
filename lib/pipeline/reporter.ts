/**
 * Progress reporting for the pipeline, which never logs itself: the caller supplies a reporter.
 * @module
 */

/** A progress display for one long loop. */
export interface ProgressHandle {
  update(done: number, extra?: string): void;
  finish(): void;
}

/** Receives the pipeline's stage messages and progress. */
export interface StudyReporter {
  /** A one-line message about a stage, such as its start, its reuse or its timing. */
  info(message: string): void;
  /** Starts a progress display for `total` units of work. */
  progress(label: string, total: number): ProgressHandle;
}

/** A reporter that drops everything, for tests and notebooks. */
export const SILENT_REPORTER: StudyReporter = {
  info: () => {},
  progress: () => ({ update: () => {}, finish: () => {} }),
};
