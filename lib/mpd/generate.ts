/**
 * A seeded generator of synthetic playlists in the format of the Spotify Million Playlist Dataset (MPD).
 *
 * The MPD may not be redistributed, so tests, CI and first runs use this data instead. Every file it writes
 * says that it is synthetic (`info.synthetic`, `info.description`, `info.version`).
 *
 * The data carries the structure a playlist recommender learns from:
 * - 40 tastes (genres) sit on a ring, so that neighbours are related. Artists belong to one taste, own
 *   albums, and albums own tracks. A few core artists per taste draw most of its plays.
 * - Each playlist has a start taste, an end taste (the same one or a ring neighbour) and a guest taste
 *   drawn at random. The chance of drawing from the end taste grows along the playlist, so track order
 *   carries signal beyond co-occurrence. The guest taste adds the mix of genres that real playlists have.
 * - Each playlist favours a few artists of its tastes, stays with an artist for a few tracks and now and
 *   then continues an album in album order, as real playlists do.
 * - The title comes from the start taste's words plus generic words, with case, emoji and spelling variants.
 * - Popularity is Zipf-like at every level: chart hits appear in every taste, and deep cuts of minor
 *   artists make the long tail of tracks that occur once.
 *
 * Calibration targets, measured on real MPD playlists: consecutive tracks share the artist 22.6% of the time
 * and the album about 7%; the most frequent artist of a playlist has a median 9% of its tracks; 38% of
 * playlists repeat a track; lengths run from 5 to 250 with median 49 and mean 66. On a 7,071-playlist subset,
 * popularity scores an R-precision of 0.025 with the first k tracks as seeds, and item co-occurrence 0.098.
 * @module
 */

import { join } from "node:path";
import type { MpdSlice } from "./schema.ts";

/** Options of {@linkcode generateSyntheticMpd} and {@linkcode writeSyntheticMpd}. */
export interface SyntheticMpdOptions {
  /** Number of playlists, with pids 0 to `playlists - 1`. Default 20,000. */
  playlists?: number;
  /** Seed of the random generator, from 0 to 2^32 - 1; the same seed gives the same data. Default 2018. */
  seed?: number;
  /** Number of artists in the catalogue. Default: the number of playlists, at least 400. */
  artists?: number;
  /**
   * Number of core artists per taste, which draw most plays. Default: 0.07 times the square root of the
   * number of playlists, at least 8 (10 for 20,000 playlists).
   */
  coreArtistsPerTaste?: number;
}

/** The value of `info.version` in every generated slice. */
export const SYNTHETIC_MPD_VERSION = "synthetic-1";

/** Playlists per slice file, as in the real MPD. */
export const PLAYLISTS_PER_SLICE = 1000;

/**
 * The value of `info.generated_on`. It is fixed, not the current time, so that the same seed gives
 * byte-identical files.
 */
const GENERATED_ON = "2018-01-01 00:00:00.000000";

const DEFAULTS = { playlists: 20_000, seed: 2018 };

// The constants below were tuned by measuring the output of the default 20,000 playlists (seed 2018) against
// the calibration targets of the module documentation, and against 5,000 to 15,000 tracks that occur more
// than 5 times (the study's vocabulary). Measured: 1.21M track occurrences and 40,583 unique tracks, of
// which 9,425 occur more than 5 times and 57% once. Consecutive tracks share the artist 21.2% and the album
// 6.5% of the time, the most frequent artist of a playlist has a median 11.4% of its tracks, and 38.4% of
// playlists repeat a track. Lengths have median 48 and mean 60.6. With the first 5 (25) tracks of 100
// held-out playlists as seeds, popularity scored an R-precision of 0.066 (0.041) and item co-occurrence
// 0.27 (0.22). A corpus this small leaves more tracks occurring once than the 47% of the full MPD.

// Probabilities of the ways to pick the next track of a playlist. The rest of the draws take a core artist
// of the playlist's current taste.
const ALBUM_CONTINUE_PROBABILITY = 0.005;
const ARTIST_CONTINUE_PROBABILITY = 0.19;
const CHART_HIT_PROBABILITY = 0.01;
const DEEP_CUT_PROBABILITY = 0.1;
const FAVOURITE_ARTIST_PROBABILITY = 0.3;
// Of a fresh draw: the chance that it comes from the playlist's guest taste.
const GUEST_TASTE_PROBABILITY = 0.25;
// Of a core artist draw: the chance that the artist comes from a ring neighbour of the taste.
const NEIGHBOUR_TASTE_PROBABILITY = 0.25;

const REPEATING_PLAYLIST_PROBABILITY = 0.38;
const DESCRIPTION_PROBABILITY = 0.03;
const COLLABORATIVE_PROBABILITY = 0.023;

// Zipf exponents: of core artists within a taste, of tracks within an artist, of all artists of a taste
// for deep cuts, of tastes.
const ARTIST_ZIPF_EXPONENT = 0.3;
const TRACK_ZIPF_EXPONENT = 0.8;
const DEEP_CUT_ZIPF_EXPONENT = 1.3;
const TASTE_ZIPF_EXPONENT = 0.3;

const MIN_LENGTH = 5;
const MAX_LENGTH = 250;
// Log-normal lengths: median 48 before truncation to [5, 250].
const LENGTH_LOG_MEAN = Math.log(48);
const LENGTH_LOG_SD = 0.78;

const FIRST_DAY = Date.UTC(2010, 0, 1) / 86_400_000;
const LAST_DAY = Date.UTC(2017, 9, 31) / 86_400_000;

/** One taste: the words its titles are made from, and an emoji for titles. */
interface Taste {
  words: string[];
  emoji: string;
}

// Neighbours on this ring are related genres, and the last taste neighbours the first.
const TASTES: Taste[] = [
  { words: ["country", "cowboy", "whiskey", "truck", "southern", "boots", "backroads"], emoji: "🤠" },
  { words: ["folk", "banjo", "campfire", "cabin", "mountain", "americana"], emoji: "🌲" },
  { words: ["acoustic", "coffee", "coffeehouse", "unplugged", "mellow", "sunday"], emoji: "☕" },
  { words: ["indie", "indie pop", "hipster", "bedroom", "discover"], emoji: "🌙" },
  { words: ["alternative", "alt", "alt rock", "indie rock", "garage"], emoji: "🎧" },
  { words: ["rock", "classic rock", "guitar", "rock n roll", "rockin"], emoji: "🎸" },
  { words: ["punk", "pop punk", "skate", "warped tour", "angst"], emoji: "🛹" },
  { words: ["emo", "feels", "scene", "middle school", "mood"], emoji: "🖤" },
  { words: ["metal", "heavy", "metalcore", "headbang", "screamo"], emoji: "🤘" },
  { words: ["grunge", "90s rock", "seattle", "flannel"], emoji: "🌧️" },
  { words: ["80s", "eighties", "hair metal", "synth", "retro"], emoji: "📼" },
  { words: ["oldies", "60s", "70s", "classics", "golden oldies"], emoji: "📻" },
  { words: ["soul", "motown", "old school", "smooth"], emoji: "🎙️" },
  { words: ["funk", "disco", "groove", "boogie"], emoji: "🪩" },
  { words: ["jazz", "lounge", "swing", "bebop", "dinner"], emoji: "🎷" },
  { words: ["blues", "delta", "bluesy", "slide"], emoji: "🎺" },
  { words: ["classical", "piano", "orchestra", "study", "focus"], emoji: "🎹" },
  { words: ["sleep", "ambient", "calm", "relax", "meditation"], emoji: "😴" },
  { words: ["chill", "chillin", "lofi", "chill vibes", "lazy"], emoji: "😌" },
  { words: ["r&b", "rnb", "slow jams", "bedroom jams", "late night"], emoji: "🌃" },
  { words: ["hip hop", "hiphop", "old school hip hop", "boom bap"], emoji: "🎤" },
  { words: ["rap", "trap", "bars", "rap caviar", "hype"], emoji: "🔥" },
  { words: ["workout", "gym", "lift", "running", "cardio"], emoji: "💪" },
  { words: ["edm", "rave", "festival", "bass", "drop"], emoji: "⚡" },
  { words: ["house", "deep house", "tropical house", "sunset"], emoji: "🏝️" },
  { words: ["techno", "electronic", "electro", "underground"], emoji: "🎛️" },
  { words: ["party", "pregame", "lit", "turn up", "turnt"], emoji: "🎉" },
  { words: ["pop", "top hits", "top 40", "radio", "hits"], emoji: "🎶" },
  { words: ["summer", "beach", "sun", "pool", "summertime"], emoji: "☀️" },
  { words: ["latin", "reggaeton", "spanish", "salsa", "fiesta"], emoji: "💃" },
  { words: ["reggae", "island", "dub", "irie"], emoji: "🌴" },
  { words: ["throwback", "throwbacks", "2000s", "tbt", "nostalgia"], emoji: "⏪" },
  { words: ["90s", "nineties", "boy bands", "90s kid"], emoji: "💿" },
  { words: ["disney", "broadway", "musicals", "soundtrack", "movies"], emoji: "🏰" },
  { words: ["worship", "christian", "jesus", "praise", "gospel"], emoji: "🙏" },
  { words: ["christmas", "xmas", "holiday", "winter", "december"], emoji: "🎄" },
  { words: ["love", "romance", "wedding", "love songs", "crush"], emoji: "❤️" },
  { words: ["sad", "heartbreak", "sad songs", "crying", "tears"], emoji: "💔" },
  { words: ["road trip", "roadtrip", "drive", "driving", "car"], emoji: "🚗" },
  { words: ["kpop", "k-pop", "bts", "korean"], emoji: "🇰🇷" },
];

const GENERIC_WORDS = "music playlist songs jams mix vibes 2017 2016 tunes favorites".split(" ");
const GENERIC_TITLES = "my playlist|good songs|music|playlist|new|favorites|songs|jams|stuff".split("|");
const DESCRIPTION_OPENINGS = ["songs for", "the best of", "all the", "just some", "my favorite"];

const FIRST_NAMES = [
  ..."Ava Ben Cole Dana Eli Faye Gus Hana Ivy Jade Kai Lena Milo".split(" "),
  ..."Nora Otis Pia Quinn Rosa Sam Tess Uma Vic Wade Xena Yara Zeke".split(" "),
];
const LAST_NAMES = [
  ..."Adler Brooks Carver Dalton Ellis Foster Grant Hayes Irwin Jensen Keller".split(" "),
  ..."Lowe Mercer Nash Owens Porter Reyes Shaw Tate Vance Walsh York".split(" "),
];
const ADJECTIVES = [
  ..."Blue Golden Silent Electric Wild Broken Lucky Midnight Velvet Neon Paper".split(" "),
  ..."Crystal Hollow Burning Lonely Sweet Frozen Hidden Restless Young Quiet Bright".split(" "),
];
const NOUNS = [
  ..."River Heart Fire Road Dream Light Ocean Night Star Rain Shadow Wolf".split(" "),
  ..."Crown Garden Echo Mirror Highway Summer Thunder Whisper Satellite Harbor Diamond Ghost".split(" "),
];
const UTF8 = new TextEncoder();
const COMMA = 0x2c;
const CLOSE_BRACE = 0x7d;
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** A growable buffer of UTF-8 JSON. */
class JsonWriter {
  #buffer = new Uint8Array(1 << 24);
  #length = 0;

  #reserve(extra: number): void {
    if (this.#length + extra <= this.#buffer.length) return;
    const grown = new Uint8Array(Math.max(2 * this.#buffer.length, this.#length + extra));
    grown.set(this.#buffer.subarray(0, this.#length));
    this.#buffer = grown;
  }

  byte(value: number): void {
    this.#reserve(1);
    this.#buffer[this.#length++] = value;
  }

  bytes(values: Uint8Array): void {
    this.#reserve(values.length);
    this.#buffer.set(values, this.#length);
    this.#length += values.length;
  }

  text(value: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    this.#reserve(3 * value.length);
    this.#length += UTF8.encodeInto(value, this.#buffer.subarray(this.#length)).written;
  }

  /** Returns a copy of the bytes written so far, and empties the buffer. */
  take(): Uint8Array {
    const result = this.#buffer.slice(0, this.#length);
    this.#length = 0;
    return result;
  }
}

/** The sfc32 generator: 128 bits of state, uniform floats in [0, 1). */
class Random {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(a: number, b: number, c: number, d: number) {
    this.#a = a | 0;
    this.#b = b | 0;
    this.#c = c | 0;
    this.#d = d | 0;
    for (let i = 0; i < 15; i++) this.next();
  }

  next(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  /** Draws an integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(items: ArrayLike<T>): T {
    return items[this.int(items.length)];
  }

  /** Draws a standard normal value (Box-Muller). */
  normal(): number {
    return Math.sqrt(-2 * Math.log(1 - this.next())) * Math.cos(2 * Math.PI * this.next());
  }
}

/** Creates the generator of one catalogue entity, so that its metadata does not depend on draw order. */
function entityRandom(seed: number, kind: number, index: number): Random {
  return new Random(seed, kind, index, 0x9e3779b9);
}

/** Returns the cumulative distribution of Zipf weights `1 / (rank + 1)^exponent` over `n` ranks. */
function zipfCdf(n: number, exponent: number): Float64Array {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let rank = 0; rank < n; rank++) {
    total += 1 / Math.pow(rank + 1, exponent);
    cdf[rank] = total;
  }
  for (let rank = 0; rank < n; rank++) cdf[rank] /= total;
  return cdf;
}

/** Draws an index from a cumulative distribution by binary search. */
function sampleCdf(cdf: Float64Array, random: Random): number {
  const u = random.next();
  let low = 0;
  let high = cdf.length - 1;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (cdf[middle] > u) high = middle;
    else low = middle + 1;
  }
  return low;
}

/** Shuffles in place (Fisher-Yates). */
function shuffle(values: Int32Array, random: Random): void {
  for (let i = values.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    const swap = values[i];
    values[i] = values[j];
    values[j] = swap;
  }
}

function base62Id(random: Random): string {
  let id = "";
  for (let i = 0; i < 22; i++) id += BASE62[random.int(62)];
  return id;
}

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

function makeArtistName(random: Random): string {
  const u = random.next();
  if (u < 0.35) return `${random.pick(FIRST_NAMES)} ${random.pick(LAST_NAMES)}`;
  if (u < 0.6) return `The ${random.pick(ADJECTIVES)} ${random.pick(NOUNS)}s`;
  if (u < 0.8) return `${random.pick(ADJECTIVES)} ${random.pick(NOUNS)}`;
  if (u < 0.9) return `${random.pick(FIRST_NAMES)} & The ${random.pick(NOUNS)}s`;
  return `${random.pick(["DJ", "Lil", "MC", "Young"])} ${random.pick(NOUNS)}`;
}

/** Makes an album name; one album in ten is self-titled. */
function makeAlbumName(artistName: string, random: Random): string {
  const u = random.next();
  if (u < 0.1) return artistName;
  if (u < 0.5) return `${random.pick(ADJECTIVES)} ${random.pick(NOUNS)}`;
  if (u < 0.8) return `${random.pick(NOUNS)} of ${random.pick(NOUNS)}`;
  return random.pick(NOUNS);
}

function makeTrackName(random: Random): string {
  const u = random.next();
  if (u < 0.4) return `${random.pick(ADJECTIVES)} ${random.pick(NOUNS)}`;
  if (u < 0.7) return random.pick(NOUNS);
  if (u < 0.85) return `${random.pick(NOUNS)} in the ${random.pick(NOUNS)}`;
  return `${random.pick(ADJECTIVES)} ${random.pick(NOUNS)} (feat. ${random.pick(FIRST_NAMES)})`;
}

/**
 * The artists, albums and tracks, as index arrays. Artists own contiguous album ids, albums own contiguous
 * track ids in album order. Names and URIs are made on first use, from the entity's own generator.
 */
class Catalogue {
  readonly tasteCdf: Float64Array;
  /** Artist ids of each taste, most popular first. */
  readonly tasteArtists: Int32Array[];
  /** Distribution over the core artists of each taste, which most draws use. */
  readonly tasteArtistCdf: Float64Array[];
  /** Distribution over all artists of each taste, for deep cuts. */
  readonly tasteDeepCdf: Float64Array[];
  readonly artistAlbumStart: Int32Array;
  readonly albumTrackStart: Int32Array;
  readonly albumArtist: Int32Array;
  readonly trackAlbum: Int32Array;
  /** Track ids of each artist in popularity order, at the artist's track range. */
  readonly artistTracksByRank: Int32Array;
  /** Chart hits: tracks drawn in any taste, with their cumulative distribution. */
  readonly hits: Int32Array;
  readonly hitCdf: Float64Array;

  readonly #seed: number;
  readonly #zipfBySize = new Map<number, Float64Array>();
  readonly #artistUri: string[] = [];
  readonly #artistName: string[] = [];
  readonly #albumUri: string[] = [];
  readonly #albumName: string[] = [];
  readonly #trackJson: Uint8Array[] = [];
  readonly #trackDuration: number[] = [];
  readonly #uris = new Set<string>();

  constructor(artistCount: number, coreArtists: number, seed: number, random: Random) {
    this.#seed = seed;
    const tasteCount = TASTES.length;

    // Taste popularity: Zipf weights in a shuffled order, so that popular tastes are spread over the ring.
    const tasteOrder = Int32Array.from({ length: tasteCount }, (_, i) => i);
    shuffle(tasteOrder, random);
    const tasteWeights = new Float64Array(tasteCount);
    for (let rank = 0; rank < tasteCount; rank++) {
      tasteWeights[tasteOrder[rank]] = 1 / Math.pow(rank + 1, TASTE_ZIPF_EXPONENT);
    }
    this.tasteCdf = new Float64Array(tasteCount);
    let total = 0;
    for (let t = 0; t < tasteCount; t++) this.tasteCdf[t] = total += tasteWeights[t];
    for (let t = 0; t < tasteCount; t++) this.tasteCdf[t] /= total;

    // Artists are dealt to tastes in a shuffled order; the deal order is the popularity rank.
    const artistOrder = Int32Array.from({ length: artistCount }, (_, i) => i);
    shuffle(artistOrder, random);
    const artistRank = new Int32Array(artistCount);
    const members: number[][] = TASTES.map(() => []);
    for (let i = 0; i < artistCount; i++) {
      const taste = i % tasteCount;
      artistRank[artistOrder[i]] = Math.floor(i / tasteCount);
      members[taste].push(artistOrder[i]);
    }
    this.tasteArtists = members.map((ids) => Int32Array.from(ids));
    this.tasteDeepCdf = members.map((ids) => zipfCdf(ids.length, DEEP_CUT_ZIPF_EXPONENT));
    this.tasteArtistCdf = members.map((ids) =>
      zipfCdf(Math.min(ids.length, coreArtists), ARTIST_ZIPF_EXPONENT)
    );

    // Albums per artist: 1 plus a geometric number. Tracks per album: 1 to 3 (singles) for 30% of
    // albums, 4 to 6 (EPs) for 30%, else 6 to 16.
    const albumCounts = new Int32Array(artistCount);
    let albumCount = 0;
    for (let artist = 0; artist < artistCount; artist++) {
      // Popular artists have more albums: a mean of 3.3 for the 30 most popular of each taste, else 2.2.
      const more = artistRank[artist] < 30 ? 0.7 : 0.55;
      let albums = 1;
      while (albums < 20 && random.next() < more) albums++;
      albumCounts[artist] = albums;
      albumCount += albums;
    }
    this.artistAlbumStart = new Int32Array(artistCount + 1);
    this.albumArtist = new Int32Array(albumCount);
    this.albumTrackStart = new Int32Array(albumCount + 1);
    let album = 0;
    let track = 0;
    for (let artist = 0; artist < artistCount; artist++) {
      this.artistAlbumStart[artist] = album;
      for (let k = 0; k < albumCounts[artist]; k++) {
        this.albumArtist[album] = artist;
        this.albumTrackStart[album] = track;
        const u = random.next();
        if (u < 0.3) track += 1 + random.int(3);
        else if (u < 0.6) track += 4 + random.int(3);
        else track += 6 + random.int(11);
        album++;
      }
    }
    this.artistAlbumStart[artistCount] = album;
    this.albumTrackStart[albumCount] = track;
    this.trackAlbum = new Int32Array(track);
    for (let a = 0; a < albumCount; a++) {
      this.trackAlbum.fill(a, this.albumTrackStart[a], this.albumTrackStart[a + 1]);
    }

    // An artist's hits are a random subset of its tracks, so that popular tracks spread over its albums.
    this.artistTracksByRank = Int32Array.from({ length: track }, (_, i) => i);
    for (let artist = 0; artist < artistCount; artist++) {
      shuffle(
        this.artistTracksByRank.subarray(this.artistTrackStart(artist), this.artistTrackEnd(artist)),
        random,
      );
    }

    // Chart hits: the top track of each core artist, weighted by taste popularity and artist rank.
    const hits: number[] = [];
    const hitWeights: number[] = [];
    for (let taste = 0; taste < tasteCount; taste++) {
      const artists = this.tasteArtists[taste];
      for (let rank = 0; rank < Math.min(coreArtists, artists.length); rank++) {
        hits.push(this.artistTracksByRank[this.artistTrackStart(artists[rank])]);
        hitWeights.push(tasteWeights[taste] / (rank + 1));
      }
    }
    this.hits = Int32Array.from(hits);
    this.hitCdf = new Float64Array(hits.length);
    let hitTotal = 0;
    for (let i = 0; i < hits.length; i++) this.hitCdf[i] = hitTotal += hitWeights[i];
    for (let i = 0; i < hits.length; i++) this.hitCdf[i] /= hitTotal;
  }

  artistTrackStart(artist: number): number {
    return this.albumTrackStart[this.artistAlbumStart[artist]];
  }

  artistTrackEnd(artist: number): number {
    return this.albumTrackStart[this.artistAlbumStart[artist + 1]];
  }

  trackArtist(track: number): number {
    return this.albumArtist[this.trackAlbum[track]];
  }

  /** Draws a core artist of `taste`, or now and then of a neighbouring taste on the ring. */
  sampleArtist(taste: number, random: Random): number {
    const u = random.next();
    if (u < NEIGHBOUR_TASTE_PROBABILITY) {
      const step = u < NEIGHBOUR_TASTE_PROBABILITY / 2 ? 1 : TASTES.length - 1;
      taste = (taste + step) % TASTES.length;
    }
    return this.tasteArtists[taste][sampleCdf(this.tasteArtistCdf[taste], random)];
  }

  /** Draws a track of `artist`, weighted by its popularity rank within the artist. */
  sampleTrackOfArtist(artist: number, random: Random): number {
    const start = this.artistTrackStart(artist);
    const size = this.artistTrackEnd(artist) - start;
    let cdf = this.#zipfBySize.get(size);
    if (cdf === undefined) {
      cdf = zipfCdf(size, TRACK_ZIPF_EXPONENT);
      this.#zipfBySize.set(size, cdf);
    }
    return this.artistTracksByRank[start + sampleCdf(cdf, random)];
  }

  /** Draws a track of any artist of `taste`, core or not, by a Zipf law over all of the taste's artists. */
  sampleDeepCut(taste: number, random: Random): number {
    const artist = this.tasteArtists[taste][sampleCdf(this.tasteDeepCdf[taste], random)];
    return this.sampleTrackOfArtist(artist, random);
  }

  sampleHit(random: Random): number {
    return this.hits[sampleCdf(this.hitCdf, random)];
  }

  /** Returns the track's duration in milliseconds. */
  trackDuration(track: number): number {
    this.#materializeTrack(track);
    return this.#trackDuration[track];
  }

  /** Returns the track's MPD fields after `pos`, as UTF-8 JSON that starts with a comma. */
  trackJson(track: number): Uint8Array {
    this.#materializeTrack(track);
    return this.#trackJson[track];
  }

  #uniqueUri(kind: string, random: Random): string {
    // 22 base62 characters repeat with a chance near 2^-130 per pair; the check makes a repeat impossible.
    let uri = `spotify:${kind}:${base62Id(random)}`;
    while (this.#uris.has(uri)) uri = `spotify:${kind}:${base62Id(random)}`;
    this.#uris.add(uri);
    return uri;
  }

  #materializeArtist(artist: number): void {
    if (this.#artistUri[artist] !== undefined) return;
    const random = entityRandom(this.#seed, 1, artist);
    this.#artistUri[artist] = this.#uniqueUri("artist", random);
    this.#artistName[artist] = makeArtistName(random);
  }

  #materializeAlbum(album: number): void {
    if (this.#albumUri[album] !== undefined) return;
    const random = entityRandom(this.#seed, 2, album);
    this.#albumUri[album] = this.#uniqueUri("album", random);
    this.#albumName[album] = makeAlbumName(this.#artistName[this.albumArtist[album]], random);
  }

  #materializeTrack(track: number): void {
    if (this.#trackJson[track] !== undefined) return;
    const album = this.trackAlbum[track];
    const artist = this.albumArtist[album];
    this.#materializeArtist(artist);
    this.#materializeAlbum(album);

    const random = entityRandom(this.#seed, 3, track);
    const uri = this.#uniqueUri("track", random);
    const name = makeTrackName(random);
    const duration = Math.round(Math.min(600_000, Math.max(60_000, 215_000 + 45_000 * random.normal())));
    this.#trackDuration[track] = duration;

    // The key order of the real MPD files; JSON.stringify escapes names exactly as it would in an object.
    this.#trackJson[track] = UTF8.encode(
      `,"artist_name":${JSON.stringify(this.#artistName[artist])}` +
        `,"track_uri":"${uri}","artist_uri":"${this.#artistUri[artist]}"` +
        `,"track_name":${JSON.stringify(name)},"album_uri":"${this.#albumUri[album]}"` +
        `,"duration_ms":${duration},"album_name":${JSON.stringify(this.#albumName[album])}}`,
    );
  }
}

/** Returns a word as a title might spell it: stretched, with z for s, or spaced out. */
function spellingVariant(word: string, random: Random): string {
  // Emoji stay whole: splitting one would leave lone UTF-16 surrogates, which are invalid in JSON text.
  if (!/^[ -~]+$/.test(word)) return word;
  const u = random.next();
  if (u < 0.4 && /[a-z]$/.test(word)) return word + word.charAt(word.length - 1).repeat(1 + random.int(2));
  if (u < 0.7 && word.endsWith("s")) return word.slice(0, -1) + "z";
  return word.split("").join(" ");
}

/** Makes a playlist title from the words of its taste, generic words and emoji. */
function makeTitle(taste: Taste, random: Random): string {
  let title: string;
  const u = random.next();
  if (u < 0.42) title = random.pick(taste.words);
  else if (u < 0.7) title = `${random.pick(taste.words)} ${random.pick(GENERIC_WORDS)}`;
  else if (u < 0.8) title = `${random.pick(GENERIC_WORDS)} ${random.pick(taste.words)}`;
  else if (u < 0.86) title = `${random.pick(taste.words)} ${random.pick(taste.words)}`;
  else if (u < 0.94) title = random.pick(GENERIC_TITLES);
  else title = taste.emoji.repeat(1 + random.int(3));

  const variant = random.next();
  if (variant < 0.04) title = spellingVariant(title, random);
  else if (variant < 0.1) title = title.split(" ").map((word) => spellingVariant(word, random)).join(" ");

  const casing = random.next();
  if (casing < 0.3) title = title.split(" ").map(capitalize).join(" ");
  else if (casing < 0.4) title = title.toUpperCase();

  if (random.next() < 0.1 && !title.includes(taste.emoji)) title += ` ${taste.emoji}`;
  return title;
}

/** Draws a playlist length: log-normal, truncated to [5, 250] by redrawing. */
function sampleLength(random: Random): number {
  for (;;) {
    const length = Math.round(Math.exp(LENGTH_LOG_MEAN + LENGTH_LOG_SD * random.normal()));
    if (length >= MIN_LENGTH && length <= MAX_LENGTH) return length;
  }
}

/** Draws the favourite artists of a playlist for one taste: 2 to 11, weighted by the taste's popularity. */
function sampleFavourites(catalogue: Catalogue, taste: number, random: Random): Int32Array {
  const favourites = new Int32Array(2 + random.int(10));
  for (let i = 0; i < favourites.length; i++) favourites[i] = catalogue.sampleArtist(taste, random);
  return favourites;
}

/**
 * Buffers reused from playlist to playlist. `seen[track] === stamp` marks a track already in the playlist
 * being built; `albumSeen` and `artistSeen` work alike for counting distinct albums and artists.
 */
interface PlaylistScratch {
  seen: Int32Array;
  albumSeen: Int32Array;
  artistSeen: Int32Array;
  stamp: number;
}

/**
 * The latent tastes of one playlist: it starts in `start` and drifts to `end`, which may be the same, and
 * now and then takes a track of `guest`.
 */
interface PlaylistTastes {
  start: number;
  end: number;
  guest: number;
}

/** Draws a start and a guest taste by popularity, and an end taste: a ring neighbour 60% of the time. */
function sampleTastes(catalogue: Catalogue, random: Random): PlaylistTastes {
  const start = sampleCdf(catalogue.tasteCdf, random);
  const drift = random.next();
  const end = drift < 0.3
    ? (start + 1) % TASTES.length
    : drift < 0.6
    ? (start + TASTES.length - 1) % TASTES.length
    : start;
  const guest = sampleCdf(catalogue.tasteCdf, random);
  return { start, end, guest };
}

/** Draws the track ids of one playlist, in order. */
function sampleTracks(
  catalogue: Catalogue,
  { start: startTaste, end: endTaste, guest: guestTaste }: PlaylistTastes,
  length: number,
  random: Random,
  scratch: PlaylistScratch,
): Int32Array {
  const favourites = [
    sampleFavourites(catalogue, startTaste, random),
    sampleFavourites(catalogue, endTaste, random),
  ];

  const stamp = ++scratch.stamp;
  const seen = scratch.seen;
  const tracks = new Int32Array(length);
  for (let pos = 0; pos < length; pos++) {
    let track = -1;
    for (let attempt = 0; attempt < 20 && (track < 0 || seen[track] === stamp); attempt++) {
      const u = random.next();
      const previous = pos > 0 ? tracks[pos - 1] : -1;
      if (previous >= 0 && u < ALBUM_CONTINUE_PROBABILITY) {
        // Album runs follow album order, which only the order of a playlist shows.
        const album = catalogue.trackAlbum[previous];
        track = previous + 1 < catalogue.albumTrackStart[album + 1]
          ? previous + 1
          : catalogue.albumTrackStart[album];
      } else if (previous >= 0 && u < ALBUM_CONTINUE_PROBABILITY + ARTIST_CONTINUE_PROBABILITY) {
        // Mostly another album of the same artist, as in real playlists.
        const album = catalogue.trackAlbum[previous];
        track = catalogue.sampleTrackOfArtist(catalogue.trackArtist(previous), random);
        for (let retry = 0; retry < 3 && catalogue.trackAlbum[track] === album; retry++) {
          track = catalogue.sampleTrackOfArtist(catalogue.trackArtist(previous), random);
        }
      } else {
        // The end taste takes over gradually along the playlist.
        const side = random.next() < (0.8 * pos) / length ? 1 : 0;
        const guest = random.next() < GUEST_TASTE_PROBABILITY;
        let taste = side === 0 ? startTaste : endTaste;
        if (guest) taste = guestTaste;
        const v = random.next();
        if (v < CHART_HIT_PROBABILITY) track = catalogue.sampleHit(random);
        else if (v < CHART_HIT_PROBABILITY + DEEP_CUT_PROBABILITY) {
          track = catalogue.sampleDeepCut(taste, random);
        } else {
          const favourite = !guest &&
            v < CHART_HIT_PROBABILITY + DEEP_CUT_PROBABILITY + FAVOURITE_ARTIST_PROBABILITY;
          const artist = favourite ? random.pick(favourites[side]) : catalogue.sampleArtist(taste, random);
          track = catalogue.sampleTrackOfArtist(artist, random);
        }
      }
    }
    tracks[pos] = track;
    seen[track] = stamp;
  }

  // Some playlists repeat a track: a copy of an earlier track replaces a later one, once or a few times.
  if (length > 1 && random.next() < REPEATING_PLAYLIST_PROBABILITY) {
    const copies = 1 + (random.next() < 0.3 ? random.int(4) : 0);
    for (let i = 0; i < copies; i++) {
      const target = 1 + random.int(length - 1);
      tracks[target] = tracks[random.int(target)];
    }
  }
  return tracks;
}

/** Draws a follower count: 1 for most playlists, heavy-tailed above (Pareto with shape 1.1). */
function sampleFollowers(random: Random): number {
  if (random.next() < 0.75) return 1;
  return Math.min(100_000, Math.floor(1 + Math.pow(1 - random.next(), -1 / 1.1)));
}

/** Draws the last-modified day, weighted towards the end of 2017, in seconds at midnight GMT. */
function sampleModifiedAt(random: Random): number {
  for (;;) {
    const day = LAST_DAY - Math.floor(-Math.log(1 - random.next()) * 500);
    if (day >= FIRST_DAY) return day * 86_400;
  }
}

/**
 * Appends the JSON of one playlist, in the key order of the real MPD files.
 *
 * Writing UTF-8 bytes from per-track fragments made once per track is faster than building strings:
 * generating the default 20,000 playlists took 2.6 s this way and 3.3 s by joining strings (2-core x86-64).
 */
function writePlaylistJson(
  out: JsonWriter,
  catalogue: Catalogue,
  pid: number,
  taste: Taste,
  tracks: Int32Array,
  random: Random,
  scratch: PlaylistScratch,
): void {
  const name = makeTitle(taste, random);
  const description = random.next() < DESCRIPTION_PROBABILITY
    ? `${random.pick(DESCRIPTION_OPENINGS)} ${random.pick(taste.words)} ${random.pick(GENERIC_WORDS)}`
    : undefined;
  const collaborative = random.next() < COLLABORATIVE_PROBABILITY ? "true" : "false";
  const modifiedAt = sampleModifiedAt(random);
  const followers = sampleFollowers(random);
  const edits = Math.max(1, Math.round((tracks.length / 6) * Math.exp(0.6 * random.normal())));

  const stamp = ++scratch.stamp;
  let albums = 0;
  let artists = 0;
  let duration = 0;
  for (const track of tracks) {
    const album = catalogue.trackAlbum[track];
    const artist = catalogue.albumArtist[album];
    if (scratch.albumSeen[album] !== stamp) {
      scratch.albumSeen[album] = stamp;
      albums++;
    }
    if (scratch.artistSeen[artist] !== stamp) {
      scratch.artistSeen[artist] = stamp;
      artists++;
    }
    duration += catalogue.trackDuration(track);
  }

  out.text(`{"name":${JSON.stringify(name)},"collaborative":"${collaborative}","pid":${pid}`);
  out.text(`,"modified_at":${modifiedAt},"num_tracks":${tracks.length},"num_albums":${albums}`);
  out.text(`,"num_followers":${followers},"tracks":[`);
  for (let pos = 0; pos < tracks.length; pos++) {
    if (pos > 0) out.byte(COMMA);
    out.text(`{"pos":${pos}`);
    out.bytes(catalogue.trackJson(tracks[pos]));
  }
  out.text(`],"num_edits":${edits},"duration_ms":${duration},"num_artists":${artists}`);
  if (description !== undefined) out.text(`,"description":${JSON.stringify(description)}`);
  out.byte(CLOSE_BRACE);
}

function resolveOptions(options: SyntheticMpdOptions): Required<SyntheticMpdOptions> {
  const playlists = options.playlists ?? DEFAULTS.playlists;
  const seed = options.seed ?? DEFAULTS.seed;
  const artists = options.artists ?? Math.max(400, playlists);
  const coreArtistsPerTaste = options.coreArtistsPerTaste ??
    Math.max(8, Math.round(0.07 * Math.sqrt(playlists)));
  if (!Number.isInteger(playlists) || playlists < 1) {
    throw new RangeError(
      `Cannot generate playlists: "playlists" must be a positive integer, got ${playlists}`,
    );
  }
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) {
    throw new RangeError(
      `Cannot generate playlists: "seed" must be an integer from 0 to 2^32 - 1, got ${seed}`,
    );
  }
  if (!Number.isInteger(artists) || artists < TASTES.length) {
    throw new RangeError(
      `Cannot generate playlists: "artists" must be an integer of at least ${TASTES.length}, got ${artists}`,
    );
  }
  if (!Number.isInteger(coreArtistsPerTaste) || coreArtistsPerTaste < 1) {
    throw new RangeError(
      `Cannot generate playlists: "coreArtistsPerTaste" must be a positive integer, got ${coreArtistsPerTaste}`,
    );
  }
  return { playlists, seed, artists, coreArtistsPerTaste };
}

/** One slice file as generated: its file name, its content as UTF-8 JSON, and its number of playlists. */
export interface SyntheticSliceJson {
  name: string;
  json: Uint8Array;
  playlists: number;
}

/**
 * Generates synthetic MPD slice files as UTF-8 JSON, 1,000 playlists each (the last one may be shorter).
 *
 * @param options Number of playlists, seed and catalogue size; see {@linkcode SyntheticMpdOptions}.
 * @returns A generator of slice files with pids in ascending order from 0.
 * @throws {RangeError} When an option is not a valid integer.
 */
export function* generateSyntheticMpdJson(options: SyntheticMpdOptions = {}): Generator<SyntheticSliceJson> {
  const { playlists, seed, artists, coreArtistsPerTaste } = resolveOptions(options);
  const random = new Random(seed, 0x5eed, playlists, artists);
  const catalogue = new Catalogue(artists, coreArtistsPerTaste, seed, random);
  const scratch: PlaylistScratch = {
    seen: new Int32Array(catalogue.trackAlbum.length),
    albumSeen: new Int32Array(catalogue.albumArtist.length),
    artistSeen: new Int32Array(artists),
    stamp: 0,
  };
  const out = new JsonWriter();

  for (let start = 0; start < playlists; start += PLAYLISTS_PER_SLICE) {
    const end = Math.min(playlists, start + PLAYLISTS_PER_SLICE) - 1;
    const slice = `${start}-${end}`;
    const info = {
      generated_on: GENERATED_ON,
      slice,
      version: SYNTHETIC_MPD_VERSION,
      synthetic: true,
      description: `Synthetic playlists made by this project's seeded generator (seed ${seed}, ` +
        `${playlists} playlists, ${artists} artists, ${coreArtistsPerTaste} core artists per taste); ` +
        "not Spotify data.",
    };
    out.text(`{"info":${JSON.stringify(info)},"playlists":[`);
    for (let pid = start; pid <= end; pid++) {
      if (pid > start) out.byte(COMMA);
      const tastes = sampleTastes(catalogue, random);
      const tracks = sampleTracks(catalogue, tastes, sampleLength(random), random, scratch);
      writePlaylistJson(out, catalogue, pid, TASTES[tastes.start], tracks, random, scratch);
    }
    out.text("]}");
    yield { name: `mpd.slice.${slice}.json`, json: out.take(), playlists: end - start + 1 };
  }
}

/**
 * Generates synthetic MPD slices of 1,000 playlists each (the last one may be shorter).
 *
 * @param options Number of playlists, seed and catalogue size; see {@linkcode SyntheticMpdOptions}.
 * @returns A generator of slices with pids in ascending order from 0.
 * @throws {RangeError} When an option is not a valid integer.
 */
export function* generateSyntheticMpd(options: SyntheticMpdOptions = {}): Generator<MpdSlice> {
  const decoder = new TextDecoder();
  for (const { json } of generateSyntheticMpdJson(options)) {
    yield JSON.parse(decoder.decode(json)) as MpdSlice;
  }
}

/** One file written by {@linkcode writeSyntheticMpd}. */
export interface WrittenSlice {
  path: string;
  playlists: number;
}

/**
 * Writes synthetic MPD slices as `mpd.slice.<start>-<end>.json` files into `dir`, creating it if needed.
 *
 * Each file is written under a temporary name and then renamed, so an interrupted run leaves no partial
 * slice. The same options give byte-identical files.
 *
 * @param dir Output folder.
 * @param options Number of playlists, seed and catalogue size; see {@linkcode SyntheticMpdOptions}.
 * @param onSlice Called after each file is written.
 * @returns The files written, in pid order.
 */
export async function writeSyntheticMpd(
  dir: string,
  options: SyntheticMpdOptions = {},
  onSlice?: (written: WrittenSlice) => void,
): Promise<WrittenSlice[]> {
  await Deno.mkdir(dir, { recursive: true });
  const written: WrittenSlice[] = [];
  for (const { name, json, playlists } of generateSyntheticMpdJson(options)) {
    const path = join(dir, name);
    const temporary = `${path}.${Deno.pid}.tmp`;
    try {
      await Deno.writeFile(temporary, json);
      await Deno.rename(temporary, path);
    } catch (error) {
      await Deno.remove(temporary).catch(() => {});
      throw error;
    }
    written.push({ path, playlists });
    onSlice?.(written[written.length - 1]);
  }
  return written;
}
