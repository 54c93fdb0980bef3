import { deepStrictEqual, notStrictEqual, ok, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { SliceColumns } from "../lib/data/slice_columns.ts";
import { TrackDictionary } from "../lib/data/track_dictionary.ts";
import { generateSyntheticMpd } from "../lib/mpd/generate.ts";
import { parseSlice } from "../lib/mpd/read.ts";
import { feedSlice, scanSlice, type SliceHeader } from "../lib/mpd/scan.ts";
import { sliceSnapshot } from "./helpers/slice_snapshot.ts";

const FIXTURES = new URL("./fixtures/mpd/", import.meta.url).pathname;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Returns a slice's columns, counts and header, and the dictionary that reading it built. */
function snapshot(columns: SliceColumns, dictionary: TrackDictionary, header: SliceHeader) {
  return { header, ...sliceSnapshot(columns, dictionary) };
}

function readWithScanner(bytes: Uint8Array) {
  const dictionary = new TrackDictionary();
  const columns = new SliceColumns(dictionary);
  const header = scanSlice(bytes, columns, "inline.json");
  return header === null ? null : snapshot(columns, dictionary, header);
}

/** Reads with JSON.parse and the validator, or returns the error they throw. */
function readWithParser(bytes: Uint8Array) {
  const dictionary = new TrackDictionary();
  const columns = new SliceColumns(dictionary);
  try {
    const header = feedSlice(parseSlice(decoder.decode(bytes), "inline.json"), columns);
    return snapshot(columns, dictionary, header);
  } catch (error) {
    return error as Error;
  }
}

/**
 * Checks the scanner's contract on one input: where the parser rejects the input, the scanner falls back,
 * and where it does not fall back, it reads what the parser reads.
 */
function checkAgreement(bytes: Uint8Array, label: string): "scanned" | "fallback" {
  const parsed = readWithParser(bytes);
  const scanned = readWithScanner(bytes);
  if (parsed instanceof Error) {
    strictEqual(scanned, null, `${label}: the parser rejects it (${parsed.message}) but the scanner read it`);
    return "fallback";
  }
  if (scanned === null) return "fallback";
  deepStrictEqual(scanned, parsed, `${label}: the scanner and the parser differ`);
  return "scanned";
}

Deno.test("scanSlice matches the parser on generated slices", () => {
  const [slice] = generateSyntheticMpd({ playlists: 300, seed: 3 });
  const bytes = encoder.encode(JSON.stringify(slice));
  strictEqual(checkAgreement(bytes, "generated"), "scanned");
});

Deno.test("scanSlice reads the MPD file layout", async () => {
  // Indented, with \u escapes for non-ASCII characters, and "tracks" before other playlist fields.
  const bytes = await Deno.readFile(join(FIXTURES, "mpd_style", "mpd.slice.0-1.json"));
  strictEqual(checkAgreement(bytes, "mpd_style"), "scanned");

  const scanned = readWithScanner(bytes);
  ok(scanned !== null);
  deepStrictEqual(scanned.name, ['Café 🔥 "chill"', "road trip"]);
  deepStrictEqual(scanned.description, [null, "tabs\tand\nnew lines"]);
  deepStrictEqual(scanned.tracks.map((track) => track.text.track_name), [
    "Flügel",
    "Back\\slash/Song",
    "日本語",
  ]);
  deepStrictEqual(scanned.collaborative, [false, true]);
});

Deno.test("scanSlice matches the parser on every fixture", async () => {
  const files = [
    "cut_down/mpd.slice.0-2.json",
    "pos_order/mpd.slice.0-0.json",
    "two_slices/mpd.slice.2-3.json",
    "all_fields_missing/mpd.slice.0-1.json",
    "repeats_and_empty/mpd.slice.0-3.json",
    "null_fields.json",
    "repeated_pos.json",
    "not_a_slice.json",
    "challenge_like.json",
    "wrong_type/mpd.slice.15-17.json",
    "malformed.txt",
    "truncated.txt",
  ];
  for (const file of files) checkAgreement(await Deno.readFile(join(FIXTURES, file)), file);
});

Deno.test("scanSlice reads past a byte order mark", () => {
  const text = '\uFEFF{"playlists":[{"pid":1,"tracks":[{"track_uri":"spotify:track:A"}]}]}';
  strictEqual(checkAgreement(encoder.encode(text), "byte order mark"), "scanned");
});

Deno.test("scanSlice falls back on unusual forms", () => {
  const cases = [
    '{"playlists":[{"pid":1.0,"tracks":[]}]}',
    '{"playlists":[{"pid":1e0,"tracks":[]}]}',
    '{"playlists":[{"p\\u0069d":1,"tracks":[]}]}',
    '{"playlists":[{"pid":1,"pid":2,"tracks":[]}]}',
    '{"playlists":[],"playlists":[]}',
    `{"playlists":[],"extra":${"[".repeat(100)}${"]".repeat(100)}}`,
  ];
  for (const text of cases) {
    strictEqual(readWithScanner(encoder.encode(text)), null, text);
    ok(!(readWithParser(encoder.encode(text)) instanceof Error), `the parser reads ${text}`);
  }
});

Deno.test("scanSlice skips unknown fields", () => {
  const text = '{"info":null,"x":{"a":[1,-2.5e+3,true,false,null,"s"]},"playlists":[{"pid":4,"extra":{},' +
    '"tracks":[{"track_uri":"spotify:track:A","other":[]}]}]}';
  strictEqual(checkAgreement(encoder.encode(text), "unknown fields"), "scanned");
});

Deno.test("scanSlice agrees on every truncation", async () => {
  const bytes = await Deno.readFile(join(FIXTURES, "cut_down", "mpd.slice.0-2.json"));
  let fallbacks = 0;
  for (let end = 0; end < bytes.length; end++) {
    if (checkAgreement(bytes.subarray(0, end), `cut at ${end}`) === "fallback") fallbacks++;
  }
  // Only cuts in the trailing whitespace leave valid JSON.
  ok(fallbacks >= bytes.length - 2, `${fallbacks} of ${bytes.length} cuts fell back`);
});

Deno.test("scanSlice agrees on every damaged byte", async () => {
  // The first playlist of the MPD-style fixture, with escapes, whitespace and every field.
  const text = await Deno.readTextFile(join(FIXTURES, "mpd_style", "mpd.slice.0-1.json"));
  const slice = JSON.parse(text);
  slice.playlists = slice.playlists.slice(0, 1);
  slice.playlists[0].tracks = slice.playlists[0].tracks.slice(0, 2);
  const original = encoder.encode(JSON.stringify(slice, null, 1));
  const replacements = encoder.encode(' "\\,:}]0.n\u0001');
  let scanned = 0;
  for (let at = 0; at < original.length; at++) {
    for (const replacement of replacements) {
      if (original[at] === replacement) continue;
      const bytes = original.slice();
      bytes[at] = replacement;
      if (checkAgreement(bytes, `byte ${at} set to ${replacement}`) === "scanned") scanned++;
    }
  }
  // Damage inside string contents or whitespace leaves valid JSON. The count shows that both paths ran.
  notStrictEqual(scanned, 0);
});
