/**
 * The study's stages, profiles, artifact layout and notebook execution.
 * @module
 */

export * from "./artifacts.ts";
export * from "./notebooks.ts";
export * from "./paths.ts";
export * from "./profiles.ts";
export * from "./reporter.ts";
export { runStudy, type RunStudyOptions, type StudyOutcome, writeReport } from "./study.ts";
