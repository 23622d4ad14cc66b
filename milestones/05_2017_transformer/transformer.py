"""Milestone 05 (2017): a transformer reverses sequences, then learns to answer questions.

    python milestones/05_2017_transformer/transformer.py [--fast] [--output result.json]

Part 1 trains a small GPT to reverse sequences of digits; part 2 trains a character-level GPT
on the TinyTalks training split (ships with TinyTorch), then asks it every question of the test
split, which it has never seen.

Known answers are scored exactly: an answer is right when greedy generation (always the most
likely next token) reproduces it exactly, newline included where there is one. That is the
case exactly when, fed the right answer, the model ranks the right next token first at every
answer position: if it does, each greedy step writes the right token and the next step sees
the same prefix as in training, and the first position where it does not is where greedy
generation goes wrong. So one batched forward pass scores every answer at once.

New questions have no answer the model could know for sure, so their answers are generated for
real and scored for readability (see ``readable_fraction``): finished, and written in words.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Sequence

import tinytorch as torch
from tinytorch import nn
from tinytorch.datasets import TinyTalks
from tinytorch.datasets.tinytalks import format_pair, format_prompt
from tinytorch.milestones.harness import Check, main, progress_bar, report, tell_story
from tinytorch.models import GPT, GPTConfig
from tinytorch.text import CharTokenizer

SLUG = "05_2017_transformer"
STORY = """
    In 2017 Ashish Vaswani and seven colleagues at Google published "Attention Is All You
    Need". Their transformer dropped recurrence: every position of a sequence looks at every
    other position at once through attention, a weighted average whose weights come from how
    well a query matches each key. Training became parallel over the whole sequence.

    Stacks of transformer blocks became GPT, BERT and the large language models that followed.
    Here a small GPT, built on your embeddings, attention and layer norm, first learns to
    reverse digits, then learns to answer questions one character at a time.
"""
IGNORE = -1  # target of the positions that are not scored (GPT's cross-entropy skips them)
SEPARATOR = 10  # token between a sequence of digits (tokens 0-9) and its reversal
FAST_FAMILY = "Is {1} even or odd?"  # the one family of TinyTalks questions fast mode learns
WORD = re.compile(r"[a-z0-9]+")  # a word: a run of letters and digits, once lower-cased
Batch = tuple[torch.Tensor, torch.Tensor]  # token ids (B, T), next-token targets (B, T)


def reversal_batch(count: int, length: int) -> Batch:
    """``count`` random digit sequences: ids "d1..dL SEP dL..d2", targets "dL..d1" at the end."""
    digits = torch.randint(0, 10, (count, length))  # (B, L)
    reversed_digits = digits[:, torch.arange(length - 1, -1, -1)]  # (B, L)
    separator = torch.full((count, 1), SEPARATOR, dtype=torch.long)  # (B, 1)
    sequence = torch.cat((digits, separator, reversed_digits), dim=1)  # (B, 2L + 1)
    targets = sequence[:, 1:].clone()  # (B, 2L): the token after each position
    targets[:, :length] = IGNORE  # the input digits are random: nothing to learn there
    return sequence[:, :-1], targets


def encode_answers(tokenizer: CharTokenizer, pairs: list[tuple[str, str]]) -> Batch:
    """Each pair as "Q: question\\nA: answer\\n", padded to the longest, with only the
    characters of the answer and its final newline as targets."""
    rows = []
    for question, answer in pairs:
        prompt, reply = tokenizer.encode(format_prompt(question)), tokenizer.encode(f"{answer}\n")
        rows.append((prompt + reply, [IGNORE] * (len(prompt) - 1) + reply))
    width = max(len(ids) for ids, _ in rows) - 1
    ids = [ids[:-1] + [0] * (width - len(ids) + 1) for ids, _ in rows]
    targets = [target + [IGNORE] * (width - len(target)) for _, target in rows]
    return torch.tensor(ids), torch.tensor(targets)  # (N, T) each


def packed_sampler(
    tokenizer: CharTokenizer, pairs: list[tuple[str, str]], batch_size: int, width: int
) -> Callable[[], Batch]:
    """Batches of ``batch_size`` rows of ``width`` characters, every character a target. Each
    row is pairs drawn at random, written one after another and cut at ``width``: no padding,
    and a pair starts at many different positions, so the model cannot tie an answer to where
    it stands; it has to find what it needs in the question by its content."""
    encoded = [tokenizer.encode(format_pair(question, answer)) for question, answer in pairs]

    def sample() -> Batch:
        rows = []
        for _ in range(batch_size):
            row: list[int] = []
            while len(row) <= width:
                row += encoded[int(torch.randint(0, len(encoded), (1,)).item())]
            rows.append(row[: width + 1])
        tokens = torch.tensor(rows)  # (B, width + 1)
        return tokens[:, :-1], tokens[:, 1:]  # (B, width) each: a character and the next

    return sample


def train(model: GPT, sample: Callable[[], Batch], steps: int, lr: float, label: str) -> None:
    """AdamW with a one-cycle learning rate and gradient clipping, one bar step per step."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps)
    bar = progress_bar(steps, label)
    model.train()
    for _ in range(steps):
        ids, targets = sample()
        optimizer.zero_grad()
        _, loss = model(ids, targets)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        bar.record("loss", loss.item())
    bar.close(f"loss {loss.item():.4f}")
    model.eval()


def exact_fraction(model: GPT, data: Batch) -> float:
    """The fraction of rows whose every target is the model's top next token (see above)."""
    ids, targets = data
    with torch.no_grad():
        logits, _ = model(ids)  # (N, T, V)
    wrong = (logits.argmax(dim=-1) != targets) & (targets != IGNORE)  # (N, T)
    return (wrong.sum(dim=1) == 0).float().mean().item()


def reverse_digits(fast: bool) -> float:
    """Train a GPT to reverse digit sequences; its exact accuracy on 1,000 new sequences."""
    length = 4 if fast else 8
    config = GPTConfig(vocab_size=11, block_size=2 * length, n_layer=2, n_head=4, n_embd=64)
    model = GPT(config)
    train(model, lambda: reversal_batch(64, length), 150 if fast else 300, 3e-3, "reversal")
    return exact_fraction(model, reversal_batch(1000, length))


def greedy_answers(
    model: GPT, tokenizer: CharTokenizer, questions: Sequence[str]
) -> list[str | None]:
    """The model's greedy answer to each question: what it writes after "A: " up to its first
    newline, or None if it fills its context (``block_size``) first.

    All questions are answered side by side, one character per step. Rows of different
    lengths are padded on the right, which causal attention cannot see, so each row's logits
    at its own last position are the ones ``GPT.generate(..., top_k=1)`` would use."""
    newline = tokenizer.encode("\n")[0]
    prompts = [tokenizer.encode(format_prompt(question)) for question in questions]
    rows = [list(prompt) for prompt in prompts]
    answers: list[str | None] = [None] * len(questions)
    writing = list(range(len(questions)))  # the rows that have not finished
    while writing:
        width = max(len(rows[i]) for i in writing)
        ids = torch.tensor([rows[i] + [0] * (width - len(rows[i])) for i in writing])  # (N, W)
        last = torch.tensor([len(rows[i]) - 1 for i in writing])  # (N,)
        with torch.no_grad():
            logits, _ = model(ids)  # (N, W, V)
        best = logits[torch.arange(len(writing)), last].argmax(dim=-1).tolist()  # (N,)
        still_writing = []
        for i, token in zip(writing, best):
            if token == newline:
                answers[i] = tokenizer.decode(rows[i][len(prompts[i]) :])
                continue
            rows[i].append(token)
            if len(rows[i]) < model.config.block_size:  # room to read it and write one more
                still_writing.append(i)
        writing = still_writing
    return answers


def words(text: str) -> set[str]:
    """The words of ``text``: its runs of letters and digits, lower-cased ("Hi, Ann!" ->
    {"hi", "ann"})."""
    return set(WORD.findall(text.lower()))


def readable(question: str, answer: str | None, known: set[str]) -> bool:
    """Whether ``answer`` is readable: finished (the model wrote its newline within its
    context, so the answer is not None), with at least one word, and every word a number or a
    word of ``known`` (the words of the training text) or of its own ``question``.

    This measures spelling, not truth: "It is blue." answers "What color is a frog?" readably;
    "It is bleen." does not."""
    if answer is None:
        return False
    written = words(answer)
    unknown = [word for word in written - known - words(question) if not word.isdigit()]
    return len(written) > 0 and not unknown


def readable_fraction(
    questions: Sequence[str], answers: Sequence[str | None], known: set[str]
) -> float:
    """The fraction of ``answers`` (to ``questions``) that are ``readable``."""
    verdicts = [readable(q, answer, known) for q, answer in zip(questions, answers)]
    return sum(verdicts) / len(verdicts)


def show(pairs: Sequence[tuple[str, str]], replies: Sequence[str | None], count: int) -> None:
    """Print the first ``count`` questions with the model's reply and the expected answer."""
    for (question, expected), reply in list(zip(pairs, replies))[:count]:
        written = "(no newline: unfinished)" if reply is None else reply
        print(f" Q: {question}\n A: {written}\n    (expected: {expected})")


def of_family(talks: TinyTalks, family: str) -> list[tuple[str, str]]:
    """The pairs of ``talks`` whose family (question template) is ``family``."""
    return [pair for pair, its_family in zip(talks.pairs, talks.families) if its_family == family]


def talk(fast: bool) -> tuple[float, float]:
    """Train a character-level GPT on TinyTalks; return the fraction of its training questions
    it answers exactly, and the fraction of its answers to the test questions (which it has
    never seen) that are readable. Fast mode learns one family of questions only."""
    train_split, test_split = TinyTalks(split="train"), TinyTalks(split="test")
    pairs, new_pairs = train_split.pairs, test_split.pairs
    if fast:
        pairs, new_pairs = of_family(train_split, FAST_FAMILY), of_family(test_split, FAST_FAMILY)
    tokenizer = CharTokenizer(train_split.text)
    answers = encode_answers(tokenizer, pairs)
    width = answers[0].shape[1] + 1  # the longest pair, in characters
    config = GPTConfig(vocab_size=tokenizer.vocab_size, block_size=width,
                       n_layer=2, n_head=4, n_embd=64 if fast else 128)  # fmt: skip
    model = GPT(config)
    sample = packed_sampler(tokenizer, pairs, 8 if fast else 16, width)
    start = time.perf_counter()
    train(model, sample, 500 if fast else 2000, 3e-3, "TinyTalks")
    print(f" TinyTalks: trained in {time.perf_counter() - start:.1f} s.")
    questions = [question for question, _ in new_pairs]
    replies = greedy_answers(model, tokenizer, questions)
    right = sum(reply == expected for reply, (_, expected) in zip(replies, new_pairs))
    print(f" {len(questions)} questions it has never seen (the test split); the first few:")
    show(new_pairs, replies, 4 if fast else 8)
    print(f" Exactly right: {right} of {len(questions)}. Each shares its pattern with training")
    print(" questions, and the model answers in their words; a fact it has never read, it can")
    print(" only guess.")
    known = words("".join(format_pair(question, answer) for question, answer in pairs))
    return exact_fraction(model, answers), readable_fraction(questions, replies, known)


def run(fast: bool = False, data_dir: str | None = None) -> dict:
    """Reversal: 100% exact (fast: 4 digits); TinyTalks: >= 80% of the training answers exact
    and >= 85% of the answers to new questions readable (fast: the family "Is 14 even or
    odd?" only, >= 75% readable)."""
    tell_story("2017", "Attention is all you need", STORY)
    torch.manual_seed(2017)
    start = time.perf_counter()
    reversal = reverse_digits(fast)
    reversal_seconds = time.perf_counter() - start
    print(f" Reversal: trained and tested in {reversal_seconds:.1f} s.\n")
    exact, new_readable = talk(fast)
    checks = [
        Check(f"reverse {4 if fast else 8} digits, exact", reversal, target=1.0),
        Check("TinyTalks, known answers exact", exact, 0.8),
        Check("TinyTalks, new answers readable", new_readable, 0.75 if fast else 0.85),
    ]
    seconds = time.perf_counter() - start
    return report(SLUG, checks, seconds, fast, reversal_seconds=round(reversal_seconds, 3))


if __name__ == "__main__":
    sys.exit(main(run, SLUG, __doc__))
