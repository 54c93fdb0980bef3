/**
 * RecSys Challenge 2018 metrics, with the semantics of the challenge's official helper code.
 *
 * Ground truth is deduplicated before scoring. Recommendations are truncated (to |G| for R-precision, to
 * 500 otherwise) and then deduplicated, keeping first occurrences, so a repeated recommendation cannot earn
 * credit twice.
 * @module
 */

/** The number of recommendations the challenge scores. */
export const MAX_RECOMMENDATIONS = 500;

/** The clicks value of a playlist whose recommendations contain no ground-truth track. */
export const NO_HIT_CLICKS = 51;

/** Returns the distinct values among the first `limit` entries, keeping first occurrences. */
function uniqueInOrder(values: ArrayLike<number>, limit = Infinity): number[] {
  const seen = new Set<number>();
  const unique: number[] = [];
  const end = Math.min(values.length, limit);
  for (let i = 0; i < end; i++) {
    if (!seen.has(values[i])) {
      seen.add(values[i]);
      unique.push(values[i]);
    }
  }
  return unique;
}

/**
 * Computes R-precision: |set(R[1..|G|]) ∩ G| / |G|, the share of the distinct ground-truth tracks G
 * found among the first |G| recommendations R.
 *
 * @returns a value in [0, 1]; 0 when the ground truth is empty.
 */
export function rPrecision(recommended: ArrayLike<number>, groundTruth: ArrayLike<number>): number {
  const truth = new Set(uniqueInOrder(groundTruth));
  if (truth.size === 0) return 0;

  const top = uniqueInOrder(recommended, truth.size);
  let hits = 0;
  for (const track of top) if (truth.has(track)) hits++;
  return hits / truth.size;
}

/**
 * Computes R-precision with artist credit: a recommendation in the first |G| that is not a ground-truth
 * track, but whose artist is one of the ground truth's artists not credited yet, earns 0.25.
 *
 * Each ground-truth artist is credited at most once, and an artist already matched by an exact track hit
 * earns no further credit. `artistOf` maps a track id to an artist key; an empty key never matches.
 *
 * @returns a value in [0, 1]; 0 when the ground truth is empty.
 */
export function rPrecisionArtistCredit(
  recommended: ArrayLike<number>,
  groundTruth: ArrayLike<number>,
  artistOf: (track: number) => string,
): number {
  const truth = new Set(uniqueInOrder(groundTruth));
  if (truth.size === 0) return 0;

  const truthArtists = new Set<string>();
  for (const track of truth) truthArtists.add(artistOf(track));
  truthArtists.delete("");

  const top = uniqueInOrder(recommended, truth.size);
  const credited = new Set<string>();
  for (const track of top) {
    if (truth.has(track)) credited.add(artistOf(track));
  }

  let score = 0;
  for (const track of top) {
    if (truth.has(track)) {
      score += 1;
      continue;
    }
    const artist = artistOf(track);
    if (truthArtists.has(artist) && !credited.has(artist)) {
      credited.add(artist);
      score += 0.25;
    }
  }
  return Math.min(1, score / truth.size);
}

/**
 * Computes NDCG over the first 500 recommendations, deduplicated keeping first occurrences, with binary
 * relevance.
 *
 * DCG = sum of rel_i / log2(i + 1) for positions i from 1; the ideal DCG places the distinct ground-truth
 * tracks first, over min(500, |G|) positions.
 *
 * @returns a value in [0, 1]; 0 when the ground truth or the recommendations are empty.
 */
export function ndcg(recommended: ArrayLike<number>, groundTruth: ArrayLike<number>): number {
  const truth = new Set(uniqueInOrder(groundTruth));
  if (truth.size === 0) return 0;

  const ranked = uniqueInOrder(recommended, MAX_RECOMMENDATIONS);
  let dcg = 0;
  for (let i = 0; i < ranked.length; i++) {
    if (truth.has(ranked[i])) dcg += 1 / Math.log2(i + 2);
  }

  let idealDcg = 0;
  const idealLength = Math.min(MAX_RECOMMENDATIONS, truth.size);
  for (let i = 0; i < idealLength; i++) idealDcg += 1 / Math.log2(i + 2);
  return dcg / idealDcg;
}

/**
 * Computes recommended song clicks: how many pages of 10 a user refreshes before the first relevant
 * track, floor(index of first hit / 10) with 0-based indices into the first 500 recommendations.
 *
 * @returns a whole number in [0, 51]; 51 when no recommendation is relevant or the ground truth is empty.
 */
export function clicks(recommended: ArrayLike<number>, groundTruth: ArrayLike<number>): number {
  const truth = new Set(uniqueInOrder(groundTruth));
  const end = Math.min(recommended.length, MAX_RECOMMENDATIONS);
  for (let i = 0; i < end; i++) {
    if (truth.has(recommended[i])) return Math.floor(i / 10);
  }
  return NO_HIT_CLICKS;
}

/**
 * Computes recall@500: the share of distinct ground-truth tracks among the first 500 recommendations.
 *
 * @returns a value in [0, 1]; 0 when the ground truth is empty.
 */
export function recallAt500(recommended: ArrayLike<number>, groundTruth: ArrayLike<number>): number {
  const truth = new Set(uniqueInOrder(groundTruth));
  if (truth.size === 0) return 0;

  const ranked = uniqueInOrder(recommended, MAX_RECOMMENDATIONS);
  let hits = 0;
  for (const track of ranked) if (truth.has(track)) hits++;
  return hits / truth.size;
}
