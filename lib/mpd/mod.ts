/**
 * The Spotify Million Playlist Dataset (MPD) format: types, reading and validation of slice files, and a
 * seeded generator of synthetic slices.
 * @module
 */

export * from "./schema.ts";
export * from "./read.ts";
export * from "./generate.ts";
