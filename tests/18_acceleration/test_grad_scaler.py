"""``tinytorch.amp.GradScaler``: scale, unscale_, step, update, with PyTorch's semantics."""

import numpy as np
import pytest

import tinytorch
from tinytorch.amp import GradScaler
from tinytorch.amp.grad_scaler import next_scale

pytestmark = pytest.mark.module18


def setup(lib, weights):
    w = lib.tensor(weights, requires_grad=True)
    return w, lib.optim.SGD([w], lr=0.1)


def train(lib, scaler, weights, poisoned_steps, steps=8):
    """A few SGD steps on sum(w^2) * 1e-3, with an inf loss at ``poisoned_steps``."""
    w, optimizer = setup(lib, weights)
    scales = []
    for step in range(steps):
        optimizer.zero_grad()
        loss = (w * w).sum() * 1e-3
        if step in poisoned_steps:
            loss = loss * float("inf")
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        scales.append(scaler.get_scale())
    return w.detach().numpy(), scales


def test_matches_pytorch_over_skips_and_growth():
    torch = pytest.importorskip("torch")
    weights = np.array([0.5, -1.5, 2.0], dtype=np.float32)
    options = {"init_scale": 2.0**10, "growth_interval": 2}
    mine = train(tinytorch, GradScaler("cpu", **options), weights, {1, 4})
    theirs = train(torch, torch.amp.GradScaler("cpu", **options), weights, {1, 4})
    assert mine[1] == theirs[1]
    np.testing.assert_allclose(mine[0], theirs[0], rtol=1e-6)


def test_inf_gradient_skips_the_step_and_halves_the_scale():
    w, optimizer = setup(tinytorch, np.array([1.0, 2.0], dtype=np.float32))
    scaler = GradScaler(init_scale=8.0)
    (scaler.scale((w * w).sum()) * float("nan")).backward()
    assert scaler.step(optimizer) is None
    scaler.update()
    np.testing.assert_array_equal(w.detach().numpy(), [1.0, 2.0])
    assert scaler.get_scale() == 4.0


def test_unscale_gives_true_gradients_for_clipping():
    w, optimizer = setup(tinytorch, np.array([3.0], dtype=np.float32))
    scaler = GradScaler(init_scale=1024.0)
    scaler.scale((w * w).sum()).backward()
    np.testing.assert_allclose(w.grad.numpy(), [6.0 * 1024])
    scaler.unscale_(optimizer)
    np.testing.assert_allclose(w.grad.numpy(), [6.0])
    scaler.step(optimizer)  # does not unscale a second time
    np.testing.assert_allclose(w.detach().numpy(), [3.0 - 0.1 * 6.0])


def test_loss_scaling_keeps_tiny_float16_gradients():
    tiny = np.float16(1e-4) * np.float16(1e-4)  # what a float16 backward would compute
    scaled = np.float16(1e-4 * 1024) * np.float16(1e-4)
    assert tiny == 0 and scaled != 0
    assert abs(float(scaled) / 1024 - 1e-8) < 1e-10


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((8.0, 0, True, 2.0, 0.5, 3), (4.0, 0)),
        ((8.0, 1, False, 2.0, 0.5, 3), (8.0, 2)),
        ((8.0, 2, False, 2.0, 0.5, 3), (16.0, 0)),
        ((8.0, 2, True, 2.0, 0.5, 3), (4.0, 0)),
    ],
)
def test_next_scale(args, expected):
    assert next_scale(*args) == expected


def test_disabled_scaler_passes_through():
    w, optimizer = setup(tinytorch, np.array([1.0], dtype=np.float32))
    scaler = GradScaler(enabled=False)
    loss = (w * w).sum()
    assert scaler.scale(loss) is loss
    loss.backward()
    scaler.step(optimizer)
    scaler.update()
    np.testing.assert_allclose(w.detach().numpy(), [0.8])
    assert scaler.get_scale() == 1.0 and scaler.state_dict() == {}


def test_state_dict_round_trip():
    scaler = GradScaler(init_scale=32.0, growth_interval=5)
    scaler._growth_tracker = 3
    other = GradScaler()
    other.load_state_dict(scaler.state_dict())
    assert other.state_dict() == scaler.state_dict()


def test_misuse_raises_like_pytorch():
    w, optimizer = setup(tinytorch, np.array([1.0], dtype=np.float32))
    scaler = GradScaler()
    scaler.scale((w * w).sum()).backward()
    scaler.unscale_(optimizer)
    with pytest.raises(RuntimeError, match="already been called on this optimizer"):
        scaler.unscale_(optimizer)
    scaler.step(optimizer)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        scaler.step(optimizer)
    with pytest.raises(RuntimeError, match="after step"):
        scaler.unscale_(optimizer)
    scaler.update()
    with pytest.raises(RuntimeError, match="No inf checks were recorded"):
        scaler.update()


def test_float16_gradients_are_refused():
    w = tinytorch.tensor([1.0], dtype=tinytorch.float16, requires_grad=True)
    optimizer = tinytorch.optim.SGD([w], lr=0.1)
    scaler = GradScaler()
    scaler.scale((w * w).sum()).backward()
    with pytest.raises(ValueError, match="unscale FP16 gradients"):
        scaler.unscale_(optimizer)


@pytest.mark.parametrize(
    ("option", "value"), [("growth_factor", 1.0), ("backoff_factor", 1.5), ("growth_interval", 0)]
)
def test_bad_options_raise(option, value):
    with pytest.raises(ValueError, match=option):
        GradScaler(**{option: value})
