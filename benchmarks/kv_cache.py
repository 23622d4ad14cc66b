"""Measure module 17's target: generation with a key/value cache against without one.

    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 python benchmarks/kv_cache.py [--rounds 3]

One BLAS thread makes figures reproducible: on a machine busy with other work, a
multithreaded BLAS slows the uncached path's larger products far more than the cached path
(threads wait for cores), which would inflate the speed-up.

The model has milestone 05's TinyTalks configuration (character vocabulary of the TinyTalks
training text, 2 blocks, 128 channels, 4 heads) with untrained weights: speed does not depend
on what the weights learned. Milestone 05 sizes its context to the longest question and
answer (under 100 characters), too short for 256 new tokens, so here ``block_size`` is the
prompt (a TinyTalks question, "Q: ...\\nA: ") plus 256: every token is generated inside the
context, and both paths attend over the same positions.

Prints tokens/s of greedy generation for the uncached path (``use_cache=False``), the
DynamicCache and the StaticCache, their ratio (the target: >= 5x), whether the tokens are
identical, and tokens/s of a single step against the sequence length for both paths. The
paths run interleaved, round after round, so a loaded machine slows all of them alike; the
figure is the median over rounds. Target (issue "Optimization tier II", module 17): >= 5x
more tokens/s with the cache for 256 new tokens.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import tinytorch
from tinytorch.datasets import TinyTalks
from tinytorch.datasets.tinytalks import format_prompt
from tinytorch.models import GPT, GPTConfig
from tinytorch.text import CharTokenizer

NEW_TOKENS = 256
LENGTHS = (16, 32, 64, 128, 256)  # positions already written when a step runs


def milestone_model(prompt_length: int) -> GPT:
    """Milestone 05's TinyTalks GPT (2 blocks, 128 channels, 4 heads), context prompt + 256."""
    tokenizer = CharTokenizer(TinyTalks(split="train").text)
    config = GPTConfig(vocab_size=tokenizer.vocab_size, block_size=prompt_length + NEW_TOKENS,
                       n_layer=2, n_head=4, n_embd=128)  # fmt: skip
    tinytorch.manual_seed(0)
    return GPT(config).eval()


def time_generation(model: GPT, prompt: tinytorch.Tensor, **options) -> tuple[float, float, list]:
    """Wall-clock and CPU seconds to generate NEW_TOKENS greedy tokens per row of prompt
    (B, T), and the tokens."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = model.generate(prompt, NEW_TOKENS, top_k=1, **options)
    return time.perf_counter() - wall, time.process_time() - cpu, out.tolist()


def time_step(model: GPT, idx: tinytorch.Tensor, cached: bool, repeats: int = 5) -> float:
    """Median seconds of one generation step at sequence length idx.shape[1]: the whole
    sequence through the model (uncached), or one token over a cache of the others."""
    times = []
    with tinytorch.no_grad():
        for _ in range(repeats):
            cache = None
            if cached:
                _, _, cache = model(idx[:, :-1], use_cache=True)
            start = time.perf_counter()
            if cached:
                model(idx[:, -1:], past_key_values=cache, use_cache=True)
            else:
                model(idx)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median)")
    parser.add_argument("--batch", type=int, default=1, help="prompts generated side by side")
    args = parser.parse_args()
    tokenizer = CharTokenizer(TinyTalks(split="train").text)
    question = TinyTalks(split="test").pairs[0][0]
    prompt = tinytorch.tensor([tokenizer.encode(format_prompt(question))] * args.batch)  # (B, T)
    model = milestone_model(prompt.shape[1])
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "unset")
    print(f"OPENBLAS_NUM_THREADS={threads}; prompt {prompt.shape[1]} tokens + {NEW_TOKENS} new, "
          f"block_size {model.config.block_size}, batch {args.batch}, greedy")  # fmt: skip
    paths = {
        "no cache": {"use_cache": False},
        "DynamicCache": {"cache_implementation": "dynamic"},
        "StaticCache": {"cache_implementation": "static"},
    }
    seconds: dict[str, list[float]] = {name: [] for name in paths}
    cpu_seconds: dict[str, list[float]] = {name: [] for name in paths}
    tokens: dict[str, list] = {}
    for _ in range(args.rounds):
        for name, options in paths.items():
            wall, cpu, tokens[name] = time_generation(model, prompt, **options)
            seconds[name].append(wall)
            cpu_seconds[name].append(cpu)
    new_tokens = NEW_TOKENS * args.batch  # tokens written per generation
    wall_base = new_tokens / statistics.median(seconds["no cache"])
    cpu_base = new_tokens / statistics.median(cpu_seconds["no cache"])
    print(f"{'path':>14} {'tokens/s':>9} {'speed-up':>9} {'CPU tok/s':>10} {'speed-up':>9}  same")
    for name in paths:
        rate = new_tokens / statistics.median(seconds[name])
        cpu_rate = new_tokens / statistics.median(cpu_seconds[name])
        same = tokens[name] == tokens["no cache"]
        print(f"{name:>14} {rate:9.1f} {rate / wall_base:8.1f}x {cpu_rate:10.1f} "
              f"{cpu_rate / cpu_base:8.1f}x  {same}")  # fmt: skip
    print("\none step at sequence length L (tokens/s = 1 / step time):")
    print(f"{'L':>5} {'no cache':>9} {'cache':>9} {'ratio':>6}")
    idx = tinytorch.randint(0, model.config.vocab_size, (1, max(LENGTHS)))
    for length in LENGTHS:
        slow = time_step(model, idx[:, :length], cached=False)
        fast = time_step(model, idx[:, :length], cached=True)
        print(f"{length:>5} {1 / slow:9.1f} {1 / fast:9.1f} {slow / fast:5.1f}x")


if __name__ == "__main__":
    main()
