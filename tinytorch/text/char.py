"""Character tokenizer: one id per character.

The vocabulary is the special tokens (ids 0, 1, ...) followed by the characters of a corpus,
sorted. Nothing is learned, every text over the alphabet round-trips exactly, and the
vocabulary stays tiny (about 100 ids for English), but a text becomes as many ids as it has
characters: the longest sequences of any tokenizer.

Example::

    >>> tokenizer = CharTokenizer("hello world")
    >>> tokenizer.vocab_size                  # 4 special tokens + 8 characters
    12
    >>> tokenizer.encode("hello")
    [7, 6, 8, 8, 9]
    >>> tokenizer.decode([7, 6, 8, 8, 9])
    'hello'
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

from tinytorch.text.tokenizer import Tokenizer

DEFAULT_SPECIAL_TOKENS = ("<pad>", "<unk>", "<bos>", "<eos>")


class CharTokenizer(Tokenizer):
    """One id per character of an alphabet, after the ids of the special tokens.

    Args:
        corpus: a text, a list of texts or a list of characters: its characters form the
            alphabet.
        special_tokens: strings that get one id each, first: ``<pad>`` has id 0 by default.
        unknown: what ``encode`` does with a character that is not in the alphabet:
            ``"replace"`` gives the id of ``<unk>``, ``"error"`` raises a ValueError.
    """

    def __init__(
        self,
        corpus: str | Iterable[str] = "",
        special_tokens: Sequence[str] = DEFAULT_SPECIAL_TOKENS,
        unknown: Literal["replace", "error"] = "replace",
    ) -> None:
        super().__init__(special_tokens, first_special_id=0)
        if unknown not in ("replace", "error"):
            raise ValueError(f"unknown must be 'replace' or 'error', got {unknown!r}")
        if unknown == "replace":
            self.special_id("<unk>")  # raises, naming the fix, if there is no <unk>
        texts = [corpus] if isinstance(corpus, str) else corpus
        characters = set().union(*texts) - set(special_tokens)
        self.alphabet = sorted(characters)
        self.unknown = unknown
        self.id_to_token = self.special_tokens + self.alphabet
        self.char_to_id = {char: index for index, char in enumerate(self.id_to_token)}

    @property
    def vocab_size(self) -> int:
        return len(self.id_to_token)

    def _encode_ordinary(self, text: str) -> list[int]:
        # BEGIN SOLUTION 10
        ids = []
        for char in text:
            if char in self.char_to_id:
                ids.append(self.char_to_id[char])
            elif self.unknown == "replace":
                ids.append(self.special_ids["<unk>"])
            else:
                raise ValueError(
                    f"character {char!r} (U+{ord(char):04X}) is not in the alphabet of this "
                    "CharTokenizer; build it from a corpus that contains the character, or "
                    "pass unknown='replace' to encode it as <unk>"
                )
        return ids
        # END SOLUTION

    def _decode_ids(self, ids: list[int]) -> str:
        # BEGIN SOLUTION 10
        return "".join(self.id_to_token[token_id] for token_id in ids)
        # END SOLUTION

    def _state(self) -> dict[str, Any]:
        return {
            "corpus": self.alphabet,
            "special_tokens": self.special_tokens,
            "unknown": self.unknown,
        }
