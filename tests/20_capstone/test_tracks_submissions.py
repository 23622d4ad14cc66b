"""Tracks, submission manifests and archives, judging and ranking (module 20)."""

from __future__ import annotations

import dataclasses
import io
import math
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest

import tinytorch
from tinytorch.olympics.measure import sequence_bits
from tinytorch.olympics.results import format_table, judge, rank
from tinytorch.olympics.submission import (
    SUBMISSION_FILES,
    SubmissionError,
    load_manifest,
    pack_submission,
)
from tinytorch.olympics.tracks import TRACKS, Track, get_track

pytestmark = pytest.mark.module20


def test_the_four_tracks_and_their_scores() -> None:
    assert list(TRACKS) == ["vision", "language", "speed", "compression"]
    metrics = {name: (track.metric, track.higher_is_better) for name, track in TRACKS.items()}
    assert metrics == {
        "vision": ("accuracy", True),
        "language": ("bits_per_character", False),
        "speed": ("p90_ms", False),
        "compression": ("size_bytes", False),
    }
    assert get_track("speed").floor_for("mnist") == 0.98
    assert get_track("compression").floor_for("tinydigits") == 0.95


def test_unknown_track_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="vision, language, speed, compression"):
        get_track("marathon")
    with pytest.raises(ValueError, match="not 'cifar10'"):
        get_track("speed").floor_for("cifar10")


def test_track_cost_is_configurable_and_checked() -> None:
    quick = dataclasses.replace(get_track("speed"), latency_queries=32)
    assert quick.latency_queries == 32 and get_track("speed").latency_queries == 1024
    assert Track.from_dict(quick.to_dict()) == quick
    with pytest.raises(ValueError, match="latency_queries must be positive"):
        dataclasses.replace(quick, latency_queries=0)
    with pytest.raises(ValueError, match="unknown keys"):
        Track.from_dict(dict(quick.to_dict(), speed_of_light=1))
    assert any("98%" in rule for rule in get_track("speed").rules())


def write_manifest(directory: Path, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "submission.toml").write_text(text)
    (directory / "model.py").write_text("def build_model(): ...\n")
    (directory / "model.pt").write_bytes(b"weights")
    return directory


GOOD = 'track = "speed"\ndivision = "closed"\nname = "ada-int8"\ntechniques = ["calibration"]\n'


def test_a_good_manifest_loads(tmp_path: Path) -> None:
    manifest = load_manifest(write_manifest(tmp_path / "s", GOOD))
    assert (manifest.track, manifest.division, manifest.name) == ("speed", "closed", "ada-int8")
    assert manifest.techniques == ("calibration",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("track = ", "not valid TOML"),
        (GOOD.replace('name = "ada-int8"\n', ""), "missing \\['name'\\]"),
        (GOOD + "score = 1.0\n", "unknown \\['score'\\]"),
        (GOOD.replace('"speed"', '"marathon"'), "unknown track 'marathon'"),
        (GOOD.replace('"closed"', '"premier"'), "division is 'closed' or 'open'"),
        (GOOD.replace("ada-int8", "../etc"), "name must be"),
        (GOOD.replace('"calibration"', '"pruning"'), "closed division forbids \\['pruning'\\]"),
        (GOOD.replace('"calibration"', '"magic"'), "unknown techniques \\['magic'\\]"),
        (GOOD.replace('["calibration"]', '"calibration"'), "techniques is a list of strings"),
    ],
)
def test_bad_manifests_are_refused_with_the_reason(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SubmissionError, match=message):
        load_manifest(write_manifest(tmp_path / "s", text))


def test_missing_files_and_code_size_are_checked(tmp_path: Path) -> None:
    directory = write_manifest(tmp_path / "s", GOOD)
    (directory / "model.pt").unlink()
    with pytest.raises(SubmissionError, match="lacks model.pt"):
        load_manifest(directory)
    (directory / "model.pt").write_bytes(b"weights")
    (directory / "model.py").write_text("W = [" + "0.5, " * 10_000 + "]\n")
    with pytest.raises(SubmissionError, match="keep the weights in model.pt"):
        load_manifest(directory)


def test_pack_holds_exactly_the_submission_files(tmp_path: Path) -> None:
    directory = write_manifest(tmp_path / "s", GOOD)
    (directory / "notes.txt").write_text("not part of the submission")
    archive = pack_submission(directory)
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        members = tar.getmembers()
        assert [member.name for member in members] == list(SUBMISSION_FILES)
        assert all(member.isfile() for member in members)
        assert tar.extractfile("model.pt").read() == b"weights"
    copy = tmp_path / "copy"
    shutil.copytree(directory, copy)
    assert pack_submission(copy) == archive  # the same files give the same bytes


def test_judge_applies_the_floor_and_refuses_non_finite_numbers() -> None:
    speed = get_track("speed")
    assert judge(speed, 0.99, 1.5, floor=0.98) is None
    assert "below the speed track's floor of 98.00%" in judge(speed, 0.9, 1.5, floor=0.98)
    assert "not a finite number" in judge(speed, 0.99, math.nan, floor=0.98)
    assert "not a finite number" in judge(speed, math.inf, 1.0, floor=0.0)


def entry(name: str, score: float, division: str = "open", valid: bool = True) -> dict:
    return {"name": name, "score": score, "division": division, "valid": valid,
            "techniques": [], "accuracy": 0.99, "p90_ms": 1.0, "size_bytes": 1000}  # fmt: skip


def test_rank_orders_each_division_by_the_tracks_score_with_ties() -> None:
    entries = [entry("slow", 3.0), entry("fast", 1.0), entry("tie", 2.0), entry("tie2", 2.0),
               entry("closed", 5.0, "closed"), entry("broken", 0.1, valid=False)]  # fmt: skip
    ranked = rank(get_track("speed"), entries)
    assert [(e["name"], e["rank"]) for e in ranked] == [
        ("closed", 1), ("fast", 1), ("tie", 2), ("tie2", 2), ("slow", 4), ("broken", None),
    ]  # fmt: skip
    by_accuracy = rank(get_track("vision"), [entry("low", 0.5), entry("high", 0.9)])
    assert [e["name"] for e in by_accuracy] == ["high", "low"]
    assert entries[0].get("rank") is None  # entries are copied, not changed


def test_table_shows_rank_score_and_the_reason_for_invalid() -> None:
    broken = dict(entry("broken", 0.1, valid=False), error="accuracy 50% is below the floor")
    table = format_table(get_track("compression"), rank(get_track("compression"),
                         [entry("tiny", 2048), broken]))  # fmt: skip
    lines = table.splitlines()
    assert lines[0] == "compression track"
    assert "size_bytes (bytes)" in lines[1]
    assert lines[3].split()[:4] == ["1", "tiny", "open", "2,048"]
    assert lines[4].split()[:2] == ["-", "broken"]
    assert "invalid: accuracy 50% is below the floor" in lines[5]


def test_sequence_bits_of_a_uniform_model_is_log2_v_per_token() -> None:
    logits = tinytorch.zeros(7, 16)
    assert sequence_bits(logits, tinytorch.tensor([3, 1, 4, 1, 5, 9, 2])) == pytest.approx(28.0)
    sure = tinytorch.tensor(np.where(np.eye(3), 50.0, -50.0).astype(np.float32))
    assert sequence_bits(sure, tinytorch.tensor([0, 1, 2])) == pytest.approx(0.0, abs=1e-6)
    half = tinytorch.tensor([[0.0, 0.0, -1e9]])
    assert sequence_bits(half, tinytorch.tensor([1])) == pytest.approx(1.0, abs=1e-6)
