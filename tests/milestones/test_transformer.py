"""Milestone 05's TinyTalks scoring: readable answers, batched greedy answers, packed batches."""

from __future__ import annotations

import importlib.util

import pytest

import tinytorch as torch
from tinytorch.datasets import TinyTalks
from tinytorch.datasets.tinytalks import format_prompt
from tinytorch.milestones import milestones_dir
from tinytorch.models import GPT, GPTConfig
from tinytorch.text import CharTokenizer

pytestmark = pytest.mark.milestone


@pytest.fixture(scope="module")
def milestone():
    """The milestone script as a module (its ``__main__`` block does not run)."""
    path = milestones_dir() / "05_2017_transformer" / "transformer.py"
    spec = importlib.util.spec_from_file_location("transformer_milestone", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tokenizer() -> CharTokenizer:
    return CharTokenizer(TinyTalks(split="train").text)


def tiny_gpt(tokenizer: CharTokenizer, block_size: int = 64) -> GPT:
    config = GPTConfig(vocab_size=tokenizer.vocab_size, block_size=block_size,
                       n_layer=1, n_head=2, n_embd=16)  # fmt: skip
    return GPT(config).eval()


def test_words_are_lower_cased_runs_of_letters_and_digits(milestone):
    assert milestone.words("Hi, Ann! 7 times 8 is 56.") == {
        "hi",
        "ann",
        "7",
        "times",
        "8",
        "is",
        "56",
    }


@pytest.mark.parametrize(
    ("answer", "readable"),
    [
        ("It is green.", True),
        ("Hello, Priya! It is nice.", True),  # "Priya" is a word of its question
        ("It is 73.", True),  # a number is always a word
        ("It is greeen.", False),  # a misspelt word
        ("It is 7e.", False),
        ("Ti si nereg.", False),  # letters, not words
        ("?!", False),  # no word at all
        ("", False),
        (None, False),  # no newline before the context was full
    ],
)
def test_readable_answers(milestone, answer, readable):
    known = milestone.words("Q: What color is a frog?\nA: It is green, nice.\n")
    question = "Hello, I am Priya."
    assert milestone.readable_fraction([question], [answer], known) == float(readable)


def test_readable_fraction_counts_every_answer(milestone):
    known = {"it", "is", "blue"}
    fraction = milestone.readable_fraction(
        ["Q1", "Q2", "Q3", "Q4"], ["It is blue."] * 3 + ["x"], known
    )
    assert fraction == 0.75


def test_greedy_answers_match_generate_with_top_1(milestone, tokenizer):
    """Answering side by side, padded on the right, writes what GPT.generate writes alone."""
    model = tiny_gpt(tokenizer)
    questions = ["Hi.", "What color is a frog?", "Is 14 even or odd?"]
    newline = tokenizer.encode("\n")[0]
    for question, answer in zip(questions, milestone.greedy_answers(model, tokenizer, questions)):
        prompt = torch.tensor([tokenizer.encode(format_prompt(question))])  # (1, T)
        room = model.config.block_size - prompt.shape[1]
        written = model.generate(prompt, room, top_k=1)[0, prompt.shape[1] :].tolist()
        if newline in written:
            assert answer == tokenizer.decode(written[: written.index(newline)])
        else:
            assert answer is None  # the context filled up before a newline


def test_an_untrained_model_does_not_write_readable_answers(milestone, tokenizer):
    """The check can fail: a model that writes random letters scores (close to) zero."""
    talks, new = TinyTalks(split="train"), TinyTalks(split="test")
    questions = [question for question, _ in new.pairs[:20]]
    replies = milestone.greedy_answers(tiny_gpt(tokenizer, 100), tokenizer, questions)
    assert milestone.readable_fraction(questions, replies, milestone.words(talks.text)) < 0.2


def test_packed_batches_are_whole_pairs_one_after_another(milestone, tokenizer):
    pairs = [("Hi.", "Hello!"), ("Is 3 odd?", "Yes.")]
    formatted = [f"Q: {question}\nA: {answer}\n" for question, answer in pairs]
    ids, targets = milestone.packed_sampler(tokenizer, pairs, batch_size=4, width=50)()
    assert ids.shape == targets.shape == (4, 50)
    assert (ids[:, 1:] == targets[:, :-1]).all().item()  # a target is the next character
    for row, last in zip(ids.tolist(), targets[:, -1].tolist()):
        text = tokenizer.decode([*row, last])  # 51 characters: pairs, the last one cut
        while text:
            match = [pair for pair in formatted if text.startswith(pair) or pair.startswith(text)]
            assert match, text
            text = text[len(match[0]) :]


def test_answer_targets_cover_the_answer_and_its_newline_only(milestone, tokenizer):
    ids, targets = milestone.encode_answers(tokenizer, [("Hi.", "Hello!"), ("Is 3 odd?", "Yes.")])
    assert ids.shape == targets.shape
    scored = [
        tokenizer.decode([t for t in row if t != milestone.IGNORE]) for row in targets.tolist()
    ]
    assert scored == ["Hello!\n", "Yes.\n"]
