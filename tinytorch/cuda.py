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


def manual_seed(seed: int) -> None:
    """Seed the GPU's random numbers: nothing to do without a GPU (as in PyTorch)."""


def manual_seed_all(seed: int) -> None:
    """Seed every GPU's random numbers: nothing to do without a GPU (as in PyTorch).

    ``tinytorch.manual_seed`` seeds everything tinytorch draws."""


def synchronize(device: object = None) -> None:
    """Wait for the GPU to finish its queued work: tinytorch computes eagerly on the CPU, so
    every result is ready when its function returns and there is nothing to wait for."""


def empty_cache() -> None:
    """Release cached GPU memory: there is none."""
