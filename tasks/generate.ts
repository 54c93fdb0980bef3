/**
 * Writes synthetic MPD slice files: `deno task generate --out DIR [--playlists N] [--seed S]`.
 * @module
 */

import { parseArgs } from "node:util";
import { writeSyntheticMpd } from "../lib/mpd/generate.ts";
import { runMain } from "../lib/cli/run_main.ts";

const HELP = `Usage: deno task generate --out DIR [--playlists N] [--seed S]

Writes synthetic playlists in the Spotify Million Playlist Dataset format, as mpd.slice.<start>-<end>.json
files of 1,000 playlists each. The files are marked as synthetic and contain no Spotify data. The same seed
and number of playlists give byte-identical files.

Options:
  --out DIR        output folder, created if needed (required)
  --playlists N    number of playlists (default 20000)
  --seed S         seed of the random generator, an integer from 0 to 2^32 - 1 (default 2018)
  -h, --help       show this help
`;

function parseInteger(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value)) {
    throw new TypeError(`Invalid --${option}: expected an integer, got "${value}"`);
  }
  return Number(value);
}

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      out: { type: "string" },
      playlists: { type: "string" },
      seed: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (values.out === undefined) {
    console.error(`Missing --out DIR.\n\n${HELP}`);
    return 2;
  }
  const playlists = parseInteger(values.playlists, "playlists");
  const seed = parseInteger(values.seed, "seed");

  const started = performance.now();
  let done = 0;
  const written = await writeSyntheticMpd(values.out, { playlists, seed }, (slice) => {
    done += slice.playlists;
    console.error(`wrote ${slice.path}: ${slice.playlists} playlists (${done} so far)`);
  });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.error(
    `Generated ${done} synthetic playlists in ${written.length} files in ${values.out} (${seconds} s).`,
  );
  return 0;
}

if (import.meta.main) await runMain(main);
