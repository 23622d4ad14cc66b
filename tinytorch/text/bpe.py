"""Byte-level byte-pair encoding (BPE), the tokenizer family of GPT-2 and its successors.

**Bytes first.** Text is encoded as UTF-8 bytes, so the 256 byte values are the first 256
tokens and every string, emoji and CJK included, round-trips exactly: no ``<unk>`` ever.

**Training** learns *merges*: repeatedly find the most frequent pair of adjacent tokens and
replace it everywhere by one new token. On the string ``"aaabdaaabac"``:

========================  ==============================  ============
tokens                    most frequent pair (count)      new token
========================  ==============================  ============
``a a a b d a a a b a c``  ``(a, a)``: 4                   ``Z = aa``
``Z a b d Z a b a c``      ``(a, b)``: 2 (ties with Za)    ``Y = ab``
``Z Y d Z Y a c``          ``(Z, Y)``: 2                   ``X = ZY``
``X d X a c``              every pair occurs once: stop
========================  ==============================  ============

Eleven tokens became five with three more entries in the vocabulary: each merge makes the
vocabulary one larger and the sequences shorter. In the byte ids of this file, ``a`` is 97,
``b`` 98, and the merges are ``(97, 97) -> 256``, ``(97, 98) -> 257``, ``(256, 257) -> 258``.
Ties go to the smaller pair of ids, which makes training deterministic.

**Pre-tokenization.** The corpus is first cut into words at whitespace and punctuation
(``" the"``, ``","``, ``"\\n"``), and merges never cross a word boundary: tokens stay
meaningful (no token for ``"e, t"``), and each distinct word is processed once, weighted by how
often it occurs. Training then keeps the count of every pair and, after a merge, updates only
the words that contain the merged pair instead of counting all pairs again: seconds for a
megabyte of text instead of minutes.

**Encoding** a word applies the learned merges in the order they were learned (lowest new id
first) until none applies; the result of each distinct word is cached.

Example::

    >>> tokenizer = BPETokenizer.train(text, vocab_size=512)
    >>> ids = tokenizer.encode("the cat sat")     # fewer ids than the 11 bytes
    >>> tokenizer.decode(ids)
    'the cat sat'
"""

from __future__ import annotations

import heapq
import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from tinytorch.text.tokenizer import Tokenizer

Pair = tuple[int, int]

DEFAULT_SPECIAL_TOKENS = ("<pad>", "<bos>", "<eos>")
NUM_BYTES = 256

# A word is an optional space then letters/digits, or an optional space then other symbols, or
# a run of whitespace. Every character matches one of the three, so words cover the whole text.
WORD_PATTERN = re.compile(r" ?\w+| ?[^\w\s]+|\s+")


def merge(ids: list[int], pair: Pair, new_id: int) -> list[int]:
    """Replace each occurrence of ``pair`` in ``ids``, from left to right, by ``new_id``.

    Example::

        >>> merge([97, 97, 97, 98], (97, 97), 256)     # "aaab": the first two a's merge
        [256, 97, 98]
    """
    # BEGIN SOLUTION 10
    merged = []
    position = 0
    while position < len(ids):
        if position + 1 < len(ids) and (ids[position], ids[position + 1]) == pair:
            merged.append(new_id)
            position += 2
        else:
            merged.append(ids[position])
            position += 1
    return merged
    # END SOLUTION


class PairCounts:
    """How often each adjacent pair occurs in a set of words, kept up to date word by word.

    ``count[pair]`` is the number of occurrences, each word weighted by its frequency, and
    ``words_with[pair]`` the indices of the words that contain the pair. Before a word changes
    call ``remove(index, word)``, afterwards ``add(index, new_word)``.

    ``most_frequent`` keeps a heap of (-count, pair) entries that may be out of date: the pairs
    that ``add`` touched are pushed with their new count on the next call, and an entry whose
    count is no longer the pair's count is pushed again with the current count when it reaches
    the top. So every pair has an entry at least as large as its count, and the first entry
    that is exact is the most frequent pair.
    """

    def __init__(self, words: list[list[int]], frequencies: list[int]) -> None:
        self.frequencies = frequencies
        self.count: dict[Pair, int] = defaultdict(int)
        self.words_with: dict[Pair, set[int]] = defaultdict(set)
        self._heap: list[tuple[int, Pair]] = []
        self._added: set[Pair] = set()
        for index, word in enumerate(words):
            self.add(index, word)

    def add(self, index: int, word: list[int]) -> None:
        for pair in zip(word, word[1:]):
            self.count[pair] += self.frequencies[index]
            self.words_with[pair].add(index)
            self._added.add(pair)

    def remove(self, index: int, word: list[int]) -> None:
        for pair in zip(word, word[1:]):
            self.count[pair] -= self.frequencies[index]
            self.words_with[pair].discard(index)

    def most_frequent(self) -> Pair | None:
        """The pair with the largest count (the smallest such pair on ties), or None when no
        pair occurs twice: merging a pair seen once saves nothing."""
        for pair in self._added:
            heapq.heappush(self._heap, (-self.count[pair], pair))
        self._added.clear()
        while self._heap and -self._heap[0][0] >= 2:
            negative_count, pair = self._heap[0]
            if -negative_count == self.count[pair]:
                return pair  # stays in the heap: the pair still has its entry
            heapq.heapreplace(self._heap, (-self.count[pair], pair))
        return None


def learn_merges(word_counts: dict[str, int], num_merges: int) -> list[Pair]:
    """Learn up to ``num_merges`` merges from words and their numbers of occurrences.

    Merge ``k`` (counted from 0) creates the token ``256 + k``. Stops early when no pair of
    tokens occurs twice.

    Example::

        >>> learn_merges({"aaabdaaabac": 1}, num_merges=10)
        [(97, 97), (97, 98), (256, 257)]
    """
    words = [list(word.encode("utf-8")) for word in word_counts]
    pairs = PairCounts(words, list(word_counts.values()))
    merges: list[Pair] = []
    # BEGIN SOLUTION 10
    while len(merges) < num_merges:
        pair = pairs.most_frequent()
        if pair is None:
            break
        new_id = NUM_BYTES + len(merges)
        for index in list(pairs.words_with[pair]):
            pairs.remove(index, words[index])
            words[index] = merge(words[index], pair, new_id)
            pairs.add(index, words[index])
        merges.append(pair)
    # END SOLUTION
    return merges


def token_to_text(token: bytes) -> str:
    """A printable name for the bytes of a token, as written in saved files: printable ASCII
    stands for itself, any other byte ``b`` for the character ``chr(256 + b)``, so a space is
    ``"Ġ"`` and ``b" the"`` reads ``"Ġthe"``. No name contains a real space."""
    return "".join(chr(byte) if 33 <= byte <= 126 else chr(NUM_BYTES + byte) for byte in token)


def text_to_token(text: str) -> bytes:
    """The inverse of ``token_to_text``."""
    return bytes(ord(char) if ord(char) < NUM_BYTES else ord(char) - NUM_BYTES for char in text)


class BPETokenizer(Tokenizer):
    """Byte-level BPE: the 256 bytes, one token per merge, then the special tokens.

    Build one with ``BPETokenizer.train(corpus, vocab_size)`` or ``BPETokenizer.load(path)``.

    Args:
        merges: the learned pairs, in order: merge ``k`` makes ``(left, right)`` token ``256 + k``.
        special_tokens: strings that get one id each, after the merges. Byte-level BPE needs no
            ``<unk>``: every text is made of bytes.
    """

    def __init__(
        self,
        merges: Sequence[Pair | str] = (),
        special_tokens: Sequence[str] = DEFAULT_SPECIAL_TOKENS,
    ) -> None:
        self.vocab = [bytes([byte]) for byte in range(NUM_BYTES)]
        self.merges: dict[Pair, int] = {}
        first_id = {token: index for index, token in enumerate(self.vocab)}
        for merge_pair in merges:
            left, right = self._merge_ids(merge_pair, first_id)
            token = self.vocab[left] + self.vocab[right]
            first_id.setdefault(token, len(self.vocab))
            self.merges[(left, right)] = len(self.vocab)
            self.vocab.append(token)
        super().__init__(special_tokens, first_special_id=len(self.vocab))
        self.vocab += [token.encode("utf-8") for token in self.special_tokens]
        self._word_cache: dict[str, list[int]] = {}

    def _merge_ids(self, merge_pair: Pair | str, first_id: dict[bytes, int]) -> Pair:
        """The ids of a merge given as ids ``(116, 104)`` or as names ``"t h"`` (saved files).
        A name stands for the first token with its bytes: two merges can make the same bytes
        (``"a bc"`` and ``"ab c"``), rarely, as in GPT-2's merges files."""
        if isinstance(merge_pair, str):
            names = merge_pair.split(" ")
            merge_pair = tuple(first_id.get(text_to_token(name), -1) for name in names)
        if len(merge_pair) != 2 or not all(0 <= part < len(self.vocab) for part in merge_pair):
            raise ValueError(
                f"merge number {len(self.vocab) - NUM_BYTES}, {merge_pair!r}, does not join two "
                "existing tokens: a merge joins two tokens made by the bytes or by earlier "
                "merges. Was the file edited?"
            )
        return tuple(merge_pair)

    @classmethod
    def train(
        cls,
        corpus: str,
        vocab_size: int,
        special_tokens: Sequence[str] = DEFAULT_SPECIAL_TOKENS,
    ) -> BPETokenizer:
        """Learn ``vocab_size - 256 - len(special_tokens)`` merges from ``corpus``.

        Special tokens in the corpus are left out of training. The vocabulary is smaller than
        asked when the corpus runs out of pairs that occur at least twice.
        """
        smallest = NUM_BYTES + len(special_tokens)
        if vocab_size < smallest:
            raise ValueError(
                f"vocab_size={vocab_size} is too small: the 256 byte tokens and "
                f"{len(special_tokens)} special tokens already take {smallest} ids; "
                f"pass vocab_size >= {smallest} (each id above that is one merge)"
            )
        untrained = cls(special_tokens=special_tokens)
        word_counts: dict[str, int] = defaultdict(int)
        for piece in untrained.split_on_special_tokens(corpus)[::2]:
            for word in WORD_PATTERN.findall(piece):
                word_counts[word] += 1
        return cls(learn_merges(word_counts, vocab_size - smallest), special_tokens)

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def _encode_ordinary(self, text: str) -> list[int]:
        ids = []
        for word in WORD_PATTERN.findall(text):
            if word not in self._word_cache:
                self._word_cache[word] = self._encode_word(word)
            ids.extend(self._word_cache[word])
        return ids

    def _encode_word(self, word: str) -> list[int]:
        """The ids of one pre-tokenized word: its bytes, merged in the order of training."""
        ids = list(word.encode("utf-8"))
        # BEGIN SOLUTION 10
        while len(ids) >= 2:
            # The earliest learned merge among the adjacent pairs; unknown pairs rank last.
            pair = min(zip(ids, ids[1:]), key=lambda pair: self.merges.get(pair, len(self.vocab)))
            if pair not in self.merges:
                break
            ids = merge(ids, pair, self.merges[pair])
        return ids
        # END SOLUTION

    def _decode_ids(self, ids: list[int]) -> str:
        """Join the bytes of the tokens; a byte sequence that is not valid UTF-8 (ids cut in
        the middle of a character) decodes to the replacement character U+FFFD."""
        # BEGIN SOLUTION 10
        return b"".join(self.vocab[token_id] for token_id in ids).decode("utf-8", "replace")
        # END SOLUTION

    def _state(self) -> dict[str, Any]:
        merges = [
            f"{token_to_text(self.vocab[left])} {token_to_text(self.vocab[right])}"
            for left, right in self.merges
        ]
        return {"special_tokens": self.special_tokens, "merges": merges}
