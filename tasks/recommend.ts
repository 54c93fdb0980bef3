/**
 * Continues one playlist with a profile's trained Track2Seq model:
 * `deno task recommend --title TEXT --seed URI ... [--profile NAME] [--count N] [--json]`.
 * @module
 */

import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { log } from "../lib/cli/progress.ts";
import { MAX_RECOMMENDATIONS } from "../lib/eval/metrics.ts";
import { chooseBackend, describeSelection } from "../lib/model/auto_backend.ts";
import { type BackendChoice, type BackendName, parseBackendChoice } from "../lib/model/backend.ts";
import { readPlaylistFile } from "../lib/mpd/read.ts";
import {
  type PlaylistRecommendation,
  type PlaylistRequest,
  recommendPlaylist,
} from "../lib/pipeline/recommend_playlist.ts";
import { fitProfileCwva, loadTrack2Seq, loadTrainedProfile } from "../lib/pipeline/trained_profile.ts";
import { runMain } from "../lib/cli/run_main.ts";

const HELP = `Usage:
  deno task recommend --title TEXT [--seed URI ...] [options]
  deno task recommend --seed URI [--seed URI ...] [options]
  deno task recommend --playlist FILE [options]

Continues a playlist with the Track2Seq model that "deno task reproduce --profile NAME" trained, and prints
the recommended tracks, best first, with rank, track name, artist name and URI. Seed tracks that the
profile's corpus does not contain, or that the model's vocabulary left out, are reported and skipped.

Which method recommends, as printed on stderr and in the "method" field of --json:
  track2seq        Track2Seq continues the usable seed tracks.
  track2seq_cwva   no usable seed, but a title: CWVA guesses 100 seed tracks from the training
                   playlists with the most similar titles, and its ranking is merged with
                   Track2Seq's continuation of them, as the study's track2seq_cwva method. Titles
                   are compared by word vectors, or by edit distance when no word of the title
                   (nor a variant spelling) occurs in a training title; edit distance only finds
                   similar spellings. Stderr and "title_match" in --json say which. CWVA's title
                   word vectors are learned from the training playlists on each such call: about
                   15 s for the default profile's 19,200 on 2 cores, and more on a full MPD.
  popularity       no usable seed, and a title that is empty or keeps no word once punctuation and
                   the stop words "playlist" and "music" are removed: the most popular training
                   tracks.

Options:
  --title TEXT       the playlist's title
  --seed URI         a seed track URI (spotify:track:...); repeat for more, in playlist order
  --playlist FILE    a JSON file with one playlist in the MPD shape: {"name": ..., "tracks":
                     [{"track_uri": ...}, ...]}; its name is the title and its tracks the seeds.
                     Not together with --title or --seed.
  --profile NAME     profile whose artifacts to use (data/<profile>/). Default: default.
  --count N          number of tracks to print, 1 to ${MAX_RECOMMENDATIONS}. Default: ${MAX_RECOMMENDATIONS}.
  --json             print one JSON object instead of a table
  --backend NAME     TensorFlow.js backend: wasm (default), cpu, tensorflow, webgpu, or auto (the
                     fastest that passes its self-test and a timed probe of about 10 s, printed
                     with the reasons).
  --root DIR         folder that contains data/<profile>/. Default: this repository.
  -h, --help         show this help
`;

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      title: { type: "string" },
      seed: { type: "string", multiple: true },
      playlist: { type: "string" },
      profile: { type: "string", default: "default" },
      count: { type: "string" },
      json: { type: "boolean", default: false },
      backend: { type: "string", default: "wasm" },
      root: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }

  const count = values.count === undefined ? MAX_RECOMMENDATIONS : Number(values.count);
  if (!Number.isInteger(count) || count < 1 || count > MAX_RECOMMENDATIONS) {
    console.error(`Invalid --count "${values.count}": use a whole number from 1 to ${MAX_RECOMMENDATIONS}.`);
    return 2;
  }
  let backendChoice: BackendChoice;
  try {
    backendChoice = parseBackendChoice(values.backend);
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  const request = await readRequest(values);
  if (typeof request === "string") {
    console.error(`${request}\n\n${HELP}`);
    return 2;
  }

  const repository = resolve(new URL("..", import.meta.url).pathname);
  const root = resolve(values.root ?? repository);
  const started = performance.now();
  const profile = await loadTrainedProfile(root, values.profile);
  log(
    `profile ${profile.config.name}: ${profile.corpus.playlists.length} playlists, ` +
      `${profile.corpus.tracks.uri.length} tracks, vocabulary ${profile.split.vocabulary.size}` +
      `${profile.corpus.synthetic ? " (synthetic data)" : ""}, loaded in ${seconds(started)}`,
  );

  const loadModel = async () => {
    let backend: BackendName;
    if (backendChoice === "auto") {
      const selection = await chooseBackend({
        projectRoot: repository,
        workload: { vocabSize: profile.split.vocabulary.size },
      });
      for (const line of describeSelection(selection)) log(line);
      backend = selection.backend;
    } else {
      backend = backendChoice;
    }
    const model = await loadTrack2Seq(profile, { backend, repository });
    log(`model: ${profile.paths.modelDir}, backend ${model.backend}`);
    return model;
  };
  const fitCwva = () => {
    const fitStarted = performance.now();
    log(`cwva: learning title word vectors from ${profile.split.sets.training.length} training playlists`);
    const cwva = fitProfileCwva(profile, (progress) => {
      log(
        `cwva: skip-gram epoch ${progress.epoch} of ${progress.epochs} after ${
          progress.seconds.toFixed(1)
        } s`,
      );
    });
    log(`cwva: ${cwva.vectors.size} title words, learned in ${seconds(fitStarted)}`);
    return cwva;
  };
  const result = await recommendPlaylist(profile, request, count, { loadTrack2Seq: loadModel, fitCwva });
  reportSeeds(result, request.title);
  log(`recommended ${result.tracks.length} tracks in ${seconds(started)}`);

  if (values.json) {
    console.log(JSON.stringify(
      {
        profile: profile.config.name,
        synthetic: profile.corpus.synthetic,
        title: request.title,
        seeds: {
          used: result.seeds.used,
          unknown: result.seeds.unknown,
          out_of_vocabulary: result.seeds.outOfVocabulary,
        },
        method: result.method,
        title_seeds: result.titleSeeds,
        title_match: result.titleMatch ?? null,
        popularity_fallback: result.popularityFallback,
        tracks: result.tracks.map((track) => ({
          rank: track.rank,
          track_uri: track.uri,
          track_name: track.name,
          artist_name: track.artistName,
          score: track.score,
        })),
      },
      null,
      2,
    ));
  } else {
    printTable(result, profile.corpus.synthetic);
  }
  return 0;
}

/** Builds the request from the options, or returns what is wrong with them. */
async function readRequest(
  values: { title?: string; seed?: string[]; playlist?: string },
): Promise<PlaylistRequest | string> {
  if (values.playlist !== undefined) {
    if (values.title !== undefined || values.seed !== undefined) {
      return "Use --playlist alone, or --title and --seed, not both: the file holds the title and the seeds.";
    }
    const playlist = await readPlaylistFile(values.playlist);
    return { title: playlist.name ?? "", seedUris: playlist.tracks.map((track) => track.track_uri) };
  }
  if (values.title === undefined && values.seed === undefined) {
    return "Missing input: give --title, --seed or --playlist.";
  }
  return { title: values.title ?? "", seedUris: values.seed ?? [] };
}

function reportSeeds(result: PlaylistRecommendation, title: string): void {
  const { used, unknown, outOfVocabulary } = result.seeds;
  const total = used.length + unknown.length + outOfVocabulary.length;
  if (total > 0) log(`seeds: ${used.length} of ${total} used`);
  if (unknown.length > 0) {
    log(`seeds: skipped ${unknown.length} not in the profile's corpus: ${unknown.join(", ")}`);
  }
  if (outOfVocabulary.length > 0) {
    log(
      `seeds: skipped ${outOfVocabulary.length} outside the model's vocabulary (too rare in the training ` +
        `playlists): ${outOfVocabulary.join(", ")}`,
    );
  }
  if (result.method === "track2seq_cwva" && result.titleMatch === "edit-distance") {
    log(
      `no usable seed track, and no word of the title "${title}" occurs in a training title: CWVA ` +
        "matched the training titles by edit distance, which only finds similar spellings, guessed " +
        `${result.titleSeeds.length} seed tracks from the closest ones, and Track2Seq continued them ` +
        "(method track2seq_cwva)",
    );
  } else if (result.method === "track2seq_cwva") {
    log(
      `no usable seed track: CWVA guessed ${result.titleSeeds.length} seed tracks from the title ` +
        `"${title}", and Track2Seq continued them (method track2seq_cwva)`,
    );
  } else if (result.method === "popularity") {
    const reason = title.trim() === ""
      ? "and no title"
      : `and the title "${title}" keeps no word once punctuation and the stop words "playlist" and ` +
        '"music" are removed';
    log(
      `no usable seed track ${reason}: falling back to the most popular training tracks (method popularity)`,
    );
  } else {
    log("method track2seq: Track2Seq continued the seed tracks");
  }
}

function printTable(result: PlaylistRecommendation, synthetic: boolean): void {
  const fit = (text: string, width: number) =>
    text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width);
  const lines = [`${"rank".padStart(4)}  ${fit("track", 36)}  ${fit("artist", 28)}  uri`];
  for (const track of result.tracks) {
    lines.push(
      `${String(track.rank).padStart(4)}  ${fit(track.name, 36)}  ${fit(track.artistName, 28)}  ${track.uri}`,
    );
  }
  if (synthetic) lines.push("(synthetic data: these tracks were made by the project's generator)");
  console.log(lines.join("\n"));
}

function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}

if (import.meta.main) await runMain(main);
