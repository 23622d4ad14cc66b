"""Server-rendered HTML for the leaderboard: no JavaScript, no CDN, one inline SVG chart.

Every value that comes from a participant (names, techniques, error messages) goes through
``html.escape`` before it reaches a page.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from html import escape
from typing import Any

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
th, td { border-bottom: 1px solid #ddd; padding: .35rem .6rem; text-align: left; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.muted { color: #777; } .error { color: #a00; } nav a { margin-right: 1rem; }
svg text { font-size: 11px; fill: #333; }
"""

CHART_WIDTH, CHART_HEIGHT, MARGIN = 640, 360, 52


def page(title: str, body: str) -> str:
    """A complete HTML document."""
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        "<nav><a href='/'>Torch Olympics</a></nav>"
        f"<h1>{escape(title)}</h1>{body}</body></html>"
    )


def date(timestamp: float | None) -> str:
    if timestamp is None:
        return ""
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def number(value: Any, digits: int = 4) -> str:
    if value is None:
        return ""
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return f"{int(value):,}"  # byte counts come back from SQL as floats
    return f"{value:.{digits}g}"


def index_page(tracks: list[dict[str, Any]]) -> str:
    """``/``: the tracks, what each ranks, and how many submissions each has."""
    rows = "".join(
        f"<tr><td><a href='/tracks/{escape(t['name'])}'>{escape(t['name'])}</a></td>"
        f"<td>{escape(t['task'])}</td><td>{escape(t['score'])}</td>"
        f"<td class='num'>{t['ranked']}</td><td class='num'>{t['waiting']}</td></tr>"
        for t in tracks
    )
    return page(
        "Torch Olympics",
        "<table><tr><th>track</th><th>task</th><th>ranked by</th><th>ranked</th>"
        f"<th>waiting</th></tr>{rows}</table>"
        "<p class='muted'>Every number here was measured by this server; "
        "numbers a submission reports about itself are never ranked.</p>",
    )


def pareto_front(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The points no other point beats on both axes (smaller x, larger y), by increasing x.

    Sort by x (ties: larger y first) and keep each point whose y is higher than every y before
    it: a point with a smaller x and a higher y would have been seen already.
    """
    front: list[tuple[float, float]] = []
    for x, y in sorted(points, key=lambda point: (point[0], -point[1])):
        if not front or y > front[-1][1]:
            front.append((x, y))
    return front


def _scale(values: list[float], low_px: float, high_px: float):
    """A function mapping the range of ``values`` onto [low_px, high_px] (with 5% padding)."""
    low, high = min(values), max(values)
    pad = (high - low) * 0.05 or abs(high) * 0.05 or 1.0
    low, high = low - pad, high + pad
    return lambda value: low_px + (value - low) / (high - low) * (high_px - low_px), (low, high)


def pareto_chart(entries: list[dict[str, Any]], x_key: str, x_label: str) -> str:
    """An inline SVG: accuracy against ``x_key`` (latency or size), the Pareto front as a line.

    Each point is a circle with a ``<title>`` (its name), labelled with its rank.
    """
    points = [
        (float(e[x_key]), float(e["accuracy"]), e)
        for e in entries
        if e.get(x_key) is not None and e.get("accuracy") is not None
    ]
    if not points:
        return "<p class='muted'>The chart appears once a submission has been measured.</p>"
    left, right = MARGIN, CHART_WIDTH - MARGIN / 2
    bottom, top = CHART_HEIGHT - MARGIN, MARGIN / 2
    to_x, (x_low, x_high) = _scale([p[0] for p in points], left, right)
    to_y, (y_low, y_high) = _scale([p[1] for p in points], bottom, top)
    front = pareto_front([(x, y) for x, y, _ in points])
    path = " ".join(f"{to_x(x):.1f},{to_y(y):.1f}" for x, y in front)
    parts = [
        f"<svg id='pareto' xmlns='http://www.w3.org/2000/svg' width='{CHART_WIDTH}'"
        f" height='{CHART_HEIGHT}' role='img' aria-label='accuracy against {escape(x_label)}'>",
        f"<rect x='{left}' y='{top}' width='{right - left}' height='{bottom - top}'"
        " fill='#fafafa' stroke='#bbb'/>",
        f"<text x='{(left + right) / 2}' y='{CHART_HEIGHT - 12}' text-anchor='middle'>"
        f"{escape(x_label)} (lower is better); red: the Pareto front</text>",
        f"<text x='14' y='{(top + bottom) / 2}' text-anchor='middle'"
        f" transform='rotate(-90 14 {(top + bottom) / 2})'>accuracy (higher is better)</text>",
        f"<text x='{left}' y='{bottom + 16}'>{number(x_low, 3)}</text>",
        f"<text x='{right}' y='{bottom + 16}' text-anchor='end'>{number(x_high, 3)}</text>",
        f"<text x='{left - 4}' y='{bottom}' text-anchor='end'>{number(y_low, 3)}</text>",
        f"<text x='{left - 4}' y='{top + 10}' text-anchor='end'>{number(y_high, 3)}</text>",
        f"<polyline class='front' points='{path}' fill='none' stroke='#d62728' stroke-width='2'/>",
    ]
    for x, y, entry in points:
        on_front = (x, y) in front
        parts.append(
            f"<circle class='point' cx='{to_x(x):.1f}' cy='{to_y(y):.1f}' r='5'"
            f" fill='{'#d62728' if on_front else '#1f77b4'}'>"
            f"<title>{escape(entry['name'])}: accuracy {number(y)}, {escape(x_label)}"
            f" {number(x)}</title></circle>"
            f"<text x='{to_x(x) + 7:.1f}' y='{to_y(y) - 7:.1f}'>#{entry['rank']}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def track_page(
    track: dict[str, Any], entries: list[dict[str, Any]], waiting: int, x_key: str, x_label: str
) -> str:
    """``/tracks/NAME``: the ranked table, the chart, and how many submissions still wait."""
    rows = "".join(
        f"<tr class='entry'><td class='num rank'>{e['rank']}</td>"
        f"<td class='name'><a href='/submissions/{e['id']}'>{escape(e['name'])}</a></td>"
        f"<td class='num score'>{number(e['score'])}</td><td>{escape(e['division'])}</td>"
        f"<td>{escape(', '.join(e['techniques']))}</td>"
        f"<td class='num'>{number(e['accuracy'])}</td><td class='num'>{number(e['p90_ms'])}</td>"
        f"<td class='num'>{number(e['size_bytes'])}</td><td>{date(e['submitted_at'])}</td></tr>"
        for e in entries
    )
    order = "higher" if track["higher_is_better"] else "lower"
    table = (
        "<table id='board'><tr><th>rank</th><th>name</th><th>score</th><th>division</th>"
        "<th>techniques</th><th>accuracy</th><th>p90 ms</th><th>bytes</th><th>date</th></tr>"
        f"{rows}</table>"
        if entries
        else "<p class='muted'>No measured submission yet.</p>"
    )
    return page(
        f"Track: {track['name']}",
        f"<p>{escape(track['task'])}. Ranked by {escape(track['score'])} ({order} is better);"
        f" each participant's best measured submission.</p>{table}"
        f"<p class='muted'>{waiting} submission(s) waiting for evaluation.</p>"
        f"<h2>Accuracy against {escape(x_label)}</h2>{pareto_chart(entries, x_key, x_label)}",
    )


def submission_page(submission: dict[str, Any]) -> str:
    """``/submissions/ID``: status, the server's measurements, or why it was not ranked."""
    evaluation = submission["evaluation"] or {}
    measured = "".join(
        f"<tr><th>{escape(key)}</th><td>{escape(number(value) if _numeric(value) else str(value))}"
        "</td></tr>"
        for key, value in evaluation.items()
    )
    error = (
        f"<p class='error'>Not ranked: {escape(submission['error'])}</p>"
        if submission["error"]
        else ""
    )
    return page(
        f"Submission {submission['id']}",
        f"<table><tr><th>name</th><td>{escape(submission['name'])}</td></tr>"
        f"<tr><th>track</th><td><a href='/tracks/{escape(submission['track'])}'>"
        f"{escape(submission['track'])}</a></td></tr>"
        f"<tr><th>status</th><td id='status'>{escape(submission['status'])}</td></tr>"
        f"<tr><th>division</th><td>{escape(submission['division'])}</td></tr>"
        f"<tr><th>techniques</th><td>{escape(', '.join(submission['techniques']))}</td></tr>"
        f"<tr><th>submitted</th><td>{date(submission['submitted_at'])}</td></tr>"
        f"<tr><th>evaluated</th><td>{date(submission['finished_at'])}</td></tr></table>"
        f"{error}<h2>Measured by the server</h2>"
        + (f"<table>{measured}</table>" if measured else "<p class='muted'>Not yet.</p>"),
    )


def _numeric(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
