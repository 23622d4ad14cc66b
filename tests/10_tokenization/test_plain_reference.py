"""Module 10 against a plain reference: byte-pair encoding recounted from scratch each merge.

No PyTorch needed. The package keeps pair counts up to date word by word and encodes a word
by repeatedly merging its earliest-learned pair; the reference below recounts every pair
before each merge (the most frequent pair, the smallest on ties, while one occurs twice) and
encodes a word by applying the merges one after the other in training order, which gives
the same tokens.
"""

from collections import Counter

import pytest

from tinytorch.text import BPETokenizer
from tinytorch.text.bpe import WORD_PATTERN, learn_merges

pytestmark = pytest.mark.module10

CORPUS = "low lower lowest newer wider new news. the cat sat; the hat! éé ß 日本 " * 3


def merge_all(word: list[int], pair: tuple[int, int], new_id: int) -> list[int]:
    out, i = [], 0
    while i < len(word):
        if tuple(word[i : i + 2]) == pair:
            out.append(new_id)
            i += 2
        else:
            out.append(word[i])
            i += 1
    return out


def reference_merges(word_counts: dict[str, int], num_merges: int) -> list[tuple[int, int]]:
    words = {word: list(word.encode("utf-8")) for word in word_counts}
    merges = []
    for _ in range(num_merges):
        pairs = Counter()
        for word, ids in words.items():
            for pair in zip(ids, ids[1:]):
                pairs[pair] += word_counts[word]
        if not pairs or max(pairs.values()) < 2:
            break
        best = min(pair for pair, count in pairs.items() if count == max(pairs.values()))
        merges.append(best)
        words = {word: merge_all(ids, best, 256 + len(merges) - 1) for word, ids in words.items()}
    return merges


def test_learned_merges_match_the_recounting_reference() -> None:
    word_counts = Counter(WORD_PATTERN.findall(CORPUS))
    for num_merges in (1, 5, 40, 1000):  # 1000: stops when no pair occurs twice
        assert learn_merges(dict(word_counts), num_merges) == reference_merges(
            word_counts, num_merges
        )


def test_encoding_applies_the_merges_in_training_order() -> None:
    tokenizer = BPETokenizer.train(CORPUS, vocab_size=300, special_tokens=[])
    merges = reference_merges(Counter(WORD_PATTERN.findall(CORPUS)), 300 - 256)
    text = "the newest lower cat, ß日本 unseen"
    expected = []
    for word in WORD_PATTERN.findall(text):
        ids = list(word.encode("utf-8"))
        for rank, pair in enumerate(merges):
            ids = merge_all(ids, pair, 256 + rank)
        expected += ids
    assert tokenizer.encode(text) == expected
    assert tokenizer.decode(expected) == text
