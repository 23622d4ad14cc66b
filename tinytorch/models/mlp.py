"""The digit-classifying multi-layer perceptron of milestone 03.

>>> import tinytorch as torch
>>> from tinytorch.models import mlp_classifier
>>> mlp_classifier(784, 256)(torch.zeros(2, 784)).shape
(2, 10)
"""

from __future__ import annotations

from tinytorch import nn


def mlp_classifier(inputs: int, hidden: int, num_classes: int = 10) -> nn.Sequential:
    """inputs -> hidden -> hidden // 2 -> classes, with ReLU between the layers."""
    return nn.Sequential(
        nn.Linear(inputs, hidden), nn.ReLU(),  # (N, hidden)
        nn.Linear(hidden, hidden // 2), nn.ReLU(),  # (N, hidden / 2)
        nn.Linear(hidden // 2, num_classes),  # (N, classes)
    )  # fmt: skip
