"""What every tokenizer shares: special tokens, batches as tensors, saving as JSON.

A tokenizer turns text into a list of integer ids (``encode``) and back (``decode``). A model
only ever sees the ids: it learns one embedding row per id, so ``vocab_size`` is the number of
rows of its embedding table and of columns of its output layer.

The trade-off behind every tokenizer is **vocabulary size against sequence length**. One id per
character (``CharTokenizer``) needs a tiny vocabulary, but a sentence becomes a long sequence,
and attention costs grow with the square of its length. One id per frequent chunk of bytes
(``BPETokenizer``) makes sequences 3-5x shorter on English text, at the price of a larger
embedding table and rarer tokens, each seen less often during training.

Special tokens are whole strings, such as ``"<pad>"`` or ``"<eos>"``, that always map to one id
of their own and are never cut into pieces: ``encode("hi<eos>")`` ends with the id of
``"<eos>"``. Four names have a role here: ``<pad>`` fills batches (``encode_batch``), ``<unk>``
stands for characters a ``CharTokenizer`` does not know, ``<bos>`` and ``<eos>`` mark the
beginning and end of a sequence (``encode(text, add_bos=True, add_eos=True)``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tinytorch.tensor import Tensor

FILE_FORMAT = "tinytorch.text"

Ids = Sequence[int] | Tensor


class Tokenizer:
    """Base class: subclasses give the vocabulary and encode and decode text without special
    tokens (``_encode_ordinary``, ``_decode_ids``); this class does the rest."""

    def __init__(self, special_tokens: Sequence[str], first_special_id: int) -> None:
        """Give ``special_tokens`` the ids ``first_special_id``, ``first_special_id + 1``, ..."""
        if len(set(special_tokens)) != len(special_tokens) or "" in special_tokens:
            raise ValueError(
                f"special_tokens must be distinct non-empty strings, got {list(special_tokens)}"
            )
        self.special_tokens = list(special_tokens)
        self.special_ids = {
            token: first_special_id + index for index, token in enumerate(special_tokens)
        }
        # Longest first, so that "<eos>" is not found inside a longer special token first.
        alternatives = sorted(special_tokens, key=len, reverse=True)
        self._special_pattern = re.compile("(" + "|".join(map(re.escape, alternatives)) + ")")

    @property
    def vocab_size(self) -> int:
        """The number of ids, special tokens included: valid ids are ``0..vocab_size - 1``."""
        raise NotImplementedError(f"{type(self).__name__} should define vocab_size")

    def __len__(self) -> int:
        return self.vocab_size

    def _encode_ordinary(self, text: str) -> list[int]:
        """The ids of ``text``, which contains no special token."""
        raise NotImplementedError(f"{type(self).__name__} should define _encode_ordinary")

    def _decode_ids(self, ids: list[int]) -> str:
        """The text of ``ids``, all of them valid ids of the vocabulary."""
        raise NotImplementedError(f"{type(self).__name__} should define _decode_ids")

    def _state(self) -> dict[str, Any]:
        """What ``save`` writes besides the file header; ``cls(**state)`` rebuilds the object."""
        raise NotImplementedError(f"{type(self).__name__} should define _state")

    def special_id(self, token: str) -> int:
        """The id of the special token ``token``, e.g. ``special_id("<pad>")``."""
        if token not in self.special_ids:
            raise ValueError(
                f"{token!r} is not a special token of this tokenizer (it has "
                f"{self.special_tokens}); build the tokenizer with {token!r} in special_tokens"
            )
        return self.special_ids[token]

    def split_on_special_tokens(self, text: str) -> list[str]:
        """``text`` cut around its special tokens: ordinary text at the even positions (maybe
        empty), special tokens at the odd ones: ``"a<eos>b"`` gives ``["a", "<eos>", "b"]``."""
        if not self.special_tokens:
            return [text]
        # With a capturing group, re.split keeps what the pattern matched.
        return self._special_pattern.split(text)

    def encode(self, text: str, add_bos: bool = False, add_eos: bool = False) -> list[int]:
        """The ids of ``text``; special tokens in it become their own id.

        ``add_bos`` / ``add_eos`` put the id of ``<bos>`` first / of ``<eos>`` last.
        """
        ids = [self.special_id("<bos>")] if add_bos else []
        for position, piece in enumerate(self.split_on_special_tokens(text)):
            if position % 2 == 1:
                ids.append(self.special_ids[piece])
            elif piece:
                ids.extend(self._encode_ordinary(piece))
        if add_eos:
            ids.append(self.special_id("<eos>"))
        return ids

    def decode(self, ids: Ids, skip_special_tokens: bool = False) -> str:
        """The text of ``ids`` (a list of ints or a 1-D tensor); the inverse of ``encode``."""
        ids = ids.tolist() if isinstance(ids, Tensor) else list(ids)
        for token_id in ids:
            if not 0 <= token_id < self.vocab_size:
                raise ValueError(
                    f"token id {token_id} is out of range for this tokenizer: its vocabulary "
                    f"has {self.vocab_size} ids, 0..{self.vocab_size - 1}. Decode ids with the "
                    "tokenizer that produced them."
                )
        if skip_special_tokens:
            special = set(self.special_ids.values())
            ids = [token_id for token_id in ids if token_id not in special]
        return self._decode_ids(ids)

    def encode_batch(
        self,
        texts: Sequence[str],
        pad_to: int | None = None,
        add_bos: bool = False,
        add_eos: bool = False,
    ) -> Tensor:
        """Encode ``texts`` into one int64 tensor (B, T), each row padded on the right with the
        id of ``<pad>``; T is ``pad_to``, or the length of the longest encoded text.

        Example::

            >>> CharTokenizer("hello world").encode_batch(["he", "hello"])      # (2, 5)
            tensor([[7, 6, 0, 0, 0],
                    [7, 6, 8, 8, 9]])
        """
        sequences = [self.encode(text, add_bos, add_eos) for text in texts]
        longest = max(map(len, sequences), default=0)
        length = longest if pad_to is None else pad_to
        if longest > length:
            raise ValueError(
                f"a text encodes to {longest} tokens, more than pad_to={pad_to}; "
                "raise pad_to, or pass pad_to=None to pad to the longest text"
            )
        batch = np.full((len(sequences), length), self.special_id("<pad>"), dtype=np.int64)
        for row, sequence in zip(batch, sequences):
            row[: len(sequence)] = sequence
        return Tensor._from_array(batch)

    def decode_batch(
        self, batch: Tensor | Iterable[Ids], skip_special_tokens: bool = False
    ) -> list[str]:
        """Decode each row of ``batch`` (B, T) after removing the ``<pad>`` ids at its end."""
        pad = self.special_id("<pad>")
        texts = []
        for row in batch:
            ids = row.tolist() if isinstance(row, Tensor) else list(row)
            while ids and ids[-1] == pad:
                ids.pop()
            texts.append(self.decode(ids, skip_special_tokens))
        return texts

    def save(self, path: str | Path) -> None:
        """Write the tokenizer to ``path`` as readable JSON; ``load`` reads it back."""
        header = {"format": FILE_FORMAT, "type": type(self).__name__}
        text = json.dumps(header | self._state(), indent=2, ensure_ascii=False)
        Path(path).write_text(text + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> Tokenizer:
        """Read a tokenizer written by ``save``."""
        hint = f"expected a file written by {cls.__name__}.save(path)"
        try:
            state = json.loads(Path(path).read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(
                f"{path} is not a tokenizer file: not JSON ({error}); {hint}"
            ) from None
        if not isinstance(state, dict) or state.pop("format", None) != FILE_FORMAT:
            raise ValueError(f"{path} is not a tokenizer file: no format {FILE_FORMAT!r}; {hint}")
        kind = state.pop("type", None)
        if kind != cls.__name__:
            raise ValueError(
                f"{path} holds a {kind}, not a {cls.__name__}; load it with {kind}.load"
            )
        return cls(**state)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(vocab_size={self.vocab_size})"
