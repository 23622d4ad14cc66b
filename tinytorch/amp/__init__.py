"""Mixed precision, as ``torch.amp``: ``autocast`` runs matrix products, linear layers,
convolutions and attention in float16 inside its region; ``GradScaler`` scales the loss so
that small gradients survive float16.

On a CPU, NumPy has no fast float16 matrix multiply: a lowered op shows half precision's
numerics and halves its output's bytes, but costs time. See module 18's lesson, and
docs/deviations.md for what differs from PyTorch (float16 instead of bfloat16).
"""

from tinytorch.amp.autocast_mode import autocast, get_autocast_dtype, is_autocast_enabled
from tinytorch.amp.grad_scaler import GradScaler

__all__ = ["GradScaler", "autocast", "get_autocast_dtype", "is_autocast_enabled"]
