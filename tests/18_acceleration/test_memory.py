"""Saved-activation bytes, peak memory and Checkpointed modules."""

import numpy as np
import pytest

import tinytorch
from tinytorch import nn
from tinytorch.acceleration import Checkpointed, count_nodes, peak_memory, saved_bytes
from tinytorch.autograd import Function
from tinytorch.models import GPT, GPTConfig

pytestmark = pytest.mark.module18


class KeepInput(Function):
    """Doubles its input and saves it twice for backward."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a, a)
        return a * 2

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * 2


def test_saved_bytes_counts_each_saved_array_once():
    x = tinytorch.randn(10, 20, requires_grad=True)  # 800 bytes
    y = KeepInput.apply(x)
    assert saved_bytes(y) == 800
    z = KeepInput.apply(y)
    assert saved_bytes(z) == 1600
    assert saved_bytes(z + z) == 1600  # one node reached twice is counted once
    assert saved_bytes(x) == 0


def make_gpt():
    tinytorch.manual_seed(0)
    config = GPTConfig(vocab_size=13, block_size=16, n_layer=3, n_head=2, n_embd=32)
    return GPT(config)


def test_checkpointed_gpt_keeps_less_and_gives_the_same_gradients():
    idx = tinytorch.randint(0, 13, (2, 16))
    plain, checked = make_gpt(), make_gpt()
    checked.blocks = nn.ModuleList(Checkpointed(block) for block in checked.blocks)
    _, loss_plain = plain(idx, idx)
    _, loss_checked = checked(idx, idx)
    assert loss_plain.item() == loss_checked.item()
    assert saved_bytes(loss_checked) < saved_bytes(loss_plain) / 2
    loss_plain.backward()
    loss_checked.backward()
    for p, q in zip(plain.parameters(), checked.parameters(), strict=True):
        np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_peak_memory_sees_a_temporary_array():
    def make_and_drop():
        big = np.ones(1_000_000)  # 8 MB, freed before returning
        return float(big.sum())

    result, peak = peak_memory(make_and_drop)
    assert result == 1_000_000.0
    assert 8_000_000 <= peak < 9_000_000


def test_count_nodes():
    x = tinytorch.randn(3, requires_grad=True)
    assert count_nodes(x) == 0
    assert count_nodes((x.exp() * 2).sum()) == 3
