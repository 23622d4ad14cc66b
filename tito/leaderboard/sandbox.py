"""The evaluation host: a long-lived process that evaluates unpacked submissions on request.

``python -m tito.leaderboard.sandbox`` reads one JSON request per line on standard input,
``{"submission": DIR, "track": NAME, "options": {FIELD: VALUE}, "data_dir": DIR or null}``, and
answers each with one JSON line, ``{"evaluation": Evaluation.to_dict()}`` or ``{"error": ...}``.

Each worker keeps one host. It starts it in a scratch folder with a bare environment (no
database URL, no tokens) and, on Linux, inside new user, network and PID namespaces
(``unshare``): neither the host nor the fresh process that ``evaluate`` starts for each
submission can reach the network, and killing the host kills everything it started. The host
imports the harness only and never the submitted code: ``evaluate`` runs that in a further
process with the track's time and memory limits. Keeping the host alive saves a Python start
and a ``tinytorch`` import per submission.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from typing import Any

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


def answer(request: dict[str, Any]) -> dict[str, Any]:
    """Evaluate one request; the reply."""
    from tinytorch.olympics.evaluate import evaluate

    try:
        track = configured_track(request["track"], request["options"])
        evaluation = evaluate(request["submission"], data_dir=request["data_dir"], track=track)
    except Exception as error:  # noqa: BLE001 - the reply says what went wrong; keep serving
        return {"error": f"{type(error).__name__}: {error}"}
    return {"evaluation": evaluation.to_dict()}


def main() -> int:
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints go to the log, not replies
    for line in sys.stdin:
        replies.write(json.dumps(answer(json.loads(line))) + "\n")
        replies.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
