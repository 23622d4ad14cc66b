"""LeNet-5 (LeCun et al., 1998) with ReLU and max pooling, for square grey images.

    >>> import tinytorch as torch
    >>> from tinytorch.models import lenet5
    >>> lenet5(28)(torch.zeros(2, 1, 28, 28)).shape
    (2, 10)

Milestone 04 trains it on digits; the Optimization tier profiles, quantizes and prunes it.
"""

from __future__ import annotations

from tinytorch import nn


def lenet5(image_size: int = 28, num_classes: int = 10) -> nn.Sequential:
    """LeNet-5 for (N, 1, S, S) images with S = 28 (MNIST) or 8 (TinyDigits).

    On 28x28 it is the classic layout: 5x5 convolutions, the first padded so that the map stays
    28x28 as on LeNet's 32x32 input. On 8x8 the filters shrink to 3x3 and both convolutions are
    padded, so that the two poolings leave a 2x2 map instead of nothing.
    """
    if image_size not in (8, 28):
        raise ValueError(f"lenet5 is laid out for 28x28 or 8x8 images, got {image_size}")
    kernel, second_padding = (5, 0) if image_size == 28 else (3, 1)
    side = (image_size // 2 + 2 * second_padding - kernel + 1) // 2  # after the second pooling
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel, padding=kernel // 2),  # (N, 6, S, S)
        nn.ReLU(),
        nn.MaxPool2d(2),  # (N, 6, S/2, S/2)
        nn.Conv2d(6, 16, kernel, padding=second_padding),  # (N, 16, 2 side, 2 side)
        nn.ReLU(),
        nn.MaxPool2d(2),  # (N, 16, side, side)
        nn.Flatten(),  # (N, 16 side^2)
        nn.Linear(16 * side * side, 120), nn.ReLU(),  # (N, 120)
        nn.Linear(120, 84), nn.ReLU(),  # (N, 84)
        nn.Linear(84, num_classes),  # (N, classes): one score per class
    )  # fmt: skip
