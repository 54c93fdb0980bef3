/**
 * The shape of `results.json`: metrics per method, per seed bucket, and their two averages.
 * @module
 */

/** Mean metrics over a set of evaluation playlists. */
export interface MetricSet {
  /** In [0, 1], higher is better. */
  r_precision: number;
  /** In [0, 1], higher is better. */
  ndcg: number;
  /** Recommended song clicks, in [0, 51], lower is better. */
  clicks: number;
  /** In [0, 1], higher is better. */
  recall_at_500: number;
  /** Number of playlists averaged. */
  playlists: number;
}

/** One method's results. Keys of `by_seed` are seed counts: "0", "1", "5", "10", "25", "100". */
export interface MethodResults {
  by_seed: Record<string, MetricSet>;
  /** Unweighted mean of the seed buckets, as in the thesis table. */
  bucket_mean: MetricSet;
  /** Mean over all evaluation playlists, as on the challenge leaderboard. */
  overall: MetricSet;
}

/** The whole `results.json` file. */
export interface StudyResults {
  /** Profile name, such as `smoke` or `default`, or `mpd` for a real MPD folder. */
  profile: string;
  /** True when the input data came from the synthetic generator. */
  synthetic: boolean;
  /** ISO 8601 time the results were computed. */
  created_at: string;
  methods: Record<string, MethodResults>;
  /** The origin of the playlists: the real MPD folder, or a description of the synthetic data. */
  source?: string;
  /** Facts a reader needs to interpret the numbers, such as buckets with fewer seeds than their name. */
  notes?: string[];
}
