"""Milestone 05 (2017): a transformer reverses sequences, then learns to answer questions.

    python milestones/05_2017_transformer/transformer.py [--fast] [--output result.json]

Part 1 trains a small GPT to reverse sequences of digits; part 2 trains a character-level GPT
on the TinyTalks training split (ships with TinyTorch) and asks it questions.

Both parts score a model the same way: an answer is right when greedy generation (always the
most likely next token) reproduces it exactly, newline included where there is one. That is
the case exactly when, fed the right answer, the model ranks the right next token first at
every answer position: if it does, each greedy step writes the right token and the next step
sees the same prefix as in training, and the first position where it does not is where
greedy generation goes wrong. So one batched forward pass scores every answer at once.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import tinytorch as torch
from tinytorch import nn
from tinytorch.datasets import TinyTalks
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


def encode_pairs(
    tokenizer: CharTokenizer, pairs: list[tuple[str, str]], answers_only: bool
) -> Batch:
    """Each pair as "Q: question\\nA: answer\\n", padded to the longest. Every next character
    is a target, or with ``answers_only`` only those of the answer and its final newline."""
    rows = []
    for question, answer in pairs:
        prompt, reply = tokenizer.encode(f"Q: {question}\nA: "), tokenizer.encode(f"{answer}\n")
        targets = prompt[1:] + reply
        if answers_only:
            targets[: len(prompt) - 1] = [IGNORE] * (len(prompt) - 1)
        rows.append((prompt + reply, targets))
    width = max(len(ids) for ids, _ in rows) - 1
    ids = [ids[:-1] + [0] * (width - len(ids) + 1) for ids, _ in rows]
    targets = [target + [IGNORE] * (width - len(target)) for _, target in rows]
    return torch.tensor(ids), torch.tensor(targets)  # (N, T) each


def sampler(data: Batch, batch_size: int) -> Callable[[], Batch]:
    """Random batches of rows of ``data``, cut after the last column any of them uses."""
    ids, targets = data
    used = (targets != IGNORE).long() * torch.arange(1, targets.shape[1] + 1)  # (N, T)
    lengths = used.max(dim=1).values  # (N,): columns up to the last target

    def sample() -> Batch:
        rows = torch.randint(0, len(ids), (batch_size,))  # (B,)
        width = int(lengths[rows].max().item())
        return ids[rows][:, :width], targets[rows][:, :width]  # (B, width) each

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
        bar.update(f"loss {loss.item():.4f}")
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


def answer(model: GPT, tokenizer: CharTokenizer, question: str, limit: int = 100) -> str:
    """The model's greedy answer to ``question``: the text it writes up to its first newline."""
    prompt = torch.tensor([tokenizer.encode(f"Q: {question}\nA: ")])  # (1, T)
    written = model.generate(prompt, limit, top_k=1)[0, prompt.shape[1] :]  # top 1: greedy
    return tokenizer.decode(written.tolist()).split("\n")[0]


def talk(fast: bool) -> float:
    """Train a character-level GPT on TinyTalks; the fraction of its training questions it
    answers exactly. Prints its answers to a few held-out questions."""
    talks, held_out = TinyTalks(split="train"), TinyTalks(split="test")
    pairs = talks.pairs[:8] if fast else talks.pairs
    tokenizer = CharTokenizer(talks.text)
    data, answers = (encode_pairs(tokenizer, pairs, only) for only in (False, True))
    config = GPTConfig(vocab_size=tokenizer.vocab_size, block_size=data[0].shape[1],
                       n_layer=2, n_head=4, n_embd=64 if fast else 128)  # fmt: skip
    model = GPT(config)
    train(model, sampler(data, 8 if fast else 32), 200 if fast else 700, 3e-3, "TinyTalks")
    print(" Questions it has never seen, one of each level (it memorised; it did not generalise):")
    for level in (1, 2) if fast else (1, 2, 3, 4):
        question, expected = held_out.pairs[held_out.levels.index(level)]
        print(f" Q: {question}\n A: {answer(model, tokenizer, question)}\n (expected: {expected})")
    return exact_fraction(model, answers)


def run(fast: bool = False, data_dir: str | None = None) -> dict:
    """Reversal: 100% exact (fast: 4 digits); TinyTalks: >= 80% of the training answers exact
    (fast: 8 pairs, >= 75%)."""
    tell_story("2017", "Attention is all you need", STORY)
    torch.manual_seed(2017)
    start = time.perf_counter()
    reversal = reverse_digits(fast)
    talks = talk(fast)
    checks = [
        Check(f"reverse {4 if fast else 8} digits, exact", reversal, target=1.0),
        Check(f"TinyTalks, {8 if fast else 272} answers exact", talks, 0.75 if fast else 0.8),
    ]
    return report(SLUG, checks, time.perf_counter() - start, fast)


if __name__ == "__main__":
    sys.exit(main(run, SLUG, __doc__))
