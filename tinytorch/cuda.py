"""``tinytorch.cuda``: tinytorch has no GPU, and says so the way PyTorch scripts ask.

Training scripts pick their device with one line that now runs unchanged::

    >>> import tinytorch as torch
    >>> device = "cuda" if torch.cuda.is_available() else "cpu"
    >>> device
    'cpu'
"""


def is_available() -> bool:
    """Always False: tinytorch computes with NumPy on the CPU."""
    return False


def device_count() -> int:
    """The number of GPUs tinytorch can use: 0."""
    return 0
