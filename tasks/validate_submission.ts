/**
 * Checks a RecSys Challenge 2018 submission against the challenge rules, and optionally scores it against
 * the ground truth of a built challenge set.
 *
 * Usage: deno task validate-submission SUBMISSION CHALLENGE [--score GROUND_TRUTH] [--profile NAME]
 * @module
 */

import { parseArgs } from "node:util";
import { resolve } from "node:path";
import {
  ARTIST_CREDIT_DEFINITION,
  formatChallengeScores,
  parseSubmission,
  readChallengeSet,
  readGroundTruth,
  readSubmission,
  scoreChallenge,
  type SubmissionRow,
  type SubmissionViolation,
  validateSubmission,
} from "../lib/challenge/mod.ts";
import { loadCorpus } from "../lib/data/load.ts";
import { studyPaths } from "../lib/pipeline/paths.ts";
import { runMain } from "../lib/cli/run_main.ts";

const HELP = `Usage: deno task validate-submission SUBMISSION CHALLENGE [options]

Checks SUBMISSION (CSV, plain or gzipped; the content decides) against the challenge set CHALLENGE
(challenge_set.json): a team_info line first, one line per challenge pid and no other pid, exactly 500
distinct valid track URIs per line, no seed track of the playlist. Prints every violation with its line
number and a summary. Exits with 0 when the submission is valid, 1 when it is not, 2 when a file cannot
be read or an option is invalid.

Options:
  --score FILE          also score the submission against FILE, the ground truth that
                        "deno task submit --build-challenge" wrote, per challenge category and overall
                        (R-precision, NDCG, clicks, recall@500)
  --profile NAME        with --score, read track artists from data/<profile>/ingested to add
                        R-precision with artist credit. Default: none, and that column shows "-".
  --root DIR            folder that holds data/<profile>/. Default: this repository.
  --max-violations N    print at most N violations; 0 prints all. Default: 200.
  -h, --help            show this help
`;

function formatViolation(violation: SubmissionViolation): string {
  const where = violation.line === null ? "no line" : `line ${violation.line}`;
  return `${where}: ${violation.rule}: ${violation.message}`;
}

function summarize(violations: SubmissionViolation[]): string {
  const counts = new Map<string, number>();
  for (const violation of violations) counts.set(violation.rule, (counts.get(violation.rule) ?? 0) + 1);
  return [...counts].map(([rule, count]) => `${count} ${rule}`).join(", ");
}

async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      score: { type: "string" },
      profile: { type: "string" },
      root: { type: "string" },
      "max-violations": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length !== 2) {
    console.error(`Expected SUBMISSION and CHALLENGE, got ${positionals.length} arguments.\n\n${HELP}`);
    return 2;
  }
  const maxViolations = Number(values["max-violations"] ?? "200");
  if (!Number.isInteger(maxViolations) || maxViolations < 0) {
    console.error(`Invalid --max-violations "${values["max-violations"]}": use a non-negative integer.`);
    return 2;
  }
  if (values.profile !== undefined && values.score === undefined) {
    console.error("--profile only adds artist credit to --score; pass --score GROUND_TRUTH as well.");
    return 2;
  }

  const [submissionPath, challengePath] = positionals.map((path) => resolve(path));
  const challenge = await readChallengeSet(challengePath);
  const text = await readSubmission(submissionPath);
  const violations = validateSubmission(text, challenge);

  const shown = maxViolations === 0 ? violations : violations.slice(0, maxViolations);
  for (const violation of shown) console.log(formatViolation(violation));
  if (shown.length < violations.length) {
    console.log(`... ${violations.length - shown.length} more; --max-violations 0 prints all`);
  }

  const parsed = parseSubmission(text);
  if (violations.length === 0) {
    console.log(
      `VALID: ${submissionPath} answers all ${challenge.playlists.length} playlists of ${challengePath} ` +
        `(team "${parsed.team?.name}").`,
    );
  } else {
    console.log(
      `INVALID: ${violations.length} violation${violations.length === 1 ? "" : "s"} in ${submissionPath} ` +
        `(${
          summarize(violations)
        }). The challenge's scoring system rejects a submission that breaks any rule.`,
    );
  }

  if (values.score !== undefined) {
    const truth = await readGroundTruth(resolve(values.score));
    if (truth.challenge_date !== challenge.date) {
      console.log(
        `WARNING: the ground truth belongs to the challenge set dated ${truth.challenge_date}, but ` +
          `${challengePath} is dated ${challenge.date}.`,
      );
    }

    let artistOf: ((uri: string) => string) | undefined;
    if (values.profile !== undefined) {
      const root = resolve(values.root ?? new URL("..", import.meta.url).pathname);
      const corpus = loadCorpus(studyPaths(root, values.profile).ingestedDir);
      const artists = new Map(corpus.tracks.uri.map((uri, id) => [uri, corpus.tracks.artistUri[id]]));
      artistOf = (uri) => artists.get(uri) ?? "";
    }

    const rows: SubmissionRow[] = [];
    for (const row of parsed.rows) if (row.pid !== null) rows.push({ pid: row.pid, uris: row.uris });
    const scores = scoreChallenge(rows, truth, { artistOf });
    console.log("");
    console.log(
      `Scores against ${resolve(values.score)}${truth.synthetic ? " (SYNTHETIC playlists)" : ""}` +
        `${violations.length > 0 ? ", computed although the submission is invalid" : ""}:`,
    );
    console.log(formatChallengeScores(scores));
    if (artistOf) console.log(ARTIST_CREDIT_DEFINITION);
  }
  return violations.length === 0 ? 0 : 1;
}

if (import.meta.main) await runMain(main, 2);
