"""Time byte-level BPE training and encoding on about 1 MB of real text.

The text is the source of modules of Python's standard library (code, comments and
docstrings): it ships with every Python, so the figure can be reproduced anywhere. Training
goes from the 256 bytes to ``--vocab-size`` tokens; the compression ratio is bytes per token.

    python benchmarks/tokenizer_train.py                    # 1 MB, vocabulary of 512
    python benchmarks/tokenizer_train.py --vocab-size 4096  # many more merges
"""

from __future__ import annotations

import argparse
import sysconfig
import time
from pathlib import Path

from tinytorch.text import BPETokenizer


def standard_library_text(size: int) -> str:
    """The first ``size`` characters of the standard library's modules, in name order."""
    parts: list[str] = []
    total = 0
    for path in sorted(Path(sysconfig.get_paths()["stdlib"]).glob("*.py")):
        parts.append(path.read_text(encoding="utf-8", errors="replace"))
        total += len(parts[-1])
        if total >= size:
            break
    return "".join(parts)[:size]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=1.0)
    parser.add_argument("--vocab-size", type=int, default=512)
    args = parser.parse_args()

    text = standard_library_text(int(args.megabytes * 1_000_000))
    start = time.perf_counter()
    tokenizer = BPETokenizer.train(text, vocab_size=args.vocab_size)
    train_seconds = time.perf_counter() - start

    start = time.perf_counter()
    ids = tokenizer.encode(text)
    encode_seconds = time.perf_counter() - start
    assert tokenizer.decode(ids) == text

    size = len(text.encode("utf-8"))
    print(f"text: {size / 1e6:.2f} MB of Python standard library source")
    print(f"train to vocab {tokenizer.vocab_size}: {train_seconds:.2f} s")
    print(f"encode: {encode_seconds:.2f} s, {size / len(ids):.2f} bytes per token")


if __name__ == "__main__":
    main()
