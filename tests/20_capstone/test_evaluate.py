"""The isolated evaluation (module 20): real fresh processes, real limits, real metrics."""

from __future__ import annotations

import json
import shutil
import socket
import sys
from pathlib import Path

import numpy as np
import pytest

import tinytorch
from tinytorch.models.gpt import GPT, GPTConfig
from tinytorch.olympics.data import language_tokenizer, load_images
from tinytorch.olympics.evaluate import Evaluation, evaluate
from tinytorch.olympics.model_process import load_submission
from tinytorch.olympics.submission import SubmissionError, write_submission
from tinytorch.utils.benchmark.mlperf import model_size_bytes

from .conftest import DIGITS_MODEL_CODE, quick, train_digits_model, write_cifar

pytestmark = pytest.mark.module20


@pytest.fixture(scope="module")
def speed_evaluation(digits_submission: Path, empty_data_dir: Path) -> Evaluation:
    return evaluate(digits_submission, data_dir=empty_data_dir, track=quick("speed"))


def test_a_valid_submission_is_measured_in_a_fresh_process(
    speed_evaluation: Evaluation, digits_submission: Path, empty_data_dir: Path
) -> None:
    evaluation = speed_evaluation
    assert evaluation.error is None and evaluation.valid
    assert (evaluation.track, evaluation.division, evaluation.name) == ("speed", "open", "linear")
    assert evaluation.techniques == ["architecture_change"] and evaluation.dataset == "tinydigits"
    # The accuracy is the model's own on the first 200 test digits, recomputed here.
    model = load_submission(digits_submission)
    split = load_images(quick("speed"), train=False, data_dir=empty_data_dir)
    predicted = model(split.images[:200]).argmax(dim=1).numpy()
    assert evaluation.accuracy == pytest.approx(np.mean(predicted == split.labels.numpy()[:200]))
    assert evaluation.score == evaluation.p90_ms > 0
    assert evaluation.details["single_stream"]["queries"] == 16
    assert evaluation.details["samples"] == 200
    # The size is model.pt as submitted: what tinytorch.save writes for the loaded model.
    assert evaluation.size_bytes == (digits_submission / "model.pt").stat().st_size
    assert evaluation.size_bytes == model_size_bytes(model) > 64 * 10 * 4
    # The pipe's own cost, timed on the same 16 queries while the child answered zeros.
    assert evaluation.details["transport"]["queries"] == 16
    assert 0 < evaluation.details["transport_ms"] == evaluation.details["transport"]["p90_ms"]
    assert isinstance(evaluation.details["network_isolated"], bool)
    assert isinstance(evaluation.details["data_hidden"], bool)
    assert Evaluation.from_dict(evaluation.to_dict()) == evaluation


def test_the_compression_track_scores_the_saved_size(
    digits_submission: Path, empty_data_dir: Path, tmp_path: Path
) -> None:
    directory = tmp_path / "compressed"
    shutil.copytree(digits_submission, directory)
    manifest = (directory / "submission.toml").read_text().replace('"speed"', '"compression"')
    (directory / "submission.toml").write_text(manifest)
    evaluation = evaluate(directory, data_dir=empty_data_dir, track=quick("compression"))
    assert evaluation.valid and evaluation.score == evaluation.size_bytes


def test_below_the_floor_is_invalid_with_the_reason(
    digits_submission: Path, empty_data_dir: Path
) -> None:
    strict = quick("speed", fallback_accuracy_floor=0.999)
    evaluation = evaluate(digits_submission, data_dir=empty_data_dir, track=strict)
    assert not evaluation.valid
    assert "below the speed track's floor of 99.90%" in evaluation.error
    assert evaluation.accuracy is not None  # measured, only not ranked


def broken_submission(directory: Path, code: str) -> Path:
    write_submission(directory, train_digits_model(), DIGITS_MODEL_CODE + code, track="speed",
                     division="open", name="broken", techniques=[])  # fmt: skip
    return directory


def test_a_crashing_model_is_reported_not_raised(tmp_path: Path, empty_data_dir: Path) -> None:
    code = "\n\ndef build_model():\n    raise RuntimeError('the model fell over')\n"
    evaluation = evaluate(broken_submission(tmp_path / "s", code), data_dir=empty_data_dir,
                          track=quick("speed"))  # fmt: skip
    assert not evaluation.valid and evaluation.score is None
    assert "RuntimeError: the model fell over" in evaluation.error


def test_a_hanging_model_is_killed_at_the_time_limit(tmp_path: Path, empty_data_dir: Path) -> None:
    code = "\n\nwhile True:\n    pass\n"
    evaluation = evaluate(broken_submission(tmp_path / "s", code), data_dir=empty_data_dir,
                          track=quick("speed"), time_limit_s=2)  # fmt: skip
    assert not evaluation.valid
    assert evaluation.error.startswith("timed out")


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS is enforced on Linux only")
def test_a_memory_hungry_model_hits_the_memory_limit(tmp_path: Path, empty_data_dir: Path) -> None:
    code = "\n\nimport numpy\nHOARD = numpy.ones((1 << 30,))  # 8 GiB\n"
    evaluation = evaluate(broken_submission(tmp_path / "s", code), data_dir=empty_data_dir,
                          track=quick("speed"), memory_limit_mb=1024)  # fmt: skip
    assert not evaluation.valid
    assert evaluation.error == "out of memory: the model needed more than 1024 MB"


def test_a_file_over_the_limit_is_reported(tmp_path: Path, empty_data_dir: Path) -> None:
    code = "\n\nopen('big.bin', 'wb').write(bytes(2 * 1024 * 1024))\n"
    evaluation = evaluate(broken_submission(tmp_path / "s", code), data_dir=empty_data_dir,
                          track=quick("speed", file_limit_mb=1))  # fmt: skip
    assert evaluation.error == "wrote a file larger than the 1 MB limit"


def test_the_track_must_be_the_manifests(digits_submission: Path) -> None:
    with pytest.raises(SubmissionError, match="names the 'speed' track, not 'vision'"):
        evaluate(digits_submission, track="vision")


LANGUAGE_CODE = """from tinytorch.models.gpt import GPT, GPTConfig


def build_model():
    return GPT(GPTConfig(block_size=128, vocab_size={vocab}, n_layer=1, n_head=2, n_embd=16))
"""


def test_an_untrained_language_model_needs_log2_v_bits_per_character(tmp_path: Path) -> None:
    vocab = language_tokenizer().vocab_size
    tinytorch.manual_seed(0)
    model = GPT(GPTConfig(block_size=128, vocab_size=vocab, n_layer=1, n_head=2, n_embd=16))
    write_submission(tmp_path / "gpt", model, LANGUAGE_CODE.format(vocab=vocab),
                     track="language", division="open", name="gpt")  # fmt: skip
    evaluation = evaluate(tmp_path / "gpt", track=quick("language", eval_samples=2))
    assert evaluation.valid, evaluation.error
    # GPT-2's initialisation gives nearly uniform predictions over the V characters.
    assert evaluation.score == pytest.approx(np.log2(vocab), abs=0.05)
    assert evaluation.accuracy == 0.0 and evaluation.details["samples"] == 2


VISION_CODE = """from tinytorch import nn


def build_model():
    return nn.Sequential(nn.Conv2d(3, 4, 3, stride=2), nn.ReLU(), nn.Flatten(),
                         nn.Linear(4 * 15 * 15, 10))
"""


def conv_model() -> tinytorch.nn.Module:
    """The model VISION_CODE builds, untrained."""
    namespace: dict = {}
    exec(VISION_CODE, namespace)
    return namespace["build_model"]()


def test_the_vision_track_reads_cifar10_from_the_data_directory(tmp_path: Path) -> None:
    pixels, labels = write_cifar(tmp_path / "data", 30)
    model = conv_model()
    write_submission(tmp_path / "conv", model, VISION_CODE, track="vision", division="open",
                     name="conv")  # fmt: skip
    evaluation = evaluate(tmp_path / "conv", data_dir=tmp_path / "data", track=quick("vision"))
    assert evaluation.valid, evaluation.error
    images = tinytorch.tensor(pixels.reshape(30, 3, 32, 32).astype(np.float32) / 255)
    expected = np.mean(model(images).argmax(dim=1).numpy() == labels)
    assert evaluation.dataset == "cifar10" and evaluation.details["samples"] == 30
    assert evaluation.score == evaluation.accuracy == pytest.approx(expected)


def test_a_missing_data_set_or_mismatched_weights_are_reported(tmp_path: Path) -> None:
    write_submission(tmp_path / "conv", conv_model(), VISION_CODE, track="vision",
                     division="open", name="conv")  # fmt: skip
    evaluation = evaluate(tmp_path / "conv", data_dir=tmp_path / "nothing", track=quick("vision"))
    assert "CIFAR10: no data in" in evaluation.error
    write_cifar(tmp_path / "data", 4)
    tinytorch.save(tinytorch.nn.Linear(1, 1).state_dict(), tmp_path / "conv" / "model.pt")
    evaluation = evaluate(tmp_path / "conv", data_dir=tmp_path / "data", track=quick("vision"))
    assert "RuntimeError: Error(s) in loading state_dict" in evaluation.error
    assert "Missing key(s) in state_dict: '0.weight'" in evaluation.error


FORGED_RESULT = {"dataset": "tinydigits", "accuracy": 1.0, "p90_ms": 1e-6, "size_bytes": 1,
                 "details": {}}  # fmt: skip
CLOCK_AT_ZERO = (
    "\n\nimport time\ntime.perf_counter = lambda: 0.0\ntime.perf_counter_ns = lambda: 0\n"
    "time.monotonic = lambda: 0.0\n"
)
SCORING_PATCHED = """

import tinytorch.olympics.measure
import tinytorch.olympics.results
from tinytorch.utils.benchmark import mlperf

tinytorch.olympics.results.judge = lambda *args: None
tinytorch.olympics.measure.sequence_bits = lambda logits, targets: 0.0
mlperf.Harness.accuracy = lambda self, model: 1.0
mlperf.single_stream = lambda *args, **kwargs: None
"""


@pytest.mark.parametrize(
    "code",
    [CLOCK_AT_ZERO, f"\n\nopen('result.json', 'w').write({json.dumps(FORGED_RESULT)!r})\n"],
    ids=["clock-stopped", "fake-result-file"],
)
def test_a_model_cannot_forge_its_latency(
    tmp_path: Path, empty_data_dir: Path, speed_evaluation: Evaluation, code: str
) -> None:
    # The clock and the result live in the measuring process: the model's own are ignored.
    evaluation = evaluate(broken_submission(tmp_path / "s", code), data_dir=empty_data_dir,
                          track=quick("speed"))  # fmt: skip
    assert evaluation.valid, evaluation.error
    assert evaluation.accuracy == speed_evaluation.accuracy  # the same weights, measured
    assert evaluation.p90_ms > 1e-3  # a round trip through a pipe takes microseconds
    assert evaluation.details["single_stream"]["mean_ms"] > 1e-3


def test_a_model_cannot_patch_the_scoring_code(tmp_path: Path, empty_data_dir: Path) -> None:
    model = tinytorch.nn.Sequential(tinytorch.nn.Flatten(), tinytorch.nn.Linear(64, 10))
    for parameter in model.parameters():
        tinytorch.nn.init.zeros_(parameter)  # equal logits: every digit is called a 0
    write_submission(tmp_path / "s", model, DIGITS_MODEL_CODE + SCORING_PATCHED, track="speed",
                     division="open", name="zeros")  # fmt: skip
    evaluation = evaluate(tmp_path / "s", data_dir=empty_data_dir, track=quick("speed"))
    labels = load_images(quick("speed"), train=False, data_dir=empty_data_dir).labels.numpy()
    assert evaluation.accuracy == pytest.approx(np.mean(labels[:200] == 0))
    assert not evaluation.valid and "below the speed track's floor" in evaluation.error
    json.dumps(evaluation.to_dict(), allow_nan=False)  # standard JSON


def answering(expression: str) -> str:
    """``model.py`` code whose model answers ``expression`` of its true ``logits``, where
    ``self.calls`` counts the queries so far."""
    return f"""

class Answering(nn.Sequential):
    calls = 0

    def forward(self, x):
        self.calls += 1
        logits = super().forward(x)
        return {expression}


def build_model():
    return Answering(nn.Flatten(), nn.Linear(64, 10))
"""


@pytest.mark.parametrize(
    ("expression", "error"),
    [
        ("logits[:, :5]", "answered logits of shape (64, 5) for inputs of shape (64, 1, 8, 8); "
                          "expected (64, 10)"),
        ("logits * float('nan')", "answered logits that are NaN or infinite"),
        ("logits.long()", "answered logits of dtype <i8; return floating-point logits"),
        ("logits if self.calls < 5 else 1 / 0",
         "the submission failed (exit code 1): ZeroDivisionError: division by zero"),
        ("logits if self.calls < 5 else __import__('os')._exit(9)",
         "the submission failed (exit code 9)"),
        ("logits if self.calls < 5 else __import__('os')._exit(0)",
         "the model process exited before it answered every query (exit code 0)"),
    ],
    ids=["wrong-shape", "nan", "integers", "raise-in-forward", "killed-mid-stream",
         "exit-mid-stream"],
)  # fmt: skip
def test_every_answer_of_the_model_is_checked(
    tmp_path: Path, empty_data_dir: Path, expression: str, error: str
) -> None:
    evaluation = evaluate(broken_submission(tmp_path / "s", answering(expression)),
                          data_dir=empty_data_dir, track=quick("speed"))  # fmt: skip
    assert not evaluation.valid and evaluation.score is None
    assert error in evaluation.error


def test_a_model_hanging_in_forward_is_killed_at_the_time_limit(
    tmp_path: Path, empty_data_dir: Path
) -> None:
    code = answering("logits if self.calls < 5 else __import__('time').sleep(60)")
    evaluation = evaluate(broken_submission(tmp_path / "s", code), data_dir=empty_data_dir,
                          track=quick("speed"), time_limit_s=1)  # fmt: skip
    assert evaluation.error == "timed out: the evaluation took longer than 1 s"


def test_what_the_model_prints_goes_to_its_log_not_the_pipe(
    tmp_path: Path, empty_data_dir: Path
) -> None:
    code = answering("print('a stray print', logits.shape) or logits")
    evaluation = evaluate(broken_submission(tmp_path / "s", code), data_dir=empty_data_dir,
                          track=quick("speed"))  # fmt: skip
    assert evaluation.valid, evaluation.error


def test_the_network_is_cut_where_the_os_allows(tmp_path: Path, empty_data_dir: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        code = (
            "\n\nimport socket\ntry:\n"
            f"    socket.create_connection(('127.0.0.1', {port}), timeout=2).close()\n"
            "    raise SystemExit('reached the network')\nexcept OSError:\n    pass\n"
        )
        evaluation = evaluate(broken_submission(tmp_path / "s", code), data_dir=empty_data_dir,
                              track=quick("speed"))  # fmt: skip
    if not evaluation.valid:
        assert "reached the network" in evaluation.error, evaluation.error
        pytest.skip("this OS does not allow unprivileged network namespaces")
    assert evaluation.details["network_isolated"]


def test_the_data_directory_is_hidden_where_the_os_allows(
    tmp_path: Path, speed_evaluation: Evaluation
) -> None:
    if not speed_evaluation.details["data_hidden"]:
        pytest.skip("this OS does not allow unprivileged user and mount namespaces")
    data_dir = tmp_path / "data"  # no MNIST: the speed track scores TinyDigits
    data_dir.mkdir()
    (data_dir / "labels.txt").write_text("the answers")
    code = (  # try to unmount what hides it first (MNT_DETACH)
        f"\n\nimport ctypes, os\nctypes.CDLL(None).umount2({str(data_dir).encode()!r}, 2)\n"
        f"if os.listdir({str(data_dir)!r}):\n    raise SystemExit('saw the data directory')\n"
    )
    evaluation = evaluate(broken_submission(tmp_path / "s", code), data_dir=data_dir,
                          track=quick("speed"))  # fmt: skip
    assert evaluation.valid, evaluation.error
    assert evaluation.details["data_hidden"]
    assert (data_dir / "labels.txt").read_text() == "the answers"  # hidden, not changed
