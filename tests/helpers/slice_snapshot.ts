import type { SliceColumns } from "../../lib/data/slice_columns.ts";
import type { TrackDictionary } from "../../lib/data/track_dictionary.ts";

/** Returns the columns, counts and dictionary rows that reading a slice built, as plain values to compare. */
export function sliceSnapshot(columns: SliceColumns, dictionary: TrackDictionary) {
  return {
    pid: columns.pid,
    name: columns.name,
    description: columns.description,
    modifiedAt: columns.modifiedAt,
    numTracks: columns.numTracks,
    numFollowers: columns.numFollowers,
    numEdits: columns.numEdits,
    collaborative: columns.collaborative,
    firstOccurrence: columns.firstOccurrence,
    pidsRead: columns.pidsRead,
    pos: Array.from(columns.pos.subarray(0, columns.occurrences)),
    trackId: Array.from(columns.trackId.subarray(0, columns.occurrences)),
    counts: columns.counts(),
    tracks: Array.from({ length: dictionary.size }, (_, id) => dictionary.row(id)),
  };
}
