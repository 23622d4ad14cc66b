"""TinyTalks: 905 short questions and answers for training character-level language models.

Written for TinyTorch, in four levels of difficulty: greetings, simple facts, arithmetic and
reasoning. Most pairs come in families that share one pattern ("What color is a lime?", "What
color is a frog?", ...); each family is split 80/10/10, so every question of the validation
and test splits has siblings in the training split. Built by ``datasets/tinytalks/build.py``;
see ``datasets/tinytalks/DATASHEET.md``. Example::

    >>> talks = TinyTalks(split="train")
    >>> talks[0]
    ('What is 6 times 5?', '6 times 5 is 30.')
    >>> talks.families[0]               # the question template it shares with its siblings
    'What is {1} times {2}?'
    >>> print(talks.text[:41])          # the corpus a language model reads
    Q: What is 6 times 5?
    A: 6 times 5 is 30.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from importlib import resources

from tinytorch.utils.data import Dataset

SPLITS = ("train", "validation", "test")


def format_prompt(question: str) -> str:
    """What a model reads before it answers: ``"Q: <question>\\nA: "``."""
    return f"Q: {question}\nA: "


def format_pair(question: str, answer: str) -> str:
    """One pair as the corpus writes it: ``"Q: <question>\\nA: <answer>\\n"``."""
    return f"{format_prompt(question)}{answer}\n"


class TinyTalks(Dataset):
    """The question-answer pairs of one split; ``dataset[i]`` is ``(question, answer)``.

    Args:
        split: ``"train"`` (747 pairs), ``"validation"`` (79) or ``"test"`` (79).
        levels: keep only these difficulty levels (1 greetings, 2 simple facts,
            3 arithmetic, 4 reasoning); all by default.

    Attributes:
        pairs: the ``(question, answer)`` tuples.
        levels: the level of each pair.
        families: the family of each pair: the question template it shares with its siblings
            (``"What color is {1}?"``), or None for a pair written on its own.
        text: every pair formatted by ``format_pair``, separated by blank lines.
        level_names: level number -> name.
    """

    def __init__(self, split: str = "train", levels: Iterable[int] | None = None) -> None:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        source = resources.files("tinytorch.datasets").joinpath("data/tinytalks.json")
        dataset = json.loads(source.read_text(encoding="utf-8"))
        wanted = set(levels) if levels is not None else None
        records = [r for r in dataset[split] if wanted is None or r["level"] in wanted]
        self.pairs = [(record["question"], record["answer"]) for record in records]
        self.levels = [record["level"] for record in records]
        self.families = [record["family"] for record in records]
        self.level_names = {int(number): name for number, name in dataset["levels"].items()}

    @property
    def text(self) -> str:
        """The corpus: ``"Q: ...\\nA: ...\\n"`` for every pair, with a blank line between."""
        return "\n".join(format_pair(question, answer) for question, answer in self.pairs)

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> tuple[str, str]:
        return self.pairs[index]
