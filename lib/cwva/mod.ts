/**
 * CWVA: playlist titles to seed tracks through word vectors.
 * @module
 */

export * from "./normalize.ts";
export * from "./cwva.ts";
