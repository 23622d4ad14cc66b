"""An optimizer step writes parameters in place: it bumps their version, as in PyTorch."""

import pytest

import tinytorch
from tests.helpers import torch_or_skip

pytestmark = pytest.mark.module06


def test_optimizer_step_between_forward_and_backward_raises_like_pytorch():
    torch = torch_or_skip()
    outcomes = []
    for lib in (tinytorch, torch):
        lib.manual_seed(0)
        layer = lib.nn.Linear(3, 2)
        optimizer = lib.optim.SGD(layer.parameters(), lr=0.1)
        layer(lib.ones(4, 3)).sum().backward()
        loss = layer(lib.ones(4, 3, requires_grad=True)).sum()  # backward needs the weight
        versions = layer.weight._version
        optimizer.step()
        try:
            loss.backward()
            outcomes.append((layer.weight._version - versions, "no error"))
        except RuntimeError as error:
            outcomes.append((layer.weight._version - versions, str(error).split(":")[0]))
    assert outcomes[0] == outcomes[1]
