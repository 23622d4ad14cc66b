"""A LeNet-5-shaped network, forward and backward, matches PyTorch with copied weights."""

import numpy as np
import pytest

import tinytorch
from tests.helpers import assert_close, random_array

pytestmark = [pytest.mark.module09, pytest.mark.module05]


def lenet5(nn):
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2),  # (N, 6, 28, 28)
        nn.BatchNorm2d(6),
        nn.ReLU(),
        nn.MaxPool2d(2),  # (N, 6, 14, 14)
        nn.Conv2d(6, 16, 5),  # (N, 16, 10, 10)
        nn.ReLU(),
        nn.AvgPool2d(2),  # (N, 16, 5, 5)
        nn.Flatten(),
        nn.Linear(400, 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, 10),
    )


def test_lenet5_forward_backward_matches_pytorch() -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = lenet5(tinytorch.nn), lenet5(torch.nn)
    theirs.load_state_dict(
        {k: torch.tensor(v.detach().numpy()) for k, v in ours.state_dict().items()}
    )
    x, y = random_array((8, 1, 28, 28)), np.arange(8) % 10
    our_loss = tinytorch.nn.functional.cross_entropy(ours(tinytorch.tensor(x)), tinytorch.tensor(y))
    their_loss = torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y))
    assert_close(our_loss, their_loss, atol=1e-5)
    our_loss.backward()
    their_loss.backward()
    theirs_named = dict(theirs.named_parameters())
    for name, param in ours.named_parameters():
        assert_close(param.grad, theirs_named[name].grad, atol=1e-4, rtol=1e-3)
