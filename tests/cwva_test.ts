import { deepStrictEqual, ok, rejects, strictEqual, throws } from "node:assert/strict";
import { join } from "node:path";
import { PopularityRecommender } from "../lib/baselines/popularity.ts";
import { CwvaRecommender, fitCwva, levenshtein } from "../lib/cwva/cwva.ts";
import { normalizeTitle, wordVariants } from "../lib/cwva/normalize.ts";
import type { Corpus } from "../lib/data/corpus.ts";
import { countTracks } from "../lib/data/split.ts";
import { readWordVectors, WordVectors } from "../lib/embeddings/word_vectors.ts";
import { rPrecision } from "../lib/eval/metrics.ts";
import { createRandom } from "../lib/util/random.ts";
import { trackTable } from "./helpers/corpus.ts";

Deno.test("normalizeTitle handles title spellings", () => {
  const cases: [string, string[]][] = [
    ["Chill Vibes", ["chill", "vibes"]],
    ["🔥🔥", ["fire", "fire"]],
    ["Chillin' Vibes!!", ["chill", "vibes"]],
    ["C H I L L", ["chill"]],
    ["r n b 2 0 1 7", ["r&b", "2017"]],
    ["RnB Jamz", ["r&b", "jams"]],
    ["r & b", ["r&b"]],
    ["Rock n' Roll", ["rock", "and", "roll"]],
    ["Hip-Hop", ["hip", "hop"]],
    ["My Playlist", ["my"]],
    ["Music", []],
    ["chillll", ["chill"]],
    ["Café del Mar", ["cafe", "del", "mar"]],
    ["☀️ summer", ["sun", "summer"]],
    ["🏋️‍♀️ gym", ["workout", "gym"]],
    ["90's", ["90s"]],
    ["🛹", ["skate"]],
    ["🦄 dreams", ["🦄", "dreams"]],
    ["", []],
  ];
  for (const [title, expected] of cases) deepStrictEqual(normalizeTitle(title), expected, title);
});

Deno.test("wordVariants tries common misspellings", () => {
  deepStrictEqual(wordVariants("chill"), ["chill", "chil"]);
  deepStrictEqual(wordVariants("partyy"), ["partyy", "party"]);
  deepStrictEqual(wordVariants("classicall"), ["classicall", "classical", "clasical"]);
  deepStrictEqual(wordVariants("jamz"), ["jamz", "jams"]);
});

Deno.test("levenshtein counts edits", () => {
  strictEqual(levenshtein("kitten", "sitting"), 3);
  strictEqual(levenshtein("", "abc"), 3);
  strictEqual(levenshtein("chill", "chill"), 0);
  strictEqual(levenshtein("gym", "gum"), 1);
});

/** Writes a word2vec binary file by hand: header, then per word its bytes, a space and float32 values. */
function binaryVectors(rows: [string, number[]][], newline: boolean): Uint8Array<ArrayBuffer> {
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [encoder.encode(`${rows.length} ${rows[0][1].length}\n`)];
  for (const [word, values] of rows) {
    parts.push(encoder.encode(`${word} `));
    const bytes = new Uint8Array(values.length * 4);
    const view = new DataView(bytes.buffer);
    values.forEach((value, i) => view.setFloat32(i * 4, value, true));
    parts.push(bytes);
    if (newline) parts.push(encoder.encode("\n"));
  }
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

const ROWS: [string, number[]][] = [
  ["chill", [0.5, -1.25, 3]],
  ["café", [1, 2, 0.125]],
  ["</s>", [-0.5, 0, 7]],
];

async function withTempDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await run(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function assertRows(vectors: WordVectors, rows: [string, number[]][]): void {
  deepStrictEqual(vectors.words, rows.map(([word]) => word));
  strictEqual(vectors.dimension, rows[0][1].length);
  for (const [word, values] of rows) deepStrictEqual(Array.from(vectors.vector(word)!), values, word);
}

Deno.test("readWordVectors reads the text format", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "vectors.txt");
    await Deno.writeTextFile(path, `3 3\n${ROWS.map(([w, v]) => `${w} ${v.join(" ")}`).join("\n")}\n`);
    assertRows(await readWordVectors(path), ROWS);
  });
});

Deno.test("readWordVectors reads text without a header", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "glove.txt");
    await Deno.writeTextFile(path, ROWS.map(([w, v]) => `${w} ${v.join(" ")}`).join("\r\n"));
    assertRows(await readWordVectors(path), ROWS);
  });
});

Deno.test("readWordVectors reads the binary format", async () => {
  await withTempDir(async (dir) => {
    for (const newline of [true, false]) {
      // No extension, so the format is detected from the bytes.
      const path = join(dir, `vectors-${newline}`);
      await Deno.writeFile(path, binaryVectors(ROWS, newline));
      assertRows(await readWordVectors(path), ROWS);
    }
  });
});

Deno.test("readWordVectors reads gzip files", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "vectors.bin.gz");
    const compressed = new Response(
      new Blob([binaryVectors(ROWS, true)]).stream().pipeThrough(new CompressionStream("gzip")),
    );
    await Deno.writeFile(path, new Uint8Array(await compressed.arrayBuffer()));
    assertRows(await readWordVectors(path), ROWS);
  });
});

Deno.test("readWordVectors applies limit and keep", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "vectors.bin");
    await Deno.writeFile(path, binaryVectors(ROWS, true));
    assertRows(await readWordVectors(path, { limit: 2 }), ROWS.slice(0, 2));
    assertRows(await readWordVectors(path, { keep: (word) => word !== "café" }), [ROWS[0], ROWS[2]]);
  });
});

Deno.test("readWordVectors rejects malformed files", async () => {
  await withTempDir(async (dir) => {
    const truncated = join(dir, "truncated.bin");
    await Deno.writeFile(truncated, binaryVectors(ROWS, true).slice(0, 30));
    await rejects(() => readWordVectors(truncated), SyntaxError);

    const ragged = join(dir, "ragged.txt");
    await Deno.writeTextFile(ragged, "2 3\nchill 1 2 3\nvibes 1 2\n");
    await rejects(() => readWordVectors(ragged), /line 3 has 2 values, expected 3/);

    const empty = join(dir, "empty.txt");
    await Deno.writeTextFile(empty, "");
    await rejects(() => readWordVectors(empty), /empty/);
  });
  throws(() => new WordVectors(["a"], new Float32Array(3), 2), RangeError);
});

const TASTES = [
  { words: ["workout", "gym"], first: 0 },
  { words: ["sleep", "calm"], first: 40 },
  { words: ["party", "lit"], first: 80 },
  { words: ["country", "truck"], first: 120 },
];

/**
 * Builds playlists whose titles name their taste: each taste owns 40 tracks, and a playlist draws 15
 * tracks from its taste, plus 3 from the 20 globally popular tracks 160-179 that every taste shares.
 */
function tasteCorpus(playlists: number, seed: number): Corpus {
  const random = createRandom(seed);
  return {
    tracks: trackTable(180),
    playlists: Array.from({ length: playlists }, (_, pid) => {
      const taste = TASTES[pid % TASTES.length];
      const word = taste.words[Math.floor(random() * 2)];
      const tracks = [
        ...Array.from({ length: 15 }, () => taste.first + Math.floor(random() * 40)),
        ...Array.from({ length: 3 }, () => 160 + Math.floor(random() * 20)),
      ];
      return {
        pid,
        name: random() < 0.5 ? `${word} playlist` : word.toUpperCase(),
        modifiedAt: null,
        tracks: Int32Array.from(tracks),
      };
    }),
    synthetic: true,
    source: "test",
  };
}

const tastes = tasteCorpus(240, 11);
const tasteTrain = Array.from({ length: 200 }, (_, i) => i);
const SKIP_GRAM = { dimension: 16, epochs: 10, sample: 0, seed: 1 };

Deno.test("CWVA beats popularity for playlists without seeds", async () => {
  const cwva = fitCwva(tastes, tasteTrain, { skipGram: SKIP_GRAM });
  const popularity = new PopularityRecommender(countTracks(tastes, tasteTrain));
  const test = tastes.playlists.slice(200);
  const queries = test.map((p) => ({ pid: p.pid, name: p.name, seeds: new Int32Array() }));

  const mean = async (recommendations: Promise<{ tracks: Int32Array }[]>) => {
    const results = await recommendations;
    return results.reduce((sum, r, i) => sum + rPrecision(r.tracks, test[i].tracks), 0) / results.length;
  };
  const cwvaScore = await mean(cwva.recommend(queries, 500));
  const popularityScore = await mean(popularity.recommend(queries, 500));
  ok(cwvaScore > popularityScore + 0.1, `CWVA ${cwvaScore}, popularity ${popularityScore}`);
});

Deno.test("cwvaSeeds draws from the title's taste", () => {
  const cwva = fitCwva(tastes, tasteTrain, { skipGram: SKIP_GRAM, seedCount: 30 });
  const seeds = cwva.cwvaSeeds({ pid: 1, name: "Sleep 😴", seeds: Int32Array.of(41) });
  strictEqual(seeds.length, 30);
  ok(!seeds.includes(41));
  // The first tracks come from the sleep taste (40-79); shared popular tracks may follow.
  const offTaste = Array.from(seeds.subarray(0, 20)).filter((t) => (t < 40 || t >= 80) && t < 160);
  deepStrictEqual(offTaste, []);
});

Deno.test("CWVA learns words that share tracks", () => {
  const cwva = fitCwva(tastes, tasteTrain, { skipGram: SKIP_GRAM });
  // "gym" and "workout" title playlists of the same taste, "sleep" another.
  const similar = cwva.similarPlaylists("gym");
  strictEqual(similar.method, "vectors");
  strictEqual(similar.playlists.length, 100);
  const names = Array.from(
    similar.playlists.subarray(0, 50),
    (i) => normalizeTitle(tastes.playlists[i].name)[0],
  );
  deepStrictEqual([...new Set(names)].sort(), ["gym", "workout"]);
});

Deno.test("CWVA falls back to edit distance", () => {
  const cwva = fitCwva(tastes, tasteTrain, { skipGram: SKIP_GRAM, neighbours: 10 });
  const similar = cwva.similarPlaylists("countryy rodeo");
  strictEqual(similar.method, "vectors");
  const misspelled = cwva.similarPlaylists("cuntry");
  strictEqual(misspelled.method, "edit-distance");
  strictEqual(misspelled.playlists.length, 10);
  for (const index of misspelled.playlists) {
    deepStrictEqual(normalizeTitle(tastes.playlists[index].name), ["country"]);
  }
  ok(Math.abs(misspelled.similarities[0] - (1 - 1 / 7)) < 1e-6);
});

Deno.test("similarityMethod names the path taken", () => {
  const cwva = fitCwva(tastes, tasteTrain, { skipGram: SKIP_GRAM, neighbours: 10 });
  for (const title of ["countryy rodeo", "cuntry", "qwertyzzz", "Sleep 😴"]) {
    strictEqual(cwva.similarityMethod(title), cwva.similarPlaylists(title).method, title);
  }
  strictEqual(cwva.similarityMethod("cuntry"), "edit-distance");
  strictEqual(cwva.similarityMethod("gym"), "vectors");
  strictEqual(cwva.similarityMethod("Music!"), undefined);
});

Deno.test("CWVA uses pre-trained vectors", async () => {
  // "lifting" never titles a training playlist; the file places it next to "workout".
  const vectors = new WordVectors(
    ["workout", "gym", "lifting", "sleep", "calm", "party", "lit", "country", "truck"],
    Float32Array.of(
      1,
      0,
      0,
      0,
      0.9,
      0.1,
      0,
      0,
      0.95,
      0,
      0.05,
      0,
      0,
      1,
      0,
      0,
      0,
      0.9,
      0.1,
      0,
      0,
      0,
      1,
      0,
      0,
      0,
      0.9,
      0.1,
      0,
      0,
      0,
      1,
      0,
      0,
      0.1,
      0.9,
    ),
    4,
  );
  const cwva = fitCwva(tastes, tasteTrain, { vectors, seedCount: 10 });
  const seeds = cwva.cwvaSeeds({ pid: 1, name: "Lifting", seeds: new Int32Array() });
  strictEqual(seeds.length, 10);
  deepStrictEqual(Array.from(seeds).filter((t) => t >= 40 && t < 160), []);
  const [result] = await cwva.recommend([{ pid: 1, name: "Lifting", seeds: new Int32Array() }], 10);
  deepStrictEqual(Array.from(result.tracks), Array.from(seeds));
});

Deno.test("CWVA answers empty titles with the fallback", async () => {
  const popularity = new PopularityRecommender(countTracks(tastes, tasteTrain));
  const cwva = new CwvaRecommender(tastes, tasteTrain, new WordVectors(["gym"], Float32Array.of(1), 1), {
    neighbours: 100,
    seedCount: 100,
    fallback: popularity,
  });
  const query = { pid: 3, name: "Music Playlist", seeds: Int32Array.of(160) };
  const [got] = await cwva.recommend([query], 25);
  const [expected] = await popularity.recommend([query], 25);
  deepStrictEqual(Array.from(got.tracks), Array.from(expected.tracks));
  strictEqual(cwva.cwvaSeeds(query).length, 0);
});

Deno.test("fitCwva rejects invalid options", () => {
  throws(() => fitCwva(tastes, tasteTrain, { neighbours: 0 }), RangeError);
  throws(() => fitCwva(tastes, [0, 999]), /outside the corpus/);
});
