"""``Embedding``: a learned lookup table from token ids to vectors, as in ``torch.nn``."""

from __future__ import annotations

from typing import Any

from tinytorch import dtypes
from tinytorch.autograd.grad_mode import no_grad
from tinytorch.creation import empty
from tinytorch.nn import functional as F
from tinytorch.nn import init
from tinytorch.nn.modules.module import Module
from tinytorch.nn.parameter import Parameter
from tinytorch.tensor import Tensor


class Embedding(Module):
    """A table of ``num_embeddings`` learned vectors; ``forward(ids)`` returns their rows.

    Shapes: ids integer (*) -> (*, embedding_dim); weight (num_embeddings, embedding_dim),
    initialised from N(0, 1) as in PyTorch. The row ``padding_idx`` starts at zero and never
    receives a gradient, so padding tokens stay the zero vector. ``max_norm``, ``norm_type``,
    ``scale_grad_by_freq`` and ``sparse`` are as in ``F.embedding``.
    Example: ``nn.Embedding(65, 32)(torch.tensor([[1, 2, 3]])).shape`` is (1, 3, 32).
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        _weight: Tensor | None = None,
        _freeze: bool = False,
        device: Any = None,
        dtype: dtypes.dtype | None = None,
    ) -> None:
        super().__init__()
        # BEGIN SOLUTION 11
        if padding_idx is not None and not -num_embeddings <= padding_idx < num_embeddings:
            raise AssertionError(
                f"Embedding: padding_idx={padding_idx} must be within "
                f"num_embeddings={num_embeddings}"
            )
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = None if padding_idx is None else padding_idx % num_embeddings
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            table = empty(num_embeddings, embedding_dim, dtype=dtype, device=device)
            self.weight = Parameter(table, requires_grad=not _freeze)
            self.reset_parameters()
        else:
            self.weight = Parameter(_weight, requires_grad=not _freeze)
        # END SOLUTION

    def reset_parameters(self) -> None:
        """Draw the table from N(0, 1) and zero the padding row."""
        # BEGIN SOLUTION 11
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx].fill_(0)
        # END SOLUTION

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.embedding(
            input,
            self.weight,
            self.padding_idx,
            self.max_norm,
            self.norm_type,
            self.scale_grad_by_freq,
            self.sparse,
        )

    @classmethod
    def from_pretrained(
        cls,
        embeddings: Tensor,
        freeze: bool = True,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
    ) -> Embedding:
        """An ``Embedding`` whose table is ``embeddings`` (2-d), frozen unless ``freeze=False``."""
        if embeddings.ndim != 2:
            raise ValueError(
                f"Embedding.from_pretrained: embeddings must be 2-d, got shape "
                f"{tuple(embeddings.shape)}"
            )
        rows, dim = embeddings.shape
        return cls(
            rows,
            dim,
            padding_idx,
            max_norm,
            norm_type,
            scale_grad_by_freq,
            sparse,
            _weight=embeddings,
            _freeze=freeze,
        )

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        return text
