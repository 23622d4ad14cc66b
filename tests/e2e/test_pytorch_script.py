"""A PyTorch training script runs unchanged on tinytorch, and learns."""

import importlib.util
from pathlib import Path

import numpy as np

import tinytorch
from tests.helpers import assert_close, torch_or_skip

EXAMPLE = Path(__file__).parents[2] / "examples" / "train_spirals.py"


def load_example():
    spec = importlib.util.spec_from_file_location("train_spirals", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_spirals_example_learns_on_tinytorch():
    accuracy = load_example().train(tinytorch, epochs=25, seed=0, verbose=False)
    assert accuracy >= 0.95


def copy_weights(source, target) -> None:
    """Load the parameters of a PyTorch model into the same tinytorch model."""
    state = {
        name: tinytorch.tensor(value.detach().numpy())
        for name, value in source.state_dict().items()
    }
    target.load_state_dict(state)


def test_same_script_same_numbers_as_pytorch():
    """The identical training loop, from identical weights, gives PyTorch's losses."""
    torch = torch_or_skip()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 8)).astype(np.float32)
    y = rng.integers(0, 3, 64)

    def run(lib, model):
        optimizer = lib.optim.AdamW(model.parameters(), lr=0.01, weight_decay=0.1)
        losses = []
        for _ in range(10):
            optimizer.zero_grad()
            loss = lib.nn.functional.cross_entropy(model(lib.tensor(x)), lib.tensor(y))
            loss.backward()
            lib.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
            optimizer.step()
            losses.append(loss.item())
        return np.array(losses), model

    def build(lib):
        nn = lib.nn
        return nn.Sequential(
            nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 16), nn.GELU(), nn.Linear(16, 3)
        )

    theirs = build(torch)
    ours = build(tinytorch)
    copy_weights(theirs, ours)
    their_losses, theirs = run(torch, theirs)
    our_losses, ours = run(tinytorch, ours)
    np.testing.assert_allclose(our_losses, their_losses, rtol=1e-5, atol=1e-5)
    for (name, mine), (_, reference) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert_close(mine, reference, atol=1e-5, rtol=1e-4), name
