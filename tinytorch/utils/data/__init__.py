"""Feeding data to a model: datasets, samplers, the DataLoader and image transforms.

The pieces fit together as in PyTorch::

    Dataset[i] -> one sample          Sampler -> indices          BatchSampler -> index lists
    DataLoader: for each index list, fetch the samples and collate them into one batch

Example::

    >>> from tinytorch.utils.data import DataLoader, TensorDataset
    >>> data = TensorDataset(tinytorch.randn(10, 3), tinytorch.arange(10))
    >>> for features, labels in DataLoader(data, batch_size=4, shuffle=True):
    ...     features.shape, labels.shape     # (4, 3), (4,) ... then (2, 3), (2,)
"""

from tinytorch.utils.data import transforms
from tinytorch.utils.data.dataloader import DataLoader, default_collate, default_convert
from tinytorch.utils.data.dataset import (
    ConcatDataset,
    Dataset,
    Subset,
    TensorDataset,
    random_split,
)
from tinytorch.utils.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = [
    "BatchSampler",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Subset",
    "TensorDataset",
    "default_collate",
    "default_convert",
    "random_split",
    "transforms",
]
