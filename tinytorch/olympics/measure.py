"""What an evaluation measures, inside the evaluation process (``evaluate.py`` runs it).

Image tracks go through module 19's ``Harness``: accuracy on the test split, single-stream
p90 latency, the offline throughput and the size of the saved state dict. The language track
measures, on each TinyTalks test pair ``"Q: <question>\\nA: <answer>\\n"``:

- **bits per character**: the information the model needs to predict every character of the
  pair after the first, ``-sum_t log2 p(x[t+1] | x[0..t]) / (T - 1)`` over all pairs together;
  a model that knows nothing about a V-letter alphabet scores log2 V;
- **exact answers**: the fraction of questions whose greedy continuation of
  ``"Q: <question>\\nA: "`` is the answer followed by a newline;
- the single-stream p90 latency of one next-character prediction after a question, and the
  size of the saved state dict, with module 19's ``single_stream`` and ``model_size_bytes``.
"""

from __future__ import annotations

import math

import tinytorch
from tinytorch.datasets import TinyTalks
from tinytorch.datasets.tinytalks import format_pair, format_prompt
from tinytorch.nn import Module
from tinytorch.nn import functional as F
from tinytorch.olympics.data import DataDir, language_tokenizer, load_images
from tinytorch.olympics.tracks import Track
from tinytorch.threads import num_threads_limited
from tinytorch.utils.benchmark.mlperf import (
    Division,
    Harness,
    model_size_bytes,
    single_stream,
)


def measure(
    track: Track,
    model: Module,
    division: str,
    techniques: list[str],
    data_dir: DataDir = None,
) -> dict:
    """The metrics of ``model`` on ``track``'s test split: ``dataset``, ``accuracy``,
    ``p90_ms``, ``size_bytes`` and ``details`` (track-specific extras), plus the language
    track's ``bits_per_character``."""
    if track.dataset == "tinytalks":
        return measure_language(track, model)
    return measure_images(track, model, division, techniques, data_dir)


def measure_images(
    track: Track, model: Module, division: str, techniques: list[str], data_dir: DataDir
) -> dict:
    """Accuracy, latency and size of an image classifier with module 19's ``Harness``."""
    split = load_images(track, train=False, data_dir=data_dir)
    count = min(len(split.labels), track.eval_samples or len(split.labels))
    harness = Harness(
        split.images[:count],
        split.labels[:count],
        quality_target=track.floor_for(split.dataset),
        min_query_count=track.latency_queries,
        max_duration=track.latency_max_s,
        repeats=1,
    )
    result = harness.run("submission", model, Division(division), techniques).to_dict()
    return {
        "dataset": split.dataset,
        "accuracy": result["accuracy"],
        "p90_ms": result["single_stream"]["p90_ms"],
        "size_bytes": result["model_size_bytes"],
        "details": {
            "samples": count,
            "single_stream": result["single_stream"],
            "offline": result["offline"],
            "system": result["system"],
        },
    }


def logits_of(model: Module, ids: list[int]) -> tinytorch.Tensor:
    """The logits (T, V) a language model gives for the token ids ``ids`` (one sequence).
    Models may return the logits (1, T, V) or a tuple that starts with them (like GPT)."""
    output = model(tinytorch.tensor([ids]))
    logits = output[0] if isinstance(output, tuple) else output
    return logits[0]


def sequence_bits(logits: tinytorch.Tensor, targets: tinytorch.Tensor) -> float:
    """The bits needed to encode ``targets`` (T,) given the model's ``logits`` (T, V):
    ``-sum_t log2 softmax(logits[t])[targets[t]]``, the summed cross-entropy in nats over
    ln 2. A uniform model over V tokens needs exactly ``T log2 V`` bits."""
    # BEGIN SOLUTION 20
    nats = F.cross_entropy(logits, targets, reduction="sum").item()
    return nats / math.log(2)
    # END SOLUTION


def greedy_answer(model: Module, tokenizer, question: str, max_chars: int) -> str:
    """The model's answer to ``question``: starting from ``format_prompt(question)``, append
    the most likely next character until a newline or ``max_chars`` characters."""
    ids = tokenizer.encode(format_prompt(question))
    answer = ""
    while len(answer) < max_chars:
        next_id = int(logits_of(model, ids)[-1].argmax().item())
        character = tokenizer.decode([next_id])
        if character == "\n":
            break
        answer += character
        ids.append(next_id)
    return answer


def measure_language(track: Track, model: Module) -> dict:
    """Bits per character, exact answers, latency and size of a character-level model."""
    tokenizer = language_tokenizer()
    pairs = TinyTalks(split="test").pairs[: track.eval_samples]
    bits, characters, exact = 0.0, 0, 0
    with tinytorch.no_grad(), num_threads_limited(1):
        for question, answer in pairs:
            ids = tokenizer.encode(format_pair(question, answer))
            bits += sequence_bits(logits_of(model, ids[:-1]), tinytorch.tensor(ids[1:]))
            characters += len(ids) - 1
            # One character past the answer tells whether the model stops there.
            exact += greedy_answer(model, tokenizer, question, len(answer) + 1) == answer
        prompts = [tokenizer.encode(format_prompt(question)) for question, _ in pairs]
        stream = single_stream(
            lambda ids: logits_of(model, ids),
            prompts,
            min_query_count=track.latency_queries,
            max_duration=track.latency_max_s,
        ).to_dict()
    accuracy = exact / len(pairs)
    return {
        "dataset": "tinytalks",
        "accuracy": accuracy,
        "bits_per_character": bits / characters,
        "p90_ms": stream["p90_ms"],
        "size_bytes": model_size_bytes(model),
        "details": {"samples": len(pairs), "exact_answers": exact, "single_stream": stream},
    }
