/**
 * Ingested playlists: Parquet ingestion and loading, the vocabulary, the stratified split and seed buckets.
 * @module
 */

export * from "./corpus.ts";
export * from "./ingest.ts";
export * from "./load.ts";
export * from "./split.ts";
export * from "./vocabulary.ts";
