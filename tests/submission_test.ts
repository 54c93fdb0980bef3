import { deepStrictEqual, match, ok, rejects, strictEqual, throws } from "node:assert/strict";
import { join } from "node:path";
import { PopularityRecommender } from "../lib/baselines/popularity.ts";
import {
  buildChallengeSet,
  type ChallengeSet,
  decodeSubmission,
  formatSubmission,
  isGzip,
  parseSubmission,
  readChallengeSet,
  readSubmission,
  recommendChallenge,
  type SubmissionRow,
  type SubmissionViolation,
  validateSubmission,
  writeSubmission,
} from "../lib/challenge/mod.ts";
import { countTracks } from "../lib/data/split.ts";
import type { PlaylistQuery, Recommender } from "../lib/recommender.ts";
import { randomCorpus } from "./helpers/corpus.ts";

const FIXTURE = new URL("./fixtures/challenge/challenge_set.json", import.meta.url).pathname;
const TEAM = { name: "test team", email: "team@example.org" };

/** A valid track URI for index `i` that no fixture seed uses. */
function uri(i: number): string {
  return `spotify:track:${i.toString(36).padStart(22, "x")}`;
}

/** 500 distinct valid URIs starting at `from`. */
function fullRow(pid: number, from = 0): SubmissionRow {
  return { pid, uris: Array.from({ length: 500 }, (_, i) => uri(from + i)) };
}

/** Builds a valid row for every playlist of `challenge`, each with its own URIs. */
function validRows(challenge: ChallengeSet): SubmissionRow[] {
  return challenge.playlists.map((p, i) => fullRow(p.pid, i * 1000));
}

function rulesAt(violations: SubmissionViolation[], line: number | null): string[] {
  return violations.filter((v) => v.line === line).map((v) => v.rule).sort();
}

Deno.test("validateSubmission accepts valid file", async () => {
  const challenge = await readChallengeSet(FIXTURE);
  const text = formatSubmission(TEAM, validRows(challenge), { comments: ["made by a test", "second"] });

  deepStrictEqual(validateSubmission(text, challenge), []);
  match(text, /^# made by a test\n# second\nteam_info, test team, team@example\.org\n1000, spotify:track:/);
});

Deno.test("validateSubmission accepts both separators", async () => {
  const challenge = await readChallengeSet(FIXTURE);
  const rows = validRows(challenge);
  const compact = ["team_info,test team,team@example.org", ...rows.map((r) => [r.pid, ...r.uris].join(","))]
    .join("\r\n");

  deepStrictEqual(validateSubmission(compact, challenge), []);
  deepStrictEqual(validateSubmission(`\n# comment\n\n${compact}\n\n`, challenge), []);
});

Deno.test("validateSubmission accepts 2018 team line", async () => {
  const challenge = await readChallengeSet(FIXTURE);
  const text = formatSubmission({ ...TEAM, track: "main" }, validRows(challenge));
  const parsed = parseSubmission(text);

  deepStrictEqual(validateSubmission(text, challenge), []);
  deepStrictEqual(parsed.team, { name: "test team", track: "main", email: "team@example.org" });
});

Deno.test("validateSubmission reports planted faults", async () => {
  const challenge = await readChallengeSet(FIXTURE);
  const rows = validRows(challenge);
  const short = { pid: 1000, uris: rows[0].uris.slice(0, 499) };
  const repeated = { pid: 1001, uris: [...rows[1].uris.slice(0, 499), rows[1].uris[3]] };
  const invalid = { pid: 1002, uris: [...rows[2].uris.slice(0, 499), "spotify:track:tooShort"] };
  const withSeed = {
    pid: 1003,
    uris: [...rows[3].uris.slice(0, 499), "spotify:track:Seed000000000000000009"],
  };
  const lines = [
    "# the team line is missing", // 1
    ...[short, repeated, invalid, withSeed].map((r) => [r.pid, ...r.uris].join(", ")), // 2 to 5
    [4242, ...fullRow(0).uris].join(", "), // 6: unknown pid
    [1001, ...fullRow(0, 5000).uris].join(", "), // 7: duplicate pid
  ];
  const violations = validateSubmission(lines.join("\n"), {
    ...challenge,
    playlists: [...challenge.playlists, { ...challenge.playlists[0], pid: 7777 }],
  });

  deepStrictEqual(rulesAt(violations, 2), ["team_info", "track_count"]);
  deepStrictEqual(rulesAt(violations, 3), ["duplicate_track"]);
  deepStrictEqual(rulesAt(violations, 4), ["invalid_uri"]);
  deepStrictEqual(rulesAt(violations, 5), ["seed_track"]);
  deepStrictEqual(rulesAt(violations, 6), ["unknown_pid"]);
  deepStrictEqual(rulesAt(violations, 7), ["duplicate_pid"]);
  deepStrictEqual(rulesAt(violations, null), ["missing_pid"]);
  strictEqual(violations.length, 8);
  strictEqual(violations.find((v) => v.rule === "missing_pid")?.pid, 7777);
  match(violations.find((v) => v.rule === "track_count")!.message, /499 tracks/);
  match(violations.find((v) => v.rule === "duplicate_pid")!.message, /line 3/);
  match(violations.find((v) => v.rule === "invalid_uri")!.message, /spotify:track:tooShort/);
  match(violations.find((v) => v.rule === "seed_track")!.message, /Seed000000000000000009/);
  deepStrictEqual(violations.map((v) => v.line), [2, 2, 3, 4, 5, 6, 7, null]);
});

Deno.test("validateSubmission reports malformed team lines", async () => {
  const challenge = await readChallengeSet(FIXTURE);
  const body = formatSubmission(TEAM, validRows(challenge)).split("\n").slice(1).join("\n");
  const cases = [
    ["team_info, test team", /1 fields after team_info/],
    ["team_info, test team, not-an-address", /not an email address/],
    ["team_info, , team@example.org", /empty team name/],
    ["team_info, test team, gold, team@example.org", /main or creative/],
  ] as const;

  for (const [team, pattern] of cases) {
    const violations = validateSubmission(`# comment\n${team}\n${body}`, challenge);
    strictEqual(violations.length, 1, team);
    strictEqual(violations[0].line, 2, team);
    strictEqual(violations[0].rule, "team_info", team);
    match(violations[0].message, pattern);
  }
});

Deno.test("validateSubmission reports invalid pid and second team line", async () => {
  const challenge = await readChallengeSet(FIXTURE);
  const text = formatSubmission(TEAM, validRows(challenge)) +
    "team_info, other, other@example.org\n" + ["p1", ...fullRow(0).uris].join(", ") + "\n";
  const violations = validateSubmission(text, challenge);

  deepStrictEqual(violations.map((v) => [v.line, v.rule]), [[6, "team_info"], [7, "invalid_pid"]]);
});

Deno.test("formatSubmission rejects commas in team name", () => {
  throws(() => formatSubmission({ name: "a, b", email: "x@y.z" }, []), RangeError);
  throws(() => formatSubmission({ name: "a", email: "" }, []), /contact email/);
});

Deno.test("writeSubmission gzips by extension", async () => {
  const challenge = await readChallengeSet(FIXTURE);
  const rows = validRows(challenge);
  const expected = formatSubmission(TEAM, rows);
  const dir = await Deno.makeTempDir({ prefix: "submission_test_" });
  try {
    await writeSubmission(join(dir, "submission.csv.gz"), TEAM, rows);
    await writeSubmission(join(dir, "submission.csv"), TEAM, rows);
    const gzipped = await Deno.readFile(join(dir, "submission.csv.gz"));
    const plain = await Deno.readFile(join(dir, "submission.csv"));

    ok(isGzip(gzipped), "the .gz file starts with the gzip magic number");
    ok(!isGzip(plain), "the .csv file is plain text");
    ok(gzipped.length < plain.length / 2, `gzip shrinks ${plain.length} bytes, got ${gzipped.length}`);
    strictEqual(await readSubmission(join(dir, "submission.csv.gz")), expected);
    strictEqual(await readSubmission(join(dir, "submission.csv")), expected);
    strictEqual(decodeSubmission(gzipped), expected);
    deepStrictEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
      "submission.csv",
      "submission.csv.gz",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readSubmission detects gzip by content", async () => {
  const dir = await Deno.makeTempDir({ prefix: "submission_test_" });
  try {
    const path = join(dir, "no_extension");
    await writeSubmission(`${path}.gz`, TEAM, []);
    await Deno.rename(`${path}.gz`, path);

    strictEqual(await readSubmission(path), "team_info, test team, team@example.org\n");
    await Deno.writeFile(join(dir, "corrupt.gz"), Uint8Array.from([0x1f, 0x8b, 1, 2, 3]));
    await rejects(readSubmission(join(dir, "corrupt.gz")), /corrupt\.gz failed: it starts like gzip data/);
    await rejects(readSubmission(join(dir, "absent.csv")), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("recommendChallenge makes valid submission", async () => {
  const corpus = randomCorpus(120, 900, 3);
  const built = buildChallengeSet(corpus, Array.from({ length: 40 }, (_, i) => i), { date: "fixed" });
  const popularity = new PopularityRecommender(
    countTracks(corpus, Array.from({ length: 80 }, (_, i) => 40 + i)),
  );
  const challenge = structuredClone(built.challenge);
  challenge.playlists[3].tracks.push({ pos: 9999, track_uri: "spotify:track:NotInCorpus00000000000" });
  let progressCalls = 0;

  const made = await recommendChallenge(challenge, corpus, popularity, popularity, {
    batchSize: 16,
    onProgress: () => progressCalls++,
  });
  const text = formatSubmission(TEAM, made.rows);

  deepStrictEqual(validateSubmission(text, built.challenge), []);
  strictEqual(made.rows.length, 40);
  ok(made.rows.every((row) => row.uris.length === 500));
  deepStrictEqual(made.rows.map((row) => row.pid), built.challenge.playlists.map((p) => p.pid));
  strictEqual(made.unknownSeeds, 1);
  strictEqual(made.playlistsWithUnknownSeeds, 1);
  strictEqual(progressCalls, 3);
});

Deno.test("recommendChallenge cleans and fills short answers", async () => {
  const corpus = randomCorpus(60, 900, 4);
  const built = buildChallengeSet(corpus, Array.from({ length: 20 }, (_, i) => i), { date: "fixed" });
  const popularity = new PopularityRecommender(countTracks(corpus));
  // Returns a seed, a repeat and two new tracks, far fewer than 500.
  const scant: Recommender = {
    name: "scant",
    recommend: (queries: PlaylistQuery[]) =>
      Promise.resolve(queries.map((query) => {
        const seed = query.seeds.length > 0 ? [query.seeds[0]] : [];
        const fresh = [899, 898].filter((track) => !query.seeds.includes(track));
        const tracks = Int32Array.from([...seed, ...fresh, ...fresh]);
        return { pid: query.pid, tracks, scores: new Float32Array(tracks.length) };
      })),
  };

  const made = await recommendChallenge(built.challenge, corpus, scant, popularity);
  const text = formatSubmission(TEAM, made.rows);

  deepStrictEqual(validateSubmission(text, built.challenge), []);
  strictEqual(made.filledPlaylists, 20);
  strictEqual(made.filledTracks, 20 * 500 - 2 * 20);
  deepStrictEqual(made.rows[0].uris.slice(0, 2), [corpus.tracks.uri[899], corpus.tracks.uri[898]]);
});

Deno.test("recommendChallenge rejects too small corpus", async () => {
  const corpus = randomCorpus(20, 300, 3);
  const built = buildChallengeSet(corpus, [0, 1], { date: "fixed" });
  const popularity = new PopularityRecommender(countTracks(corpus));

  await rejects(recommendChallenge(built.challenge, corpus, popularity, popularity), RangeError);
  await rejects(
    recommendChallenge(built.challenge, corpus, popularity, popularity),
    /only \d+ valid track URIs/,
  );
});

Deno.test("validate-submission task sets exit code", async () => {
  const challenge = await readChallengeSet(FIXTURE);
  const rows = validRows(challenge);
  const dir = await Deno.makeTempDir({ prefix: "submission_test_" });
  const run = async (submission: string) => {
    const task = new URL("../tasks/validate_submission.ts", import.meta.url).pathname;
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", task, submission, FIXTURE],
      stdout: "piped",
      stderr: "piped",
    }).output();
    return { code: output.code, stdout: new TextDecoder().decode(output.stdout) };
  };
  try {
    await writeSubmission(join(dir, "valid.csv.gz"), TEAM, rows);
    await writeSubmission(join(dir, "faulty.csv"), TEAM, [
      { pid: 1000, uris: rows[0].uris.slice(1) },
      ...rows.slice(1),
    ]);
    const valid = await run(join(dir, "valid.csv.gz"));
    const faulty = await run(join(dir, "faulty.csv"));

    strictEqual(valid.code, 0, valid.stdout);
    match(valid.stdout, /^VALID: /m);
    strictEqual(faulty.code, 1, faulty.stdout);
    match(faulty.stdout, /^line 2: track_count: 499 tracks; each line needs exactly 500$/m);
    match(faulty.stdout, /^INVALID: 1 violation in .*\(1 track_count\)/m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
