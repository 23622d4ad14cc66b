"""What an evaluation measures, in the measuring process (``evaluate.py`` runs it).

The model measured is any callable from a batch of inputs to logits: in an evaluation, a
``ModelProcess`` that sends each batch to the submission's own process and times nothing
itself. The test data (inputs and labels) and every computation of a metric stay here.

Image tracks go through module 19's ``Harness``: accuracy on the test split, single-stream
p90 latency and the offline throughput. The language track measures, on each TinyTalks test
pair ``"Q: <question>\\nA: <answer>\\n"``:

- **bits per character**: the information the model needs to predict every character of the
  pair after the first, ``-sum_t log2 p(x[t+1] | x[0..t]) / (T - 1)`` over all pairs together;
  a model that knows nothing about a V-letter alphabet scores log2 V;
- **exact answers**: the fraction of questions whose greedy continuation of
  ``"Q: <question>\\nA: "`` is the answer followed by a newline (each next character is
  chosen here, from the logits the model answers);
- the single-stream p90 latency of one next-character prediction after a question, with
  module 19's ``single_stream``.

The size is given: the bytes of the submission's ``model.pt`` on disk.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import tinytorch
from tinytorch.datasets import TinyTalks
from tinytorch.datasets.tinytalks import format_pair, format_prompt
from tinytorch.nn import functional as F
from tinytorch.olympics.data import DataDir, ImageSplit, language_tokenizer, load_images
from tinytorch.olympics.tracks import Track
from tinytorch.threads import num_threads_limited
from tinytorch.utils.benchmark.mlperf import Division, Harness, single_stream

Model = Callable[[tinytorch.Tensor], object]  # inputs -> logits (or a tuple starting with them)
TestData = ImageSplit | list[tuple[str, str]]  # images and labels, or (question, answer) pairs


def load_test_data(track: Track, data_dir: DataDir = None) -> TestData:
    """The scored part of ``track``'s test split: the first ``eval_samples`` images with
    their labels, or TinyTalks (question, answer) pairs."""
    if track.dataset == "tinytalks":
        return TinyTalks(split="test").pairs[: track.eval_samples]
    split = load_images(track, train=False, data_dir=data_dir)
    count = min(len(split.labels), track.eval_samples or len(split.labels))
    return ImageSplit(split.images[:count], split.labels[:count], split.dataset)


def measure(
    track: Track,
    model: Model,
    data: TestData,
    division: str,
    techniques: list[str],
    size_bytes: int,
) -> dict:
    """The metrics of ``model`` on ``data`` (from ``load_test_data``): ``dataset``,
    ``accuracy``, ``p90_ms``, ``size_bytes`` (given) and ``details`` (track-specific
    extras), plus the language track's ``bits_per_character``."""
    if track.dataset == "tinytalks":
        return measure_language(track, model, data, size_bytes)
    return measure_images(track, model, data, division, techniques, size_bytes)


def measure_images(
    track: Track,
    model: Model,
    split: ImageSplit,
    division: str,
    techniques: list[str],
    size_bytes: int,
) -> dict:
    """Accuracy and latency of an image classifier with module 19's ``Harness``."""
    harness = Harness(
        split.images,
        split.labels,
        quality_target=track.floor_for(split.dataset),
        min_query_count=track.latency_queries,
        max_duration=track.latency_max_s,
        repeats=1,
    )
    result = harness.run("submission", model, Division(division), techniques, size_bytes)
    return {
        "dataset": split.dataset,
        "accuracy": result.accuracy,
        "p90_ms": result.single_stream.p90 * 1e3,
        "size_bytes": size_bytes,
        "details": {
            "samples": len(split.labels),
            "single_stream": result.single_stream.to_dict(),
            "offline": result.offline.to_dict(),
            "system": result.system,
        },
    }


def query_latency(track: Track, model: Model, data: TestData) -> dict:
    """Module 19's single-stream scenario on ``data``, under the track's rules: one image
    per query, or one next-character prediction after each question."""
    if isinstance(data, ImageSplit):
        query = model
        samples = [data.images[index : index + 1] for index in range(len(data.labels))]
    else:
        tokenizer = language_tokenizer()
        query = lambda ids: logits_of(model, ids)  # noqa: E731 - one line, read in place
        samples = [tokenizer.encode(format_prompt(question)) for question, _ in data]
    with tinytorch.no_grad(), num_threads_limited(1):
        return single_stream(
            query, samples, min_query_count=track.latency_queries, max_duration=track.latency_max_s
        ).to_dict()


def logits_of(model: Model, ids: list[int]) -> tinytorch.Tensor:
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


def greedy_answer(model: Model, tokenizer, question: str, max_chars: int) -> str:
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


def measure_language(
    track: Track, model: Model, pairs: list[tuple[str, str]], size_bytes: int
) -> dict:
    """Bits per character, exact answers and latency of a character-level model."""
    tokenizer = language_tokenizer()
    bits, characters, exact = 0.0, 0, 0
    with tinytorch.no_grad(), num_threads_limited(1):
        for question, answer in pairs:
            ids = tokenizer.encode(format_pair(question, answer))
            bits += sequence_bits(logits_of(model, ids[:-1]), tinytorch.tensor(ids[1:]))
            characters += len(ids) - 1
            # One character past the answer tells whether the model stops there.
            exact += greedy_answer(model, tokenizer, question, len(answer) + 1) == answer
    stream = query_latency(track, model, pairs)
    return {
        "dataset": "tinytalks",
        "accuracy": exact / len(pairs),
        "bits_per_character": bits / characters,
        "p90_ms": stream["p90_ms"],
        "size_bytes": size_bytes,
        "details": {"samples": len(pairs), "exact_answers": exact, "single_stream": stream},
    }
