"""Model compression (module 16): make a trained model smaller and faster.

* ``prune_channels``: remove whole channels/neurons, a smaller dense model (``channels``);
* ``distillation_loss``: train a small student from a large teacher (``distillation``);
* ``factorize_linear`` / ``factorize_linears``: truncated-SVD low-rank layers (``low_rank``);
* ``save_sparse`` / ``load_sparse``: checkpoints that store zeros as bits (``sparse``).

Masked pruning with PyTorch's API lives in ``tinytorch.nn.utils.prune``.
"""

from tinytorch.compression.channels import channels_to_keep, prune_channels
from tinytorch.compression.distillation import DistillationLoss, distillation_loss
from tinytorch.compression.low_rank import factorize_linear, factorize_linears, truncated_svd
from tinytorch.compression.sparse import (
    effective_state_dict,
    from_bitmask,
    load_sparse,
    save_sparse,
    to_bitmask,
)

__all__ = [
    "DistillationLoss",
    "channels_to_keep",
    "distillation_loss",
    "effective_state_dict",
    "factorize_linear",
    "factorize_linears",
    "from_bitmask",
    "load_sparse",
    "prune_channels",
    "save_sparse",
    "to_bitmask",
    "truncated_svd",
]
