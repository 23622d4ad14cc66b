"""Tokenizers: text to token ids and back (module 10).

``CharTokenizer`` gives one id per character; ``BPETokenizer`` learns byte-pair merges and
gives one id per frequent chunk of bytes. Both share the ``Tokenizer`` interface: ``encode``,
``decode``, ``encode_batch`` (an int64 tensor, padded), ``save`` and ``load`` (JSON).
"""

from tinytorch.text.bpe import BPETokenizer
from tinytorch.text.char import CharTokenizer
from tinytorch.text.tokenizer import Tokenizer

__all__ = ["BPETokenizer", "CharTokenizer", "Tokenizer"]
