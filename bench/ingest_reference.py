"""Reference ingestion for the ingest_vs_python benchmark: MPD slices read the way the original study did.

Each slice file is read with Python's json module, and its playlists and track occurrences are collected
as lists of dicts that become two pandas DataFrames at the end. Nothing is written.

Usage: /usr/bin/python3 bench/ingest_reference.py FILE [FILE ...]
Prints one JSON object: files, bytes, playlists, track_occurrences, seconds, cpu_seconds (user and system
time of the same span), peak_rss_bytes.
"""

import json
import resource
import sys
import time

import pandas as pd


def main(paths):
    started = time.perf_counter()
    cpu_started = time.process_time()
    playlist_rows = []
    track_rows = []
    total_bytes = 0
    for path in paths:
        with open(path, "rb") as file:
            data = file.read()
        total_bytes += len(data)
        slice_ = json.loads(data)
        for playlist in slice_["playlists"]:
            tracks = playlist.pop("tracks")
            playlist_rows.append(playlist)
            for track in tracks:
                track["pid"] = playlist["pid"]
                track_rows.append(track)

    playlists = pd.DataFrame(playlist_rows)
    tracks = pd.DataFrame(track_rows)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started

    # ru_maxrss is in KiB on Linux.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({
        "files": len(paths),
        "bytes": total_bytes,
        "playlists": len(playlists),
        "track_occurrences": len(tracks),
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "peak_rss_bytes": peak,
    }))


if __name__ == "__main__":
    main(sys.argv[1:])
