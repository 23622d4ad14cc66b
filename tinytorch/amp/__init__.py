"""Mixed precision, as ``torch.amp``: ``GradScaler`` scales the loss so that small gradients
survive float16.

``autocast`` is not provided: on a CPU, NumPy has no fast float16 (or bfloat16) matrix
multiply to switch to, so running an op "in half precision" would only add casts. Half
precision here is a storage format; see module 18's lesson.
"""

from tinytorch.amp.grad_scaler import GradScaler

__all__ = ["GradScaler"]
