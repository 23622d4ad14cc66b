"""Build TinyTalks (``tinytorch/datasets/data/tinytalks.json``) from ``pairs.txt``.

``pairs.txt`` holds the hand-written pairs (levels 1, 2 and 4); this script adds generated
arithmetic (level 3) and number comparisons (level 4), then splits every level 80/10/10 into
train, validation and test with a fixed seed, so each run writes the same file::

    python datasets/tinytalks/build.py
"""

from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUTPUT = HERE.parents[1] / "tinytorch" / "datasets" / "data" / "tinytalks.json"
LEVELS = {1: "greetings", 2: "simple facts", 3: "arithmetic", 4: "reasoning"}
SEED = 2024
Pair = dict[str, object]


def read_pairs(path: Path) -> list[Pair]:
    """The pairs of ``path``: a ``# Level N: name`` line sets the level of the pairs after it."""
    pairs: list[Pair] = []
    level = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# Level "):
            level = int(line.removeprefix("# Level ").split(":")[0])
        elif line.startswith("Q: "):
            pairs.append({"level": level, "question": line[3:]})
        elif line.startswith("A: "):
            pairs[-1]["answer"] = line[3:]
    return pairs


def arithmetic_pairs(rng: random.Random) -> list[Pair]:
    """100 distinct sums, differences and products of small numbers (level 3)."""
    operations = [
        ("plus", lambda a, b: a + b, 40, range(0, 21)),
        ("minus", lambda a, b: a - b, 30, range(0, 21)),
        ("times", lambda a, b: a * b, 30, range(1, 11)),
    ]
    pairs: list[Pair] = []
    for word, apply, count, numbers in operations:
        seen: set[tuple[int, int]] = set()
        while len(seen) < count:
            a, b = rng.choice(numbers), rng.choice(numbers)
            if (word == "minus" and a < b) or (a, b) in seen:
                continue
            seen.add((a, b))
            question, answer = f"What is {a} {word} {b}?", f"{a} {word} {b} is {apply(a, b)}."
            pairs.append({"level": 3, "question": question, "answer": answer})
    return pairs


def comparison_pairs(rng: random.Random, count: int = 30) -> list[Pair]:
    """``count`` distinct "which is bigger" questions about numbers below 100 (level 4)."""
    seen: set[tuple[int, int]] = set()
    pairs: list[Pair] = []
    while len(pairs) < count:
        a, b = rng.sample(range(100), 2)
        if (a, b) in seen:
            continue
        seen.add((a, b))
        answer = f"{max(a, b)} is bigger than {min(a, b)}."
        pairs.append({"level": 4, "question": f"Which is bigger, {a} or {b}?", "answer": answer})
    return pairs


def split(pairs: list[Pair], rng: random.Random) -> dict[str, list[Pair]]:
    """Shuffle each level, then give 10% to validation, 10% to test and the rest to train."""
    splits: dict[str, list[Pair]] = {"train": [], "validation": [], "test": []}
    for level in LEVELS:
        of_level = [pair for pair in pairs if pair["level"] == level]
        rng.shuffle(of_level)
        tenth = round(len(of_level) / 10)
        splits["validation"] += of_level[:tenth]
        splits["test"] += of_level[tenth : 2 * tenth]
        splits["train"] += of_level[2 * tenth :]
    return splits


def main() -> None:
    rng = random.Random(SEED)
    pairs = read_pairs(HERE / "pairs.txt") + arithmetic_pairs(rng) + comparison_pairs(rng)
    questions = [pair["question"] for pair in pairs]
    assert len(set(questions)) == len(questions), "every question must be asked once"
    assert all("answer" in pair for pair in pairs), "every question needs an answer"
    dataset = {"name": "TinyTalks", "version": 1, "levels": LEVELS, **split(pairs, rng)}
    OUTPUT.write_text(json.dumps(dataset, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    counts = {name: len(dataset[name]) for name in ("train", "validation", "test")}
    print(f"wrote {OUTPUT}: {len(pairs)} pairs {counts}")


if __name__ == "__main__":
    main()
