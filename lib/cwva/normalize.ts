/**
 * Playlist title normalization for CWVA: titles become lists of comparable words.
 *
 * The steps, in order:
 * 1. Lower case.
 * 2. Emoji replaced by words from a small dictionary. Unlisted emoji stay, as one token each.
 * 3. Accents removed.
 * 4. Apostrophes dropped, and hyphens between letters dropped ("hip-hop" becomes "hiphop").
 * 5. Other punctuation removed.
 * 6. Spaced-out letters joined ("c h i l l" becomes "chill").
 * 7. Letters repeated three or more times cut to two ("chillll" becomes "chill").
 * 8. Slang expanded from a small dictionary ("chillin" becomes "chill", "rnb" becomes "r&b").
 * 9. The stop words "playlist" and "music" removed.
 *
 * The dictionaries are this project's own, built from frequent playlist-title spellings.
 * @module
 */

/** Words that carry no information about a playlist's content, removed from every title. */
export const TITLE_STOP_WORDS: ReadonlySet<string> = new Set(["playlist", "music"]);

/** Emoji and the word each stands for. Variation selectors and skin tones are removed before lookup. */
export const EMOJI_WORDS: Readonly<Record<string, string>> = {
  "🔥": "fire",
  "🎄": "christmas",
  "🎅": "christmas",
  "❄": "winter",
  "⛄": "winter",
  "☃": "winter",
  "☀": "sun",
  "🌞": "sun",
  "🌅": "sunset",
  "🌇": "sunset",
  "🏖": "beach",
  "🏝": "island",
  "🌴": "tropical",
  "🌊": "ocean",
  "🌙": "night",
  "🌃": "night",
  "🌌": "night",
  "🌧": "rain",
  "☔": "rain",
  "🌈": "rainbow",
  "🌸": "spring",
  "🍂": "fall",
  "🍁": "fall",
  "🌲": "forest",
  "💪": "workout",
  "🏋": "workout",
  "🏃": "running",
  "🎉": "party",
  "🎊": "party",
  "🥳": "party",
  "🪩": "disco",
  "🍻": "drinking",
  "🍺": "beer",
  "🍷": "wine",
  "❤": "love",
  "💕": "love",
  "💖": "love",
  "💗": "love",
  "💘": "love",
  "😍": "love",
  "🥰": "love",
  "💔": "heartbreak",
  "😢": "sad",
  "😭": "sad",
  "😔": "sad",
  "🖤": "dark",
  "😴": "sleep",
  "💤": "sleep",
  "😌": "relax",
  "🧘": "meditation",
  "😎": "cool",
  "🤘": "metal",
  "🎸": "guitar",
  "🎹": "piano",
  "🎷": "jazz",
  "🎺": "trumpet",
  "🎻": "violin",
  "🥁": "drums",
  "🎤": "sing",
  "🎙": "vocals",
  "🎧": "headphones",
  "🎵": "music",
  "🎶": "music",
  "📻": "radio",
  "📼": "retro",
  "💿": "cd",
  "⏪": "throwback",
  "🤠": "country",
  "🙏": "worship",
  "✝": "christian",
  "⛪": "church",
  "🚗": "drive",
  "🚙": "drive",
  "🛣": "road",
  "✈": "travel",
  "🏕": "camping",
  "🎃": "halloween",
  "👻": "halloween",
  "💃": "dance",
  "🕺": "dance",
  "☕": "coffee",
  "📚": "study",
  "🎓": "graduation",
  "🎂": "birthday",
  "🛹": "skate",
  "⚡": "electric",
  "🏰": "castle",
  "🎛": "dj",
  "🇰🇷": "korean",
  "🇺🇸": "america",
  "🇲🇽": "mexican",
  "🇬🇧": "british",
  "🇫🇷": "french",
  "🇯🇵": "japanese",
  "🇧🇷": "brazilian",
};

/** Slang and spelling variants, each mapped to its standard form (one or more words). */
export const SLANG_WORDS: Readonly<Record<string, string>> = {
  chillin: "chill",
  chillen: "chill",
  chilling: "chill",
  chilln: "chill",
  chil: "chill",
  rnb: "r&b",
  randb: "r&b",
  hiphop: "hip hop",
  poppunk: "pop punk",
  oldschool: "old school",
  turnup: "turn up",
  tbt: "throwback",
  throwbacc: "throwback",
  xmas: "christmas",
  fav: "favorites",
  fave: "favorites",
  favs: "favorites",
  faves: "favorites",
  favourite: "favorites",
  favourites: "favorites",
  favorite: "favorites",
  luv: "love",
  gud: "good",
  jamz: "jams",
  tunez: "tunes",
  songz: "songs",
  vibez: "vibes",
  bday: "birthday",
  u: "you",
  ur: "your",
  n: "and",
  "&": "and",
  "2k15": "2015",
  "2k16": "2016",
  "2k17": "2017",
  "2k18": "2018",
  sixties: "60s",
  seventies: "70s",
  eighties: "80s",
  nineties: "90s",
};

// Pictographic characters and the marks that only modify them: variation selectors, the zero-width joiner,
// skin tones and the gender signs of joined sequences.
const PICTOGRAPH = /(\p{Extended_Pictographic}|\p{Regional_Indicator}{2})/gu;
const EMOJI_MODIFIERS = /[\u{FE0E}\u{FE0F}\u{200D}\u{1F3FB}-\u{1F3FF}\u2640\u2642]/gu;
const SINGLE_CHARACTER = /^[\p{L}\p{N}&]$/u;

/** Sorted longest first, so a flag (two code points) is replaced before a shorter emoji could match. */
const EMOJI_KEYS = Object.keys(EMOJI_WORDS).sort((a, b) => b.length - a.length);

/**
 * Normalizes a playlist title into words: see the module documentation for the steps.
 *
 * @example Slang, emoji and spaced-out letters
 * ```ts
 * normalizeTitle("C H I L L 🔥 Playlist"); // ["chill", "fire"]
 * normalizeTitle("RnB Jamz"); // ["r&b", "jams"]
 * ```
 * @returns the words in title order; empty when nothing but stop words, punctuation or spaces remain.
 */
export function normalizeTitle(title: string): string[] {
  let text = title.toLowerCase().replace(EMOJI_MODIFIERS, "");
  for (const emoji of EMOJI_KEYS) {
    if (text.includes(emoji)) text = text.replaceAll(emoji, ` ${EMOJI_WORDS[emoji]} `);
  }

  // Unlisted emoji stay, each as its own token, so learned vectors can still use them.
  text = text.replace(PICTOGRAPH, " $1 ");

  // Decomposing splits accents off their letters ("é" into "e" and a combining mark) so they can go.
  text = text.normalize("NFKD").replace(/\p{M}/gu, "");

  text = text
    .replace(/['’‘`´]/g, "")
    .replace(/(?<=\p{L})-(?=\p{L})/gu, "")
    .replace(/[^\p{L}\p{N}&\p{Extended_Pictographic}\p{Regional_Indicator}]+/gu, " ");

  const words: string[] = [];
  for (const token of joinSpacedLetters(text.split(" ").filter((t) => t !== ""))) {
    const shortened = token.replace(/(\p{L})\1{2,}/gu, "$1$1");
    const expanded = SLANG_WORDS[shortened] ?? shortened;
    for (const word of expanded.split(" ")) {
      if (word !== "" && !TITLE_STOP_WORDS.has(word)) words.push(word);
    }
  }
  return words;
}

/**
 * Joins runs of three or more one-character tokens ("c h i l l" into "chill"), starting a new word where
 * the run switches between letters and digits ("r n b 2 0 1 7" into "rnb" and "2017"). Runs of two are
 * kept apart, because pairs such as "a b" are more often real words than spelled-out ones.
 */
function joinSpacedLetters(tokens: string[]): string[] {
  const joined: string[] = [];
  let run: string[] = [];
  const flush = () => {
    if (run.length >= 3) {
      let word = "";
      for (const character of run) {
        const switches = word !== "" && /\p{N}/u.test(character) !== /\p{N}/u.test(word.at(-1)!);
        if (switches && character !== "&" && word.at(-1) !== "&") {
          joined.push(word);
          word = "";
        }
        word += character;
      }
      joined.push(word);
    } else {
      joined.push(...run);
    }
    run = [];
  };

  for (const token of tokens) {
    if (SINGLE_CHARACTER.test(token)) {
      run.push(token);
      continue;
    }
    flush();
    joined.push(token);
  }
  flush();
  return joined;
}

/**
 * Returns spellings to try, in order, when `word` has no vector. They are the word itself, its final
 * doubled letter cut to one ("classicall" to "classical"), and every letter run cut to one ("partyy" to
 * "party"). Each of these is also tried with a final "z" read as "s" ("jamz" to "jams").
 */
export function wordVariants(word: string): string[] {
  const variants = [word];
  const add = (variant: string) => {
    if (!variants.includes(variant)) variants.push(variant);
  };
  add(word.replace(/(\p{L})\1$/u, "$1"));
  add(word.replace(/(\p{L})\1+/gu, "$1"));
  for (const variant of [...variants]) {
    if (variant.length > 2 && variant.endsWith("z")) add(`${variant.slice(0, -1)}s`);
  }
  return variants;
}
