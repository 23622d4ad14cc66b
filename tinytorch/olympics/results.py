"""Judging and ranking evaluations: the rules a leaderboard applies, in one place.

``judge`` decides whether measured metrics make a valid result (finite numbers, accuracy at
or above the floor). ``rank`` orders the valid results of each division by the track's score
(MLPerf ranks within a division: closed results compare systems, open ones ideas); results
with equal scores share a rank, as in "1, 2, 2, 4". ``format_table`` prints rows, from
``tito olympics run`` or from the server's leaderboard, the same way.
"""

from __future__ import annotations

import math

from tinytorch.olympics.tracks import Track

DIVISIONS = ("closed", "open")


def judge(track: Track, accuracy: float, score: float, floor: float) -> str | None:
    """Why metrics are not a valid result on ``track``, or None if they are.

    Invalid: a score or accuracy that is NaN or infinite, or an accuracy below ``floor``
    (the track's floor on the data set the model was scored on).
    """
    # BEGIN SOLUTION 20
    if not (math.isfinite(accuracy) and math.isfinite(score)):
        return f"{track.metric} {score} or accuracy {accuracy} is not a finite number"
    if accuracy < floor:
        return f"accuracy {accuracy:.2%} is below the {track.name} track's floor of {floor:.2%}"
    return None
    # END SOLUTION


def rank(track: Track, entries: list[dict]) -> list[dict]:
    """The valid ``entries`` (dicts with ``division``, ``score``, ``valid``) of each division,
    best first, each given its ``rank`` (1 is best, ties share one); then the invalid ones
    with rank None. Entries are copied, not changed."""
    ranked = []
    for division in DIVISIONS:
        valid = [entry for entry in entries if entry["valid"] and entry["division"] == division]
        # BEGIN SOLUTION 20
        ordered = sorted(valid, key=lambda entry: entry["score"], reverse=track.higher_is_better)
        previous_score, previous_rank = None, 0
        for position, entry in enumerate(ordered, 1):
            current = previous_rank if entry["score"] == previous_score else position
            ranked.append(dict(entry, rank=current))
            previous_score, previous_rank = entry["score"], current
        # END SOLUTION
    ranked += [dict(entry, rank=None) for entry in entries if not entry["valid"]]
    return ranked


def format_score(track: Track, score: float | None) -> str:
    """A score as a table shows it: accuracy in %, bits/char and ms to 3 decimals, bytes
    whole."""
    if score is None:
        return "-"
    if track.metric == "accuracy":
        return f"{score:.2%}"
    if track.metric == "size_bytes":
        return f"{int(score):,}"
    return f"{score:.3f}"


def format_table(track: Track, entries: list[dict]) -> str:
    """Ranked entries (``rank`` output, or a server's leaderboard entries) as a text table:
    rank, name, division, score, accuracy, p90 latency, size, techniques."""
    header = (
        f"{'rank':>4}  {'name':<24}{'division':<10}{track.metric + ' (' + track.unit + ')':>22}"
        f"{'accuracy':>10}{'p90 ms':>10}{'size KB':>10}  techniques"
    )
    lines = [f"{track.name} track", header, "-" * (len(header) + 12)]
    for entry in entries:
        rank_text = "-" if entry.get("rank") is None else str(entry["rank"])
        accuracy = "-" if entry.get("accuracy") is None else f"{entry['accuracy']:.2%}"
        p90 = "-" if entry.get("p90_ms") is None else f"{entry['p90_ms']:.3f}"
        size = "-" if entry.get("size_bytes") is None else f"{entry['size_bytes'] / 1024:.1f}"
        lines.append(
            f"{rank_text:>4}  {entry['name']:<24}{entry['division']:<10}"
            f"{format_score(track, entry.get('score')):>22}{accuracy:>10}{p90:>10}{size:>10}"
            f"  {', '.join(entry.get('techniques') or []) or '-'}"
        )
        if entry.get("error"):
            lines.append(f"      invalid: {entry['error']}")
    return "\n".join(lines)
