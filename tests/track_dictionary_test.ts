import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { SliceColumns } from "../lib/data/slice_columns.ts";
import { TrackDictionary, type TrackRow, trackTable } from "../lib/data/track_dictionary.ts";
import { parseSlice } from "../lib/mpd/read.ts";
import { feedSlice, scanSlice } from "../lib/mpd/scan.ts";

const encoder = new TextEncoder();

/** Text values that CSV or the byte copy could get wrong, as JSON source text. */
const TRICKY_NAMES = [
  '"plain"',
  '""',
  '"say \\"hi\\", then leave"',
  '"a,b"',
  '"line\\nbreak\\r\\n"',
  '"tab\\tand \\\\ backslash"',
  '"\\u00e9t\\u00e9 \\ud83d\\udd25"',
  '"été 🔥 raw UTF-8"',
  '"lone \\ud800 surrogate"',
  '"nul \\u0000 inside"',
  '"  spaces  "',
  '"NA"',
  '"null"',
];

/** Returns a slice whose track i has track_name TRICKY_NAMES[i] and a missing album_name when i is odd. */
function trickySlice(): Uint8Array {
  const tracks = TRICKY_NAMES.map((name, i) =>
    `{"track_uri":"spotify:track:t${i}","track_name":${name},"artist_name":"Artist ${i}",` +
    `"artist_uri":"spotify:artist:a${i}","album_uri":"spotify:album:b${i}",` +
    (i % 2 === 0 ? `"album_name":"Album ${i}",` : "") +
    `"duration_ms":${1000 + i}}`
  );
  const text = `{"playlists":[{"pid":1,"name":"x","tracks":[${tracks.join(",")}]}]}`;
  // One track name with a byte that is not valid UTF-8, which both paths decode to U+FFFD.
  const bytes = encoder.encode(text.replace("raw UTF-8", "raw UTF-8 \u0001"));
  bytes[bytes.indexOf(0x01)] = 0xff;
  return bytes;
}

function rows(dictionary: TrackDictionary): TrackRow[] {
  return Array.from({ length: dictionary.size }, (_, id) => dictionary.row(id));
}

Deno.test("TrackDictionary stores scanned text as the parser reads it", () => {
  const bytes = trickySlice();
  const scanned = new TrackDictionary();
  strictEqual(scanSlice(bytes, new SliceColumns(scanned), "tricky.json") === null, false);
  const parsed = new TrackDictionary();
  feedSlice(parseSlice(new TextDecoder().decode(bytes), "tricky.json"), new SliceColumns(parsed));

  deepStrictEqual(rows(scanned), rows(parsed));
  strictEqual(scanned.row(1).text.track_name, "");
  strictEqual(scanned.row(1).text.album_name, null);
  strictEqual(scanned.row(2).text.track_name, 'say "hi", then leave');
  strictEqual(scanned.row(7).text.track_name, "été 🔥 raw UTF-8 \uFFFD");
});

Deno.test("TrackDictionary csv reads back as its rows", () => {
  const dictionary = new TrackDictionary();
  scanSlice(trickySlice(), new SliceColumns(dictionary), "tricky.json");
  const table = trackTable(dictionary.csv());

  strictEqual(table.height, TRICKY_NAMES.length);
  deepStrictEqual(table.getColumn("track_id").toArray(), Array.from(TRICKY_NAMES, (_, i) => i));
  deepStrictEqual(table.getColumn("track_uri").toArray(), rows(dictionary).map((row) => row.uri));
  deepStrictEqual(
    table.getColumn("track_name").toArray(),
    rows(dictionary).map((row) => row.text.track_name),
  );
  deepStrictEqual(
    table.getColumn("album_name").toArray(),
    rows(dictionary).map((row) => row.text.album_name),
  );
  deepStrictEqual(table.getColumn("duration_ms").toArray(), rows(dictionary).map((row) => row.durationMs));

  // The rows of some ids, in the order given.
  const picked = trackTable(dictionary.csv([5, 2]));
  deepStrictEqual(picked.getColumn("track_id").toArray(), [5, 2]);
  deepStrictEqual(picked.getColumn("track_name").toArray(), [
    dictionary.row(5).text.track_name,
    dictionary.row(2).text.track_name,
  ]);
});

Deno.test("TrackDictionary restore rebuilds rows from a table", () => {
  const original = new TrackDictionary();
  scanSlice(trickySlice(), new SliceColumns(original), "tricky.json");
  const table = trackTable(original.csv());

  const restored = new TrackDictionary();
  const text = ["track_name", "artist_uri", "artist_name", "album_uri", "album_name"] as const;
  for (const record of table.toRecords()) {
    restored.restore(record.track_id as number, {
      uri: record.track_uri as string,
      text: Object.fromEntries(text.map((field) => [field, record[field] as string | null])) as TrackRow[
        "text"
      ],
      durationMs: record.duration_ms as number | null,
    });
  }
  deepStrictEqual(rows(restored), rows(original));
  strictEqual(restored.idOf("spotify:track:t3"), 3);
  deepStrictEqual(trackTable(restored.csv()).toRecords(), table.toRecords());
});

Deno.test("TrackDictionary fills missing fields and rolls them back", () => {
  const slice = (albumName: string) =>
    encoder.encode(
      `{"playlists":[{"pid":1,"tracks":[{"track_uri":"spotify:track:a"${albumName}}]}]}`,
    );
  const dictionary = new TrackDictionary();
  scanSlice(slice(""), new SliceColumns(dictionary), "first.json");
  strictEqual(dictionary.row(0).text.album_name, null);

  dictionary.mark();
  scanSlice(slice(',"album_name":"Found \\"later\\""'), new SliceColumns(dictionary), "second.json");
  strictEqual(dictionary.row(0).text.album_name, 'Found "later"');
  deepStrictEqual(dictionary.changedSinceMark(), [0]);
  strictEqual(trackTable(dictionary.csv()).getColumn("album_name").get(0), 'Found "later"');

  dictionary.rollback();
  strictEqual(dictionary.row(0).text.album_name, null);
  strictEqual(trackTable(dictionary.csv()).getColumn("album_name").get(0), null);

  // A fill after the rollback, with text that has no quote, is written without doubling.
  scanSlice(slice(',"album_name":"Plain"'), new SliceColumns(dictionary), "third.json");
  strictEqual(trackTable(dictionary.csv()).getColumn("album_name").get(0), "Plain");
});
