"""tinytorch.profiler.summary, latency and percentile (module 14)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinytorch
from tinytorch.models import GPT, GPTConfig, lenet5
from tinytorch.profiler import latency, summary
from tinytorch.profiler.model_stats import percentile
from tinytorch.utils.flop_counter import FlopCounterMode, conv_flops

pytestmark = pytest.mark.module14


def test_lenet5_summary_row_by_row() -> None:
    model, images = lenet5(28), tinytorch.randn(2, 1, 28, 28)
    report = summary(model, images)
    rows = {row.name: row for row in report.rows}
    assert list(rows) == ["", *(name for name, _ in model.named_children())]
    x = images
    for name, layer in model.named_children():  # the real output of every layer
        x = layer(x)
        row = rows[name]
        assert row.output_shape == list(x.shape)
        assert row.activation_bytes == x.detach().numpy().nbytes
        assert row.parameters == sum(p.numel() for p in layer.parameters())
        assert row.kind == type(layer).__name__ and row.depth == 1 and row.calls == 1
    assert rows["0"].flops == conv_flops((2, 1, 28, 28), (6, 1, 5, 5), (2, 6, 28, 28))
    assert rows["2"].flops == 0  # max pooling: no products
    with FlopCounterMode(display=False) as counter:
        model(images)
    assert report.total_flops == rows[""].flops == counter.get_total_flops()
    assert report.total_parameters == sum(p.numel() for p in model.parameters())
    assert report.activation_bytes == sum(row.activation_bytes for row in report.rows[1:])
    table = str(report)
    assert "0 (Conv2d)" in table and "[2, 6, 28, 28]" in table
    assert f"{report.total_parameters:,}" in table


def test_summary_counts_buffers_nested_modules_and_tuple_outputs() -> None:
    nn = tinytorch.nn
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4))
    rows = {row.name: row for row in summary(model, tinytorch.randn(2, 1, 6, 6)).rows}
    assert rows["1"].buffers == 4 + 4 + 1  # running mean, running var, batches tracked
    gpt = GPT(GPTConfig(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=8))
    report = summary(gpt, tinytorch.zeros(2, 8, dtype=tinytorch.long))
    rows = {row.name: row for row in report.rows}
    assert rows[""].output_shape == [[2, 8, 11]]  # (logits, None): the tensors' shapes
    assert rows["blocks.0.attn.qkv"].depth == 4
    assert rows["blocks.0.attn.qkv"].flops == 2 * 16 * 8 * 24
    assert "blocks" not in rows  # a ModuleList is never called
    assert tinytorch.is_grad_enabled()
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in gpt.modules())


def test_a_layer_called_twice_sums_its_activations_and_flops() -> None:
    nn = tinytorch.nn

    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = nn.Linear(4, 4)

        def forward(self, x):
            return self.layer(self.layer(x))

    rows = {row.name: row for row in summary(Twice(), tinytorch.randn(3, 4)).rows}
    assert rows["layer"].calls == 2
    assert rows["layer"].activation_bytes == 2 * 3 * 4 * 4
    assert rows["layer"].flops == 2 * (2 * 3 * 4 * 4)


@settings(max_examples=50, deadline=None)
@given(
    samples=st.lists(st.floats(0, 1e3, allow_nan=False), min_size=1, max_size=30),
    q=st.floats(0, 100),
)
def test_percentile_matches_numpy(samples, q) -> None:
    assert percentile(samples, q) == pytest.approx(np.percentile(samples, q), abs=1e-9)


def test_percentile_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="q must be in"):
        percentile([1.0], 101)
    with pytest.raises(ValueError, match="at least one sample"):
        percentile([], 50)


def test_latency_percentiles_are_ordered() -> None:
    model = lenet5(8).eval()
    calls = []
    model.register_forward_hook(lambda module, args, output: calls.append(1))
    result = latency(model, tinytorch.randn(4, 1, 8, 8), warmup=2, repeats=10)
    assert len(calls) == 12 and result.repeats == 10
    assert 0 < result.p50 <= result.p90 <= result.p99
    assert "p50" in str(result) and "ms" in str(result)
    with pytest.raises(ValueError, match="repeats >= 1"):
        latency(model, tinytorch.randn(4, 1, 8, 8), repeats=0)
