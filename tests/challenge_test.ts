import { deepStrictEqual, match, notDeepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import type { Corpus } from "../lib/data/corpus.ts";
import {
  buildChallengeSet,
  CHALLENGE_CATEGORIES,
  type ChallengeSet,
  formatChallengeScores,
  getCategory,
  type GroundTruth,
  inferCategory,
  readChallengeSet,
  readGroundTruth,
  scoreChallenge,
  writeChallengeSet,
  writeGroundTruth,
} from "../lib/challenge/mod.ts";

const FIXTURE = new URL("./fixtures/challenge/challenge_set.json", import.meta.url).pathname;

/** Returns a valid track URI for index `i`: "spotify:track:" and 22 base62 characters. */
function uri(i: number): string {
  return `spotify:track:${i.toString(36).padStart(22, "0")}`;
}

/** Builds a corpus with one playlist per entry of `lengths`, pids from 100, no track repeated in a playlist. */
function lengthCorpus(lengths: number[], trackCount = 400): Corpus {
  const uris = Array.from({ length: trackCount }, (_, i) => uri(i));
  return {
    tracks: {
      uri: uris,
      name: uris.map((_, i) => `Track ${i}`),
      artistUri: uris.map((_, i) => `spotify:artist:${i % 30}`),
      artistName: uris.map((_, i) => `Artist ${i % 30}`),
      albumUri: uris.map(() => ""),
    },
    playlists: lengths.map((length, i) => ({
      pid: 100 + i,
      name: `playlist ${100 + i}`,
      modifiedAt: null,
      tracks: Int32Array.from({ length }, (_, j) => (i * 13 + j) % trackCount),
    })),
    synthetic: true,
    source: "test",
  };
}

async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "challenge_test_" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("buildChallengeSet fills ten categories equally", () => {
  const corpus = lengthCorpus(Array.from({ length: 50 }, (_, i) => 110 + i));
  const built = buildChallengeSet(corpus, corpus.playlists.map((_, i) => i), { date: "fixed" });

  strictEqual(built.challenge.playlists.length, 50);
  strictEqual(built.skipped.length, 0);
  for (const category of CHALLENGE_CATEGORIES) {
    const members = [...built.categoryOf.values()].filter((id) => id === category.id);
    strictEqual(members.length, 5, `category ${category.id}`);
  }
});

Deno.test("buildChallengeSet cuts seeds per category", () => {
  const corpus = lengthCorpus(Array.from({ length: 50 }, (_, i) => 110 + i));
  const built = buildChallengeSet(corpus, corpus.playlists.map((_, i) => i), { date: "fixed" });
  const truthOf = new Map(built.groundTruth.playlists.map((p) => [p.pid, p]));
  let randomNotFirst = 0;

  for (const playlist of built.challenge.playlists) {
    const category = getCategory(built.categoryOf.get(playlist.pid)!);
    const source = corpus.playlists.find((p) => p.pid === playlist.pid)!;
    const positions = playlist.tracks.map((t) => t.pos);

    strictEqual(playlist.num_samples, category.seeds, `pid ${playlist.pid} seeds`);
    strictEqual(playlist.tracks.length, category.seeds, `pid ${playlist.pid} tracks`);
    strictEqual(playlist.name !== undefined, category.title, `pid ${playlist.pid} title`);
    strictEqual(playlist.num_tracks, source.tracks.length);
    strictEqual(playlist.num_samples + playlist.num_holdouts, playlist.num_tracks);
    strictEqual(truthOf.get(playlist.pid)!.holdouts.length, playlist.num_holdouts);
    strictEqual(truthOf.get(playlist.pid)!.category, category.id);
    deepStrictEqual(positions, [...positions].sort((a, b) => a - b), `pid ${playlist.pid} in pos order`);
    if (!category.random) deepStrictEqual(positions, positions.map((_, i) => i), `pid ${playlist.pid} first`);
    if (category.random && positions.some((pos, i) => pos !== i)) randomNotFirst++;
    for (const track of playlist.tracks) strictEqual(track.track_uri, uri(source.tracks[track.pos]));
    strictEqual(inferCategory(playlist), category.id, `pid ${playlist.pid} inferred`);
  }
  ok(randomNotFirst > 0, "random categories draw positions beyond the first k");
});

Deno.test("buildChallengeSet holdouts complete seeds", () => {
  const corpus = lengthCorpus(Array.from({ length: 20 }, (_, i) => 30 + 7 * i));
  const built = buildChallengeSet(corpus, corpus.playlists.map((_, i) => i), { date: "fixed" });
  const truthOf = new Map(built.groundTruth.playlists.map((p) => [p.pid, p.holdouts]));

  for (const playlist of built.challenge.playlists) {
    const source = corpus.playlists.find((p) => p.pid === playlist.pid)!;
    const given = new Set(playlist.tracks.map((t) => t.pos));
    const expected: string[] = [];
    source.tracks.forEach((track, pos) => {
      if (!given.has(pos)) expected.push(uri(track));
    });
    deepStrictEqual(truthOf.get(playlist.pid), expected, `pid ${playlist.pid}`);
  }
});

Deno.test("buildChallengeSet keeps a holdout for short playlists", () => {
  const lengths = [1, 2, 3, 5, 6, 8, 10, 11, 12, 20, 26, 30, 60, 101, 102, 150, 0];
  const corpus = lengthCorpus(lengths);
  const built = buildChallengeSet(corpus, corpus.playlists.map((_, i) => i), { date: "fixed" });

  for (const playlist of built.challenge.playlists) {
    ok(playlist.num_holdouts >= 1, `pid ${playlist.pid} has ${playlist.num_holdouts} holdouts`);
  }
  deepStrictEqual(built.skipped, [116], "the empty playlist is skipped");
  strictEqual(built.challenge.playlists.length, lengths.length - 1);
});

Deno.test("buildChallengeSet honours the minimum holdouts", () => {
  const corpus = lengthCorpus([6, 7, 10, 15, 20, 40, 120, 130]);
  const built = buildChallengeSet(corpus, corpus.playlists.map((_, i) => i), {
    date: "fixed",
    minHoldouts: 5,
  });

  for (const playlist of built.challenge.playlists) {
    ok(playlist.num_holdouts >= 5, `pid ${playlist.pid} has ${playlist.num_holdouts} holdouts`);
  }
});

Deno.test("buildChallengeSet caps playlists per category", () => {
  const corpus = lengthCorpus(Array.from({ length: 40 }, () => 120));
  const built = buildChallengeSet(corpus, corpus.playlists.map((_, i) => i), {
    date: "fixed",
    playlistsPerCategory: 2,
  });

  strictEqual(built.challenge.playlists.length, 20);
  strictEqual(built.skipped.length, 20);
});

Deno.test("buildChallengeSet depends only on its seed", () => {
  const corpus = lengthCorpus(Array.from({ length: 30 }, (_, i) => 105 + i));
  const indices = corpus.playlists.map((_, i) => i);
  const first = buildChallengeSet(corpus, indices, { date: "fixed", seed: 7 });
  const again = buildChallengeSet(corpus, [...indices].reverse(), { date: "fixed", seed: 7 });
  const other = buildChallengeSet(corpus, indices, { date: "fixed", seed: 8 });

  deepStrictEqual(again.challenge, first.challenge);
  deepStrictEqual(again.groundTruth, first.groundTruth);
  notDeepStrictEqual(other.challenge, first.challenge);
});

Deno.test("buildChallengeSet labels synthetic sets", () => {
  const corpus = lengthCorpus([20, 30]);
  const built = buildChallengeSet(corpus, [0, 1], { date: "fixed" });

  strictEqual(built.challenge.synthetic, true);
  match(built.challenge.description ?? "", /SYNTHETIC/);
  strictEqual(built.groundTruth.synthetic, true);
  strictEqual(built.challenge.version, "challenge-like-1");
});

Deno.test("readChallengeSet reads hand-made file", async () => {
  const set = await readChallengeSet(FIXTURE);

  strictEqual(set.version, "hand-made-1");
  strictEqual(set.playlists.length, 4);
  strictEqual(set.playlists[0].name, "road trip");
  strictEqual(set.playlists[1].tracks[0].track_name, "First Song");
  strictEqual(set.playlists[2].name, undefined);
  deepStrictEqual(set.playlists.map(inferCategory), [1, 2, 4, undefined]);
});

Deno.test("built challenge round-trips through files", async () => {
  const corpus = lengthCorpus(Array.from({ length: 20 }, (_, i) => 60 + 5 * i));
  const built = buildChallengeSet(corpus, corpus.playlists.map((_, i) => i), { date: "fixed" });

  await withTempDir(async (dir) => {
    await writeChallengeSet(join(dir, "challenge_set.json"), built.challenge);
    await writeGroundTruth(join(dir, "ground_truth.json"), built.groundTruth);

    deepStrictEqual(await readChallengeSet(join(dir, "challenge_set.json")), built.challenge);
    deepStrictEqual(await readGroundTruth(join(dir, "ground_truth.json")), built.groundTruth);
  });
});

Deno.test("readChallengeSet names pid and field", async () => {
  const valid = JSON.parse(await Deno.readTextFile(FIXTURE)) as ChallengeSet;
  const cases: Array<{ change: (set: ChallengeSet) => void; error: ErrorConstructor; pattern: RegExp }> = [
    {
      change: (set) => (set.playlists[1].num_samples = 2),
      error: RangeError,
      pattern: /pid 1001: field "tracks" has 1 tracks but "num_samples" is 2/,
    },
    {
      change: (set) => (set.playlists[2].tracks[3].track_uri = "spotify:track:short"),
      error: TypeError,
      pattern: /pid 1002: field "tracks\[3\]\.track_uri" is not a track URI/,
    },
    {
      change: (set) => delete (set.playlists[0] as Partial<ChallengeSet["playlists"][0]>).num_holdouts,
      error: TypeError,
      pattern: /pid 1000: field "num_holdouts" is missing/,
    },
    {
      change: (set) => (set.playlists[3].num_tracks = 21),
      error: RangeError,
      pattern: /pid 1003: field "num_tracks" is 21 but num_samples \+ num_holdouts is 20/,
    },
    {
      change: (set) => (set.playlists[3].tracks[4].pos = 20),
      error: RangeError,
      pattern: /pid 1003: field "tracks\[4\]\.pos" is 20, outside a playlist of 20 tracks/,
    },
    {
      change: (set) => (set.playlists[2].pid = 1001),
      error: RangeError,
      pattern: /pid 1001 occurs twice/,
    },
    {
      change: (set) => ((set.playlists[1] as { name: unknown }).name = 5),
      error: TypeError,
      pattern: /pid 1001: field "name" is not a string/,
    },
    {
      change: (set) => delete (set as Partial<ChallengeSet>).playlists,
      error: TypeError,
      pattern: /field "playlists" is missing/,
    },
  ];

  await withTempDir(async (dir) => {
    for (const [i, { change, error, pattern }] of cases.entries()) {
      const set = structuredClone(valid);
      change(set);
      const path = join(dir, `invalid_${i}.json`);
      await Deno.writeTextFile(path, JSON.stringify(set));

      await rejects(readChallengeSet(path), error, `case ${i}`);
      await rejects(
        readChallengeSet(path),
        (e: Error) => e.message.includes(path),
        `case ${i} names the file`,
      );
      await rejects(readChallengeSet(path), pattern, `case ${i}`);
    }
  });
});

Deno.test("readChallengeSet rejects broken JSON", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "broken.json");
    await Deno.writeTextFile(path, '{"date": "x", "version": ');

    await rejects(readChallengeSet(path), SyntaxError);
    await rejects(readChallengeSet(path), /Reading challenge set .*broken\.json failed: invalid JSON/);
    await rejects(readChallengeSet(join(dir, "absent.json")), Deno.errors.NotFound);
  });
});

Deno.test("scoreChallenge matches hand-computed values", () => {
  const A = uri(1), B = uri(2), C = uri(3), D = uri(4), E = uri(5), F = uri(6), G = uri(7);
  const X = uri(8), Y = uri(9);
  const filler = (count: number, from: number) =>
    Array.from({ length: count }, (_, i) => uri(1000 + from + i));
  const truth: GroundTruth = {
    challenge_date: "fixed",
    synthetic: true,
    playlists: [
      { pid: 1, category: 1, holdouts: [A, B, C, D] },
      { pid: 2, category: 1, holdouts: [E] },
      { pid: 3, category: 3, holdouts: [F, G] },
    ],
  };
  const rows = [
    { pid: 1, uris: [X, A, B, Y, ...filler(496, 0)] },
    { pid: 3, uris: [...filler(25, 500), F, ...filler(474, 600)] },
    { pid: 99, uris: [E] },
    { pid: 1, uris: [A, B, C, D] },
  ];
  const artists: Record<string, string> = {
    [A]: "a1",
    [B]: "a2",
    [C]: "a1",
    [D]: "a3",
    [X]: "a3",
    [Y]: "a1",
  };
  const scores = scoreChallenge(rows, truth, { artistOf: (track) => artists[track] ?? "" });
  const close = (actual: number | null, expected: number, label: string) =>
    ok(actual !== null && Math.abs(actual - expected) < 1e-12, `${label}: ${actual} != ${expected}`);

  // pid 1 has hits at ranks 2 and 3 of 4. X earns artist credit for a3, and Y none because a1 is already hit.
  const ndcg1 = (1 / Math.log2(3) + 1 / Math.log2(4)) /
    (1 + 1 / Math.log2(3) + 1 / Math.log2(4) + 1 / Math.log2(5));
  // pid 3: the only hit is at 0-based index 25.
  const ndcg3 = (1 / Math.log2(27)) / (1 + 1 / Math.log2(3));
  const [one, three] = scores.categories;

  strictEqual(scores.categories.length, 2);
  strictEqual(one.category, 1);
  strictEqual(one.metrics.playlists, 2);
  close(one.metrics.r_precision, 0.25, "category 1 R-precision");
  close(one.metrics.r_precision_artist_credit, 2.25 / 4 / 2, "category 1 artist credit");
  close(one.metrics.ndcg, ndcg1 / 2, "category 1 NDCG");
  close(one.metrics.clicks, 25.5, "category 1 clicks");
  close(one.metrics.recall_at_500, 0.25, "category 1 recall");
  strictEqual(three.category, 3);
  close(three.metrics.r_precision, 0, "category 3 R-precision");
  close(three.metrics.ndcg, ndcg3, "category 3 NDCG");
  close(three.metrics.clicks, 2, "category 3 clicks");
  close(three.metrics.recall_at_500, 0.5, "category 3 recall");
  close(scores.overall.r_precision, 0.5 / 3, "overall R-precision");
  close(scores.overall.clicks, 53 / 3, "overall clicks");
  close(scores.category_mean.clicks, 13.75, "category mean clicks");
  close(scores.category_mean.r_precision, 0.125, "category mean R-precision");
  strictEqual(scores.overall.playlists, 3);
});

Deno.test("scoreChallenge without artists leaves credit null", () => {
  const truth: GroundTruth = {
    challenge_date: "fixed",
    synthetic: true,
    playlists: [{ pid: 1, category: 2, holdouts: [uri(1)] }],
  };
  const scores = scoreChallenge([{ pid: 1, uris: [uri(1)] }], truth);

  strictEqual(scores.overall.r_precision, 1);
  strictEqual(scores.overall.r_precision_artist_credit, null);
  match(formatChallengeScores(scores), /2\. title \+ first 1 +1 +1\.0000 +- +1\.0000 +0\.00 +1\.0000/);
});
