import type { Corpus } from "../../lib/data/corpus.ts";
import { createRandom } from "../../lib/util/random.ts";

/** Builds a small random corpus: `playlists` playlists of 5 to 60 tracks drawn from `tracks` tracks. */
export function randomCorpus(playlists: number, tracks: number, seed = 1): Corpus {
  const random = createRandom(seed);
  const uri = Array.from({ length: tracks }, (_, i) => `spotify:track:${String(i).padStart(22, "0")}`);
  return {
    tracks: {
      uri,
      name: uri.map((_, i) => `Track ${i}`),
      artistUri: uri.map((_, i) => `spotify:artist:${i % 50}`),
      artistName: uri.map((_, i) => `Artist ${i % 50}`),
      albumUri: uri.map((_, i) => `spotify:album:${i % 200}`),
    },
    playlists: Array.from({ length: playlists }, (_, pid) => {
      const length = 5 + Math.floor(random() * 56);
      // Squaring a uniform draw skews the choice towards low ids, so some tracks are popular.
      const ids = Int32Array.from({ length }, () => Math.floor(random() ** 2 * tracks));
      return {
        pid,
        name: `playlist ${pid}`,
        modifiedAt: 1262304000 + Math.floor(random() * 8 * 365) * 86400,
        tracks: ids,
      };
    }),
    synthetic: true,
    source: "test",
  };
}

/** Builds the track table of `count` tracks, each with its own artist and no album, named by its URI. */
export function trackTable(count: number): Corpus["tracks"] {
  const uri = Array.from({ length: count }, (_, i) => `spotify:track:${String(i).padStart(22, "0")}`);
  return {
    uri,
    name: uri,
    artistUri: uri.map((_, i) => `spotify:artist:${i}`),
    artistName: uri,
    albumUri: uri.map(() => ""),
  };
}
