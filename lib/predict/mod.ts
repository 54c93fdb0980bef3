/**
 * Turning a trained Track2Seq model into playlist continuations.
 * @module
 */

export * from "./guided.ts";
export * from "./track2seq_recommender.ts";
