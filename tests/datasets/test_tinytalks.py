"""TinyTalks: its splits, levels and families are what its datasheet says."""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from importlib import resources
from pathlib import Path

import pytest

from tinytorch.datasets import TinyTalks

SPLITS = ("train", "validation", "test")
BUILD = Path(__file__).parents[2] / "datasets" / "tinytalks" / "build.py"


@pytest.fixture(scope="module")
def splits() -> dict[str, TinyTalks]:
    return {name: TinyTalks(split=name) for name in SPLITS}


def test_counts_by_split_and_level(splits):
    assert {name: len(split) for name, split in splits.items()} == {
        "train": 747,
        "validation": 79,
        "test": 79,
    }
    assert Counter(splits["train"].levels) == {1: 129, 2: 326, 3: 48, 4: 244}
    for name in ("validation", "test"):
        assert Counter(splits[name].levels) == {1: 9, 2: 35, 3: 6, 4: 29}


def test_every_question_is_asked_once(splits):
    questions = [question for split in splits.values() for question, _ in split.pairs]
    assert len(set(questions)) == len(questions)


def test_held_out_questions_have_siblings_in_training(splits):
    """Single pairs are all in train; every held-out pair's family has members in train."""
    in_training = Counter(family for family in splits["train"].families if family)
    assert splits["train"].families.count(None) == 135
    for name in ("validation", "test"):
        families = splits[name].families
        assert None not in families
        assert all(in_training[family] >= 5 for family in families), name


def test_training_text_holds_every_character_of_the_other_splits(splits):
    alphabet = set(splits["train"].text)
    for name in ("validation", "test"):
        assert set(splits[name].text) <= alphabet, name


def test_corpus_format_level_filter_and_bad_split(splits):
    question, answer = splits["train"][0]
    assert splits["train"].text.startswith(f"Q: {question}\nA: {answer}\n\nQ: ")
    assert splits["train"].level_names[3] == "arithmetic"
    arithmetic = TinyTalks(split="train", levels=[3])
    assert len(arithmetic) == 48
    assert arithmetic.levels == [3] * 48
    assert all(" plus " in q or " minus " in q or " times " in q for q, _ in arithmetic.pairs)
    with pytest.raises(ValueError, match="split must be one of"):
        TinyTalks(split="dev")


def test_the_shipped_file_is_what_the_build_script_writes():
    spec = importlib.util.spec_from_file_location("tinytalks_build", BUILD)
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    shipped = resources.files("tinytorch.datasets").joinpath("data/tinytalks.json").read_text()
    rebuilt = json.loads(json.dumps(build.build()))  # as JSON: level numbers become strings
    assert json.loads(shipped) == rebuilt
