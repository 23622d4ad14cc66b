"""The MLPerf-style harness (module 19): scenarios on a fake clock, verdicts, the report."""

import json

import numpy as np
import pytest

import tinytorch
from tinytorch.models import lenet5
from tinytorch.utils.benchmark.mlperf import (
    MIN_QUERY_COUNT,
    SCHEMA,
    Division,
    Harness,
    Report,
    bootstrap_ci,
    describe_system,
    model_size_bytes,
    offline,
    single_stream,
    validate_techniques,
)

pytestmark = pytest.mark.module19


class FakeClock:
    """Time moves only when a query or batch runs: by the next of ``durations`` seconds."""

    def __init__(self, durations: list[float]) -> None:
        self.durations, self.now, self.calls = durations, 0.0, 0

    def __call__(self) -> float:
        return self.now

    def work(self, _sample=None) -> None:
        self.now += self.durations[self.calls % len(self.durations)]
        self.calls += 1


def test_single_stream_runs_the_minimum_query_count_and_p90() -> None:
    latencies = [0.001 * (i + 1) for i in range(10)]  # 1 .. 10 ms, repeating
    clock = FakeClock(latencies)
    result = single_stream(clock.work, list(range(7)), warmup=0, clock=clock)
    assert result.queries == MIN_QUERY_COUNT == 1024
    assert result.latencies[:10] == pytest.approx(latencies)
    assert result.p90 == pytest.approx(np.percentile(result.latencies, 90))
    assert result.p50 == pytest.approx(np.percentile(result.latencies, 50))
    assert result.to_dict()["min_query_count_met"]


def test_single_stream_honours_min_duration_and_time_bound() -> None:
    clock = FakeClock([0.01])
    longer = single_stream(clock.work, [0], min_query_count=10, min_duration=1.0, clock=clock)
    assert longer.queries == 100  # 10 queries are not enough: 1 s is
    clock = FakeClock([0.5])
    bounded = single_stream(clock.work, [0], max_duration=2.0, warmup=3, clock=clock)
    assert bounded.queries == 4 and clock.calls == 7  # 3 warm-up queries are untimed
    assert not bounded.to_dict()["min_query_count_met"]


def test_single_stream_sends_samples_one_at_a_time_in_order() -> None:
    seen = []
    single_stream(seen.append, ["a", "b", "c"], min_query_count=5, warmup=2)
    assert seen == ["a", "b", "a", "b", "c", "a", "b"]


def test_offline_throughput_from_known_batch_times() -> None:
    clock = FakeClock([0.1, 0.1, 0.05])  # 3 batches per pass: 0.25 s per pass
    batches = [np.zeros(64), np.zeros(64), np.zeros(32)]
    result = offline(clock.work, batches, batch_size=64, repeats=4, warmup=1, clock=clock)
    assert result.seconds == pytest.approx([0.25] * 4)
    assert result.samples == 160
    assert result.throughput == pytest.approx(640.0)
    assert result.to_dict()["samples_per_s_ci95"] == pytest.approx([640.0, 640.0])


def test_bootstrap_ci_brackets_the_statistic_and_narrows_with_data() -> None:
    rng = np.random.default_rng(1)
    small, large = rng.normal(10, 1, 30), rng.normal(10, 1, 3000)
    low, high = bootstrap_ci(small)
    assert low < small.mean() < high
    assert bootstrap_ci(small) == (low, high)  # seeded: reproducible
    low_large, high_large = bootstrap_ci(large)
    assert high_large - low_large < (high - low) / 4
    p90_low, p90_high = bootstrap_ci(large, lambda x: np.percentile(x, 90))
    assert p90_low < np.percentile(large, 90) < p90_high
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_ci(small, confidence=1.5)


def test_closed_division_refuses_model_changes() -> None:
    validate_techniques(Division.CLOSED, ["post_training_quantization", "calibration"])
    validate_techniques(Division.OPEN, ["channel_pruning", "post_training_quantization"])
    with pytest.raises(ValueError, match="closed division forbids.*channel_pruning"):
        validate_techniques(Division.CLOSED, ["channel_pruning"])
    with pytest.raises(ValueError, match="unknown techniques"):
        validate_techniques(Division.OPEN, ["magic"])


def test_system_description_is_recorded() -> None:
    system = describe_system()
    assert system["cores"] >= 1 and system["numpy"] == np.__version__
    assert {"cpu", "python", "blas", "blas_threads"} <= set(system)


def test_model_size_is_the_saved_file(tmp_path) -> None:
    model = lenet5(8)
    path = tmp_path / "model.pt"
    tinytorch.save(model.state_dict(), path)
    assert model_size_bytes(model) == path.stat().st_size
    parameter_bytes = sum(p.numel() * 4 for p in model.parameters())
    assert parameter_bytes <= model_size_bytes(model) < 2 * parameter_bytes


@pytest.fixture(scope="module")
def digits() -> tuple[tinytorch.Tensor, tinytorch.Tensor]:
    rng = np.random.default_rng(0)
    images = tinytorch.tensor(rng.standard_normal((40, 1, 8, 8)).astype(np.float32))
    return images, tinytorch.tensor(rng.integers(0, 10, 40))


class TickingClock:
    """A clock that moves by ``tick`` seconds every time it is read: each query and each
    offline pass, timed by two reads, takes exactly one tick."""

    def __init__(self, tick: float) -> None:
        self.tick, self.now = tick, 0.0

    def __call__(self) -> float:
        self.now += self.tick
        return self.now


def fast_harness(images, labels, target: float) -> Harness:
    clock = TickingClock(2.0**-10)
    harness = Harness(
        images, labels, target, batch_size=16, min_query_count=20, warmup=1, repeats=2, clock=clock
    )
    return harness


def test_harness_accuracy_and_invalid_verdict(digits) -> None:
    images, labels = digits
    model = lenet5(8)
    predicted = model.eval()(images).argmax(dim=1).numpy()
    expected = float((predicted == labels.numpy()).mean())
    passing = fast_harness(images, labels, target=0.0).run("ok", model, Division.CLOSED)
    assert passing.accuracy == pytest.approx(expected)
    assert passing.verdict == "VALID"
    failing = fast_harness(images, labels, target=expected + 0.01).run(
        "too_inaccurate", model, Division.OPEN, ["channel_pruning"]
    )
    assert failing.verdict == "INVALID"
    report = Report([passing, failing])
    assert report.ranks() == {"ok": 1, "too_inaccurate": None}
    assert "INVALID" in report.table()
    with pytest.raises(ValueError, match="unique, repeated: \\['ok'\\]"):
        Report([passing, passing])


def test_harness_runs_any_callable_with_the_size_it_is_given(digits) -> None:
    # A proxy for a model in another process: a callable with eval(), no state dict.
    images, labels = digits
    model = lenet5(8).eval()

    class Proxy:
        def __call__(self, batch: tinytorch.Tensor) -> tinytorch.Tensor:
            return model(batch)

        def eval(self) -> "Proxy":
            return self

    harness = fast_harness(images, labels, target=0.0)
    result = harness.run("proxy", Proxy(), Division.CLOSED, size_bytes=1234)
    assert result.model_size_bytes == 1234
    assert result.accuracy == harness.run("direct", model, Division.CLOSED).accuracy


def test_report_ranks_valid_results_by_p90_within_a_division(digits) -> None:
    images, labels = digits
    harness = fast_harness(images, labels, target=0.0)
    slow = harness.run("slow", lenet5(8), Division.CLOSED)
    fast = harness.run("fast", lenet5(8), Division.CLOSED)
    slow.single_stream.latencies = [2 * t for t in slow.single_stream.latencies]
    other = harness.run("open_one", lenet5(8), Division.OPEN)
    assert Report([slow, fast, other]).ranks() == {"slow": 2, "fast": 1, "open_one": 1}


def test_json_report_schema(digits, tmp_path) -> None:
    images, labels = digits
    result = fast_harness(images, labels, target=0.0).run("lenet5", lenet5(8), Division.CLOSED)
    path = tmp_path / "report.json"
    Report([result]).save(path)
    data = json.loads(path.read_text())
    assert data["schema"] == SCHEMA
    (row,) = data["results"]
    assert set(row) == {
        "name",
        "division",
        "techniques",
        "verdict",
        "accuracy",
        "quality_target",
        "model_size_bytes",
        "single_stream",
        "offline",
        "system",
        "rank",
    }
    assert set(row["single_stream"]) == {
        "queries",
        "min_query_count_met",
        "duration_s",
        "mean_ms",
        "p50_ms",
        "p90_ms",
        "p90_ci95_ms",
    }
    assert set(row["offline"]) == {
        "samples",
        "batch_size",
        "repeats",
        "samples_per_s",
        "samples_per_s_ci95",
    }
    assert row["single_stream"]["queries"] == 20 and row["offline"]["samples"] == 40
    assert row["single_stream"]["p90_ms"] == pytest.approx(1e3 * 2.0**-10)
    assert row["offline"]["samples_per_s"] == pytest.approx(40 * 2.0**10)
    assert row["system"]["blas_threads"] in (1, None)


def test_harness_rejects_mismatched_data(digits) -> None:
    images, labels = digits
    with pytest.raises(ValueError, match="40 images but 39 labels"):
        Harness(images, labels[:39], 0.5)
    with pytest.raises(ValueError, match="quality_target is an accuracy"):
        Harness(images, labels, 99.0)


def test_without_threadpoolctl_the_system_still_describes_numpy(monkeypatch) -> None:
    from tinytorch import threads

    monkeypatch.setattr(threads, "_threadpoolctl_blas", lambda: None)
    assert threads.blas_info() == []
    system = describe_system()
    assert isinstance(system["blas_threads"], int) and system["blas_threads"] >= 1
    assert system["blas"] and "internal_api" in system["blas"][0]  # from np.show_config
