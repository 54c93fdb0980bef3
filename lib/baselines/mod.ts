/**
 * The baseline recommenders of the study: popularity, weighted matrix factorization (WMF) and word2vec
 * nearest neighbours (W2V).
 * @module
 */

export * from "./popularity.ts";
export * from "./wmf.ts";
export * from "./w2v.ts";
