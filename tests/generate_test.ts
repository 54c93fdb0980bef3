import { deepStrictEqual, notDeepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { join } from "node:path";
import {
  generateSyntheticMpd,
  generateSyntheticMpdJson,
  SYNTHETIC_MPD_VERSION,
  writeSyntheticMpd,
} from "../lib/mpd/generate.ts";
import { validateSlice } from "../lib/mpd/read.ts";
import type { MpdPlaylist } from "../lib/mpd/schema.ts";

const PLAYLISTS = 2000;
const SEED = 7;

// One shared run for the statistics tests; generating 2,000 playlists takes about half a second.
const slices = [...generateSyntheticMpd({ playlists: PLAYLISTS, seed: SEED })];
const playlists: MpdPlaylist[] = slices.flatMap((slice) => slice.playlists);

function share(count: number, total: number): number {
  return count / total;
}

Deno.test("generateSyntheticMpdJson same seed gives same bytes", () => {
  const first = [...generateSyntheticMpdJson({ playlists: 300, seed: SEED })];
  const second = [...generateSyntheticMpdJson({ playlists: 300, seed: SEED })];
  strictEqual(first.length, 1);
  deepStrictEqual(second[0].json, first[0].json);
});

Deno.test("generateSyntheticMpdJson other seed gives other data", () => {
  const first = [...generateSyntheticMpdJson({ playlists: 300, seed: SEED })];
  const other = [...generateSyntheticMpdJson({ playlists: 300, seed: SEED + 1 })];
  notDeepStrictEqual(other[0].json, first[0].json);
});

Deno.test("writeSyntheticMpd writes identical named files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const first = await writeSyntheticMpd(join(dir, "a"), { playlists: 1200, seed: SEED });
    const second = await writeSyntheticMpd(join(dir, "b"), { playlists: 1200, seed: SEED });
    deepStrictEqual(first.map((slice) => slice.playlists), [1000, 200]);

    const names = [...Deno.readDirSync(join(dir, "a"))].map((entry) => entry.name).sort();
    deepStrictEqual(names, ["mpd.slice.0-999.json", "mpd.slice.1000-1199.json"]);
    for (const [index, slice] of first.entries()) {
      deepStrictEqual(await Deno.readFile(second[index].path), await Deno.readFile(slice.path));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("generateSyntheticMpd rejects invalid options", () => {
  throws(() => [...generateSyntheticMpd({ playlists: 0 })], RangeError);
  throws(() => [...generateSyntheticMpd({ playlists: 2.5 })], RangeError);
  throws(() => [...generateSyntheticMpd({ seed: 0.5 })], RangeError);
  throws(() => [...generateSyntheticMpd({ seed: -1 })], RangeError);
  throws(() => [...generateSyntheticMpd({ seed: 2 ** 32 })], RangeError);
  throws(() => [...generateSyntheticMpd({ artists: 3 })], RangeError);
});

Deno.test("generated slices are marked synthetic", () => {
  strictEqual(slices.length, 2);
  for (const [index, slice] of slices.entries()) {
    strictEqual(slice.info.synthetic, true);
    strictEqual(slice.info.version, SYNTHETIC_MPD_VERSION);
    ok(slice.info.description?.includes("seeded generator"), slice.info.description);
    ok(slice.info.description?.includes("not Spotify data"), slice.info.description);
    strictEqual(slice.info.slice, `${index * 1000}-${index * 1000 + 999}`);
  }
});

Deno.test("generated slices pass validation", () => {
  for (const slice of slices) validateSlice(structuredClone(slice), "generated");
});

Deno.test("generated playlists fill every MPD field consistently", () => {
  const uriPattern = (kind: string) => new RegExp(`^spotify:${kind}:[0-9A-Za-z]{22}$`);
  const first = Date.UTC(2010, 0, 1) / 1000;
  const last = Date.UTC(2018, 0, 1) / 1000;

  for (const [index, playlist] of playlists.entries()) {
    strictEqual(playlist.pid, index);
    ok(playlist.name !== undefined && playlist.name.length > 0, `pid ${playlist.pid} has no name`);
    ok(playlist.name.isWellFormed(), `pid ${playlist.pid} name is not well-formed UTF-16`);
    ok(playlist.collaborative === "true" || playlist.collaborative === "false");
    ok(playlist.modified_at !== undefined && playlist.modified_at % 86_400 === 0);
    ok(playlist.modified_at >= first && playlist.modified_at < last, `modified_at ${playlist.modified_at}`);
    ok(playlist.num_followers !== undefined && playlist.num_followers >= 1);
    ok(playlist.num_edits !== undefined && playlist.num_edits >= 1);
    strictEqual(playlist.num_tracks, playlist.tracks.length);
    strictEqual(playlist.num_albums, new Set(playlist.tracks.map((track) => track.album_uri)).size);
    strictEqual(playlist.num_artists, new Set(playlist.tracks.map((track) => track.artist_uri)).size);
    strictEqual(playlist.duration_ms, playlist.tracks.reduce((sum, track) => sum + track.duration_ms!, 0));

    for (const [pos, track] of playlist.tracks.entries()) {
      strictEqual(track.pos, pos);
      ok(uriPattern("track").test(track.track_uri), track.track_uri);
      ok(uriPattern("artist").test(track.artist_uri!), track.artist_uri);
      ok(uriPattern("album").test(track.album_uri!), track.album_uri);
      ok(
        track.track_name && track.artist_name && track.album_name,
        `pid ${playlist.pid} pos ${pos} lacks a name`,
      );
      ok(track.duration_ms! >= 60_000 && track.duration_ms! <= 600_000, `duration ${track.duration_ms}`);
    }
  }
});

Deno.test("generated tracks keep one set of metadata", () => {
  const metadataOfTrack = new Map<string, string>();
  const artistOfAlbum = new Map<string, string>();
  const nameOfArtist = new Map<string, string>();
  for (const track of playlists.flatMap((playlist) => playlist.tracks)) {
    const metadata = JSON.stringify({ ...track, pos: undefined });
    strictEqual(metadataOfTrack.get(track.track_uri) ?? metadata, metadata);
    metadataOfTrack.set(track.track_uri, metadata);
    strictEqual(artistOfAlbum.get(track.album_uri!) ?? track.artist_uri, track.artist_uri);
    artistOfAlbum.set(track.album_uri!, track.artist_uri!);
    strictEqual(nameOfArtist.get(track.artist_uri!) ?? track.artist_name, track.artist_name);
    nameOfArtist.set(track.artist_uri!, track.artist_name!);
  }
});

Deno.test("generated lengths match the MPD range and median", () => {
  const lengths = playlists.map((playlist) => playlist.tracks.length).sort((a, b) => a - b);
  const mean = lengths.reduce((sum, length) => sum + length, 0) / lengths.length;
  ok(lengths[0] >= 5, `shortest ${lengths[0]}`);
  ok(lengths[lengths.length - 1] <= 250, `longest ${lengths[lengths.length - 1]}`);
  const median = lengths[lengths.length >> 1];
  ok(median >= 40 && median <= 60, `median ${median}`);
  ok(mean >= 50 && mean <= 72, `mean ${mean}`);
});

Deno.test("generated track popularity has a long tail", () => {
  const counts = new Map<string, number>();
  for (const playlist of playlists) {
    for (const track of playlist.tracks) counts.set(track.track_uri, (counts.get(track.track_uri) ?? 0) + 1);
  }
  const values = [...counts.values()];
  // At 2,000 playlists the core artists' tracks are a larger part of the catalogue than at the default
  // 20,000, where 57% of tracks occur once.
  const once = share(values.filter((count) => count === 1).length, values.length);
  ok(once >= 0.25 && once <= 0.65, `share of tracks occurring once ${once}`);
  const frequent = values.filter((count) => count > 5).length;
  ok(frequent >= 1000, `${frequent} tracks occur more than 5 times`);
  ok(Math.max(...values) >= 100, `most frequent track occurs ${Math.max(...values)} times`);
});

Deno.test("generated playlists have artist and album runs", () => {
  let pairs = 0;
  let sameArtist = 0;
  let sameAlbum = 0;
  for (const { tracks } of playlists) {
    for (let i = 1; i < tracks.length; i++) {
      pairs++;
      if (tracks[i].artist_uri === tracks[i - 1].artist_uri) sameArtist++;
      if (tracks[i].album_uri === tracks[i - 1].album_uri) sameAlbum++;
    }
  }
  const artistShare = share(sameArtist, pairs);
  const albumShare = share(sameAlbum, pairs);
  ok(artistShare >= 0.15 && artistShare <= 0.32, `consecutive same-artist share ${artistShare}`);
  ok(albumShare >= 0.04 && albumShare <= 0.14, `consecutive same-album share ${albumShare}`);
});

Deno.test("generated playlists sometimes repeat a track", () => {
  const repeating = playlists.filter(({ tracks }) =>
    new Set(tracks.map((t) => t.track_uri)).size < tracks.length
  );
  const repeatShare = share(repeating.length, playlists.length);
  ok(repeatShare >= 0.3 && repeatShare <= 0.55, `share of playlists repeating a track ${repeatShare}`);
});

Deno.test("generated followers are heavy-tailed", () => {
  const followers = playlists.map((playlist) => playlist.num_followers!);
  const single = share(followers.filter((count) => count === 1).length, followers.length);
  ok(single >= 0.6 && single <= 0.9, `share with one follower ${single}`);
  ok(Math.max(...followers) >= 20, `most followers ${Math.max(...followers)}`);
});

Deno.test("generated titles share words within a taste", () => {
  // Playlists whose titles share a word should share more artists than random pairs do, because the
  // title and the tracks come from the same latent taste.
  const artistsOf = playlists.map((playlist) => new Set(playlist.tracks.map((track) => track.artist_uri)));
  const wordOf = playlists.map((playlist) => playlist.name!.toLowerCase().split(" ")[0]);
  const overlap = (a: number, b: number) =>
    [...artistsOf[a]].filter((artist) => artistsOf[b].has(artist)).length;

  let sameTitleOverlap = 0;
  let sameTitlePairs = 0;
  let otherOverlap = 0;
  let otherPairs = 0;
  for (let a = 0; a < 400; a++) {
    for (let b = a + 1; b < 400; b++) {
      if (wordOf[a] === wordOf[b]) {
        sameTitleOverlap += overlap(a, b);
        sameTitlePairs++;
      } else {
        otherOverlap += overlap(a, b);
        otherPairs++;
      }
    }
  }
  ok(sameTitlePairs > 50, `${sameTitlePairs} pairs share a first title word`);
  const sameMean = sameTitleOverlap / sameTitlePairs;
  const otherMean = otherOverlap / otherPairs;
  ok(sameMean > 2 * otherMean, `shared artists: ${sameMean} with a common title word, ${otherMean} without`);
});

Deno.test("generate task prints per-file counts", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const task = new URL("../tasks/generate.ts", import.meta.url).pathname;
    const args = ["run", "-A", task, "--playlists", "1200", "--seed", String(SEED), "--out", dir];
    const { code, stderr } = await new Deno.Command(Deno.execPath(), { args, stdout: "piped" }).output();
    const output = new TextDecoder().decode(stderr);
    strictEqual(code, 0, output);
    ok(output.includes("mpd.slice.0-999.json: 1000 playlists (1000 so far)"), output);
    ok(output.includes("mpd.slice.1000-1199.json: 200 playlists (1200 so far)"), output);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
