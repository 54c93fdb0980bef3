import { deepStrictEqual, match, rejects, strictEqual, throws } from "node:assert/strict";
import { seedBuckets, splitCorpus } from "../lib/data/split.ts";
import { buildVocabulary } from "../lib/data/vocabulary.ts";
import { loadSplit, readArtifact, splitSetsFromPids } from "../lib/pipeline/load_artifacts.ts";
import { studyPaths } from "../lib/pipeline/paths.ts";
import { randomCorpus } from "./helpers/corpus.ts";

Deno.test("splitSetsFromPids training is the rest", () => {
  const corpus = randomCorpus(10, 30, 1);
  const sets = splitSetsFromPids(corpus, [7, 2], [5]);

  deepStrictEqual(sets.dev, [2, 7]);
  deepStrictEqual(sets.test, [5]);
  deepStrictEqual(sets.training, [0, 1, 3, 4, 6, 8, 9]);
  throws(() => splitSetsFromPids(corpus, [99], []), /pid 99 is not in the corpus/);
});

Deno.test("loadSplit rebuilds the pipeline's split", async () => {
  const root = await Deno.makeTempDir({ prefix: "load_artifacts_test_" });
  try {
    const corpus = randomCorpus(400, 200, 3);
    const split = splitCorpus(corpus, { devSize: 4, testSize: 12, seed: 2018 });
    const paths = studyPaths(root, "tiny");
    await Deno.mkdir(paths.dataDir, { recursive: true });
    const pid = (index: number) => corpus.playlists[index].pid;
    await Deno.writeTextFile(
      paths.splitFile,
      JSON.stringify({ dev: split.dev.map(pid), test: split.test.map(pid) }),
    );

    const loaded = await loadSplit(paths, corpus);

    deepStrictEqual(loaded.sets.training, split.train);
    deepStrictEqual(loaded.sets.test, split.test);
    const vocabulary = buildVocabulary(corpus, split.train, [...split.dev, ...split.test]);
    deepStrictEqual(loaded.vocabulary.trackOfToken, vocabulary.trackOfToken);
    deepStrictEqual(loaded.testCases.map((c) => c.pid), seedBuckets(corpus, split.test).map((c) => c.pid));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("readArtifact names missing and invalid files", async () => {
  const root = await Deno.makeTempDir({ prefix: "load_artifacts_test_" });
  try {
    await rejects(readArtifact(`${root}/absent.json`), (error: Error) => {
      strictEqual(error.name, "NotFound");
      match(error.message, /absent\.json failed: the file is missing/);
      return true;
    });
    await Deno.writeTextFile(`${root}/broken.json`, "{");
    await rejects(readArtifact(`${root}/broken.json`), SyntaxError);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
