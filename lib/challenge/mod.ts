/**
 * The RecSys Challenge 2018 protocol: challenge sets, submissions and per-category scoring.
 * @module
 */

export * from "./challenge_set.ts";
export * from "./score.ts";
export * from "./submission.ts";
