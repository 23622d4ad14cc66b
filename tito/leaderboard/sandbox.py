"""Evaluate one unpacked submission and write the result as JSON: what a worker runs per job.

``python -m tito.leaderboard.sandbox SUBMISSION_DIR --track NAME --result FILE
[--option FIELD=VALUE ...] [--data-dir DIR]``

The worker starts this in a scratch folder with a bare environment, and on Linux inside new
user, network and PID namespaces (``unshare``), so neither it nor the fresh process that
``evaluate`` starts can reach the network, and killing it kills everything it started. This
process imports the harness only; ``evaluate`` runs the submitted code in a further process
with its own time and memory limits.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from tinytorch.olympics.tracks import Track, get_track


def _parse_value(text: str, current: object, annotation: str) -> object:
    """``text`` converted to the field's type: that of its current value, or, for a field
    that is None now, the type its annotation names (``int | None``); ``none`` gives None."""
    if current is None:
        if text.lower() == "none":
            return None
        current = 0 if "int" in annotation else 0.0 if "float" in annotation else ""
    if isinstance(current, bool):
        if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise ValueError(f"expected true or false, got {text!r}")
        return text.lower() in ("true", "1", "yes")
    if isinstance(current, int):
        return int(text)
    if isinstance(current, float):
        return float(text)
    if isinstance(current, str):
        return text
    kind = type(current).__name__
    raise ValueError(f"a field of type {kind} cannot be set from the command line")


def parse_track_options(options: list[str]) -> dict[str, dict[str, str]]:
    """``["compression.latency_queries=16"]`` -> ``{"compression": {"latency_queries": "16"}}``."""
    parsed: dict[str, dict[str, str]] = {}
    for option in options:
        target, equals, value = option.partition("=")
        track, dot, name = target.partition(".")
        if not equals or not dot or not track or not name:
            raise ValueError(f"track option {option!r}: write TRACK.FIELD=VALUE")
        get_track(track)
        parsed.setdefault(track, {})[name] = value
    return parsed


def configured_track(name: str, options: dict[str, str]) -> Track:
    """The track ``name`` with ``options`` (field name -> text) applied."""
    track = get_track(name)
    fields = {field.name: str(field.type) for field in dataclasses.fields(track)}
    changes = {}
    for key, text in options.items():
        if key not in fields:
            raise ValueError(
                f"track {name!r} has no field {key!r}; its fields: {', '.join(sorted(fields))}"
            )
        try:
            changes[key] = _parse_value(text, getattr(track, key), fields[key])
        except ValueError as error:
            raise ValueError(f"track option {name}.{key}: {error}") from None
    return dataclasses.replace(track, **changes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tito.leaderboard.sandbox")
    parser.add_argument("submission", type=Path)
    parser.add_argument("--track", required=True)
    parser.add_argument("--result", type=Path, required=True)
    parser.add_argument("--option", action="append", default=[], metavar="FIELD=VALUE")
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    options = parse_track_options([f"{args.track}.{option}" for option in args.option])
    track = configured_track(args.track, options.get(args.track, {}))

    from tinytorch.olympics.evaluate import evaluate

    evaluation = evaluate(args.submission, data_dir=args.data_dir, track=track)
    args.result.write_text(json.dumps(evaluation.to_dict()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
