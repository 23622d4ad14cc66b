"""A Torch Olympics submission: a directory of three files.

::

    my_submission/
        submission.toml   track, division, name, techniques (read by load_manifest)
        model.py          defines build_model() -> a tinytorch nn.Module, untrained
        model.pt          the weights: tinytorch.save(model.state_dict(), "model.pt")

``submission.toml`` looks like this::

    track = "speed"
    division = "closed"            # or "open"
    name = "ada-lenet-int8"
    techniques = ["post_training_quantization", "calibration"]

Techniques are named from module 19's list (``tinytorch.utils.benchmark.mlperf``): the closed
division accepts post-training optimizations only, the open division anything. The evaluator
builds the model with ``build_model()``, loads ``model.pt`` into it with ``load_state_dict``
and measures it; nothing the submission says about its own numbers is read.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

import tinytorch
from tinytorch.nn import Module
from tinytorch.olympics.tracks import TRACKS, get_track
from tinytorch.utils.benchmark.mlperf import Division, validate_techniques

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

MANIFEST = "submission.toml"
CODE = "model.py"
WEIGHTS = "model.pt"
SUBMISSION_FILES = (MANIFEST, CODE, WEIGHTS)
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class SubmissionError(ValueError):
    """A submission directory or manifest that breaks the rules; the message says how to fix
    it."""


@dataclass(frozen=True)
class Manifest:
    """What ``submission.toml`` declares about a submission."""

    track: str
    division: str
    name: str
    techniques: tuple[str, ...]


def load_manifest(directory: str | Path) -> Manifest:
    """Read and check ``directory/submission.toml`` and that the other files are there.

    Raises ``SubmissionError`` naming the problem: a missing file, bad TOML, a missing or
    unknown key, an unknown track or division, a bad name, an unknown technique or one the
    division forbids, a ``model.py`` larger than the track allows.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise SubmissionError(f"{directory} is not a directory; a submission is a directory")
    missing = [name for name in SUBMISSION_FILES if not (directory / name).is_file()]
    if missing:
        raise SubmissionError(
            f"{directory} lacks {', '.join(missing)}; a submission holds "
            f"{', '.join(SUBMISSION_FILES)} (see docs/olympics.md)"
        )
    try:
        data = tomllib.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise SubmissionError(f"{directory / MANIFEST} is not valid TOML: {error}") from None
    manifest = parse_manifest(data)
    limit = get_track(manifest.track).max_code_bytes
    size = (directory / CODE).stat().st_size
    if size > limit:
        raise SubmissionError(
            f"{CODE} is {size} bytes, over the {manifest.track} track's {limit}: keep the "
            f"weights in {WEIGHTS}, not in code"
        )
    return manifest


def parse_manifest(data: dict) -> Manifest:
    """Check the keys of a parsed ``submission.toml`` and return its ``Manifest``."""
    keys = {"track", "division", "name", "techniques"}
    missing, unknown = sorted(keys - set(data)), sorted(set(data) - keys)
    if missing or unknown:
        raise SubmissionError(
            f"{MANIFEST} needs exactly the keys {sorted(keys)}"
            + (f"; missing {missing}" if missing else "")
            + (f"; unknown {unknown}" if unknown else "")
        )
    track, division, name = data["track"], data["division"], data["name"]
    techniques = data["techniques"]
    if track not in TRACKS:
        raise SubmissionError(f"{MANIFEST}: unknown track {track!r}; use one of {list(TRACKS)}")
    if division not in ("closed", "open"):
        raise SubmissionError(f"{MANIFEST}: division is 'closed' or 'open', got {division!r}")
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise SubmissionError(
            f"{MANIFEST}: name must be 1-64 letters, digits, '_', '.' or '-' starting with a "
            f"letter or digit, got {name!r}"
        )
    if not isinstance(techniques, list) or not all(isinstance(t, str) for t in techniques):
        raise SubmissionError(f"{MANIFEST}: techniques is a list of strings, got {techniques!r}")
    try:
        validate_techniques(Division(division), techniques)
    except ValueError as error:
        raise SubmissionError(f"{MANIFEST}: {error}") from None
    return Manifest(track, division, name, tuple(techniques))


def pack_submission(directory: str | Path) -> bytes:
    """The submission's three files as a .tar.gz (flat: no folders), after ``load_manifest``
    checked them. The archive is the same bytes for the same files (times and owners are
    zeroed), so that an upload can be recognised."""
    directory = Path(directory)
    load_manifest(directory)
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as compressed:
        with tarfile.open(fileobj=compressed, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for name in SUBMISSION_FILES:
                data = (directory / name).read_bytes()
                info = tarfile.TarInfo(name)
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def write_submission(
    directory: str | Path,
    model: Module,
    model_code: str,
    *,
    track: str,
    division: str,
    name: str,
    techniques: list[str] | tuple[str, ...] = (),
) -> Manifest:
    """Write a submission: ``submission.toml``, ``model.py`` (the text ``model_code``, which
    must define ``build_model()``) and ``model.pt`` (``model``'s state dict); return its
    checked manifest. The directory is created if needed; its three files are replaced."""
    directory = Path(directory)
    parse_manifest(
        {"track": track, "division": division, "name": name, "techniques": list(techniques)}
    )
    directory.mkdir(parents=True, exist_ok=True)
    lines = [f"{key} = {json.dumps(value)}" for key, value in
             (("track", track), ("division", division), ("name", name),
              ("techniques", list(techniques)))]  # fmt: skip
    (directory / MANIFEST).write_text("\n".join(lines) + "\n", encoding="utf-8")
    (directory / CODE).write_text(model_code, encoding="utf-8")
    tinytorch.save(model.state_dict(), directory / WEIGHTS)
    return load_manifest(directory)
