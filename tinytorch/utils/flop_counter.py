"""Counting floating-point operations (FLOPs), with the conventions of PyTorch's counter.

A multiply-add is 2 FLOPs, and only matrix products count: a (M, K) @ (K, N) product makes
M * N dot products of length K, so 2 * M * N * K FLOPs. Elementwise operations, reductions,
softmax and normalization are left out: they are cheap next to the products (and
memory-bound). The operations that count:

* ``MatMul`` (``@``, ``matmul``): 2 * batch * M * K * N, batch dimensions broadcast;
* ``Linear``: the product x @ W^T, 2 * rows * in * out (the bias add is free);
* ``Conv2d``: each output pixel of each output channel is a dot product of length
  C/g * kh * kw, so 2 * N * OH * OW * O * C/g * kh * kw (conv1d runs as conv2d);
* ``ScaledDotProductAttention``: the products Q K^T and P V.

Backward repeats the products once per input that needs a gradient (d x = G @ W,
d W = G^T @ x: each as many FLOPs as the forward). As in PyTorch, the weight gradient of a
grouped convolution counts g times the forward, and attention's backward counts four products.

``FlopCounterMode`` counts inside a ``with`` block, per module (named as PyTorch names them:
the root's class name, then attribute paths, ``"Sequential.0"``) and per operation (the
``Function``'s name, ``"LinearBackward"`` for its backward; PyTorch names ATen operators)::

    >>> import tinytorch as torch
    >>> from tinytorch.utils.flop_counter import FlopCounterMode
    >>> model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU())
    >>> with FlopCounterMode(display=False) as counter:
    ...     _ = model(torch.randn(5, 8))
    >>> counter.get_total_flops()  # 2 * 5 * 8 * 16
    1280
    >>> counter.get_flop_counts()["Sequential.0"]
    {'Linear': 1280}
"""

from __future__ import annotations

import math
import weakref
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np

from tinytorch.autograd.function import Context
from tinytorch.autograd.recorder import Recorder
from tinytorch.nn.modules import module as module_hooks
from tinytorch.ops.arithmetic import MatMul
from tinytorch.ops.attention import ScaledDotProductAttention
from tinytorch.ops.conv import Conv2d
from tinytorch.ops.linear import Linear

Shape = tuple[int, ...]


def matmul_flops(a_shape: Shape, b_shape: Shape) -> int:
    """FLOPs of ``a @ b``: 2 * batch * M * K * N for a (..., M, K) and b (..., K, N).

    A 1-D ``a`` is a row (1, K) and a 1-D ``b`` a column (K, 1), as in ``matmul``; the batch
    is the product of the broadcast leading dimensions. Example: (4, 3, 5) @ (5, 6) gives
    2 * 4 * 3 * 5 * 6 = 720.
    """
    # BEGIN SOLUTION 14
    a_shape = (1, *a_shape) if len(a_shape) == 1 else tuple(a_shape)
    b_shape = (*b_shape, 1) if len(b_shape) == 1 else tuple(b_shape)
    batch = math.prod(np.broadcast_shapes(a_shape[:-2], b_shape[:-2]))
    m, k = a_shape[-2:]
    n = b_shape[-1]
    return 2 * batch * m * k * n
    # END SOLUTION


def conv_flops(x_shape: Shape, weight_shape: Shape, out_shape: Shape) -> int:
    """FLOPs of a convolution: x (N, C, ...), weight (O, C/g, *kernel) -> out (N, O, *spatial).

    Every output value is a dot product of length C/g * prod(kernel):
    2 * N * prod(spatial) * O * C/g * prod(kernel). Example: LeNet-5's first layer on 28x28
    images, (1, 1, 28, 28) with (6, 1, 5, 5) -> (1, 6, 28, 28): 2 * 784 * 6 * 25 = 235,200.
    """
    # BEGIN SOLUTION 14
    batch = x_shape[0]
    out_channels, in_per_group, *kernel = weight_shape
    outputs = batch * math.prod(out_shape[2:]) * out_channels
    return 2 * outputs * in_per_group * math.prod(kernel)
    # END SOLUTION


def linear_flops(x_shape: Shape, weight_shape: Shape) -> int:
    """FLOPs of x (*, in) @ W^T for W (out, in): a (rows, in) @ (in, out) product."""
    return matmul_flops((math.prod(x_shape[:-1]), x_shape[-1]), weight_shape[::-1])


def attention_flops(query: Shape, key: Shape, value: Shape) -> tuple[int, int]:
    """FLOPs of attention's two products, (Q K^T, P V), for Q (..., L, E), K (..., S, E) and
    V (..., S, Ev): the scores (..., L, S) are 2 * batch * L * S * E, the output 2 * batch *
    L * S * Ev."""
    scores = matmul_flops(query, (*key[:-2], key[-1], key[-2]))
    batch = np.broadcast_shapes(query[:-2], key[:-2])
    return scores, matmul_flops((*batch, query[-2], key[-2]), value)


def _linear_forward(arrays: list, output: np.ndarray) -> int:
    return linear_flops(arrays[0].shape, arrays[1].shape)


def _linear_backward(node: Context, grad_output: np.ndarray) -> int:
    rows, weight = node.saved_tensors  # d x = G @ W, d W = G^T @ x: each a forward's worth
    needs_x, needs_weight = node.needs_input_grad[:2]
    return linear_flops(rows.shape, weight.shape) * (needs_x + needs_weight)


def _matmul_forward(arrays: list, output: np.ndarray) -> int:
    return matmul_flops(arrays[0].shape, arrays[1].shape)


def _matmul_backward(node: Context, grad_output: np.ndarray) -> int:
    a, b = node.saved_tensors
    needs_a, needs_b = node.needs_input_grad
    return matmul_flops(a.shape, b.shape) * (needs_a + needs_b)


def _conv_forward(arrays: list, output: np.ndarray) -> int:
    return conv_flops(arrays[0].shape, arrays[1].shape, output.shape)


def _conv_backward(node: Context, grad_output: np.ndarray) -> int:
    _, kernels = node.saved_tensors  # (g, O/g, K) for dot products of length K = C/g * kh * kw
    groups, per_group, length = kernels.shape
    # the forward's count, from out = G's shape (N, O, OH, OW) and a weight seen as (O, K)
    forward = conv_flops(grad_output.shape, (groups * per_group, length), grad_output.shape)
    needs_x, needs_weight = node.needs_input_grad[:2]
    return forward * needs_x + groups * forward * needs_weight  # PyTorch's count: g x for d W


def _attention_forward(arrays: list, output: np.ndarray) -> int:
    return sum(attention_flops(arrays[0].shape, arrays[1].shape, arrays[2].shape))


def _attention_backward(node: Context, grad_output: np.ndarray) -> int:
    query, key, value = node.saved_tensors[:3]
    scores, weighted = attention_flops(query.shape, key.shape, value.shape)
    needs_query, needs_key, needs_value = node.needs_input_grad[:3]
    # d P = G V^T always; d V = P^T G, d Q = dS K, d K = dS^T Q when needed
    return weighted * (1 + needs_value) + scores * (needs_query + needs_key)


# Function -> (FLOPs of its forward from (arrays, output), of its backward from (node, grad))
FLOP_FORMULAS: dict[type, tuple[Callable[..., int], Callable[..., int]]] = {
    Linear: (_linear_forward, _linear_backward),
    MatMul: (_matmul_forward, _matmul_backward),
    Conv2d: (_conv_forward, _conv_backward),
    ScaledDotProductAttention: (_attention_forward, _attention_backward),
}


def forward_flops(function: type, arrays: list, output: np.ndarray) -> int:
    """FLOPs of one forward call of ``function`` on ``arrays`` (0 for uncounted operations)."""
    formulas = FLOP_FORMULAS.get(function)
    return 0 if formulas is None else formulas[0](arrays, output)


def backward_flops(node: Context, grad_output: np.ndarray) -> int:
    """FLOPs of running ``node``'s backward (0 for uncounted operations)."""
    formulas = FLOP_FORMULAS.get(node.function)
    return 0 if formulas is None else formulas[1](node, grad_output)


class FlopCounterMode(Recorder):
    """Count the FLOPs of every operation run inside ``with FlopCounterMode() as counter:``.

    Counts go to the ``"Global"`` total and to every module running at the time (backward
    counts go to the modules whose forward made the node). ``depth`` limits the module levels
    of the table printed at exit when ``display`` is true.
    """

    def __init__(self, depth: int = 2, display: bool = True) -> None:
        self.depth = depth
        self.display = display
        self.flop_counts: defaultdict[str, defaultdict[str, int]] = defaultdict(
            lambda: defaultdict(int)
        )
        self._module_names: dict[int, str] = {}
        self._parents: list[str] = ["Global"]
        self._forward_parents: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._handles: list = []

    def get_total_flops(self) -> int:
        """All FLOPs counted."""
        return sum(self.flop_counts["Global"].values())

    def get_flop_counts(self) -> dict[str, dict[str, int]]:
        """{module name: {operation name: FLOPs}}, with ``"Global"`` for everything."""
        return {module: dict(counts) for module, counts in self.flop_counts.items()}

    def get_table(self, depth: int | None = None) -> str:
        """The counts as a table: modules down to ``depth`` levels, each with its operations."""
        depth = self.depth if depth is None else depth
        total = max(self.get_total_flops(), 1)

        def row(label: str, flops: int) -> str:
            return f"{label:<40}{flops:>16,}{100 * flops / total:>9.2f}%"

        lines = [f"{'Module':<40}{'FLOP':>16}{'% Total':>10}"]
        for name, counts in self.flop_counts.items():
            level = name.count(".") + (name != "Global")
            if level <= depth:
                indent = " " * max(level - 1, 0)
                lines.append(row(indent + name, sum(counts.values())))
                lines.extend(row(f"{indent} - {op}", flops) for op, flops in counts.items())
        return "\n".join(lines)

    def start(self) -> None:
        """Reset the counts and begin counting (and tracking modules)."""
        self.flop_counts.clear()
        self._module_names.clear()
        self._parents = ["Global"]
        self._handles = [
            module_hooks.register_module_forward_pre_hook(self._enter_module),
            module_hooks.register_module_forward_hook(self._exit_module),
        ]
        super().start()

    def stop(self) -> None:
        super().stop()
        for handle in self._handles:
            handle.remove()
        if self.display:
            print(self.get_table())

    def _enter_module(self, module: Any, args: tuple) -> None:
        """Name ``module`` (its class name, if no module seen before contains it) and every
        module inside it by its path (``GPT.blocks.0.attn``), then make it a parent."""
        name = self._module_names.setdefault(id(module), type(module).__name__)
        for path, inner in module.named_modules():
            self._module_names.setdefault(id(inner), f"{name}.{path}")
        self._parents.append(name)

    def _exit_module(self, module: Any, args: tuple, output: Any) -> None:
        self._parents.pop()

    def _count(self, parents: tuple[str, ...] | list[str], op: str, flops: int) -> None:
        if flops:
            for parent in dict.fromkeys(parents):  # once each, in order
                self.flop_counts[parent][op] += flops

    def record_forward(self, function: type, ctx: Context, arrays: list) -> np.ndarray:
        output = self.run_forward(function, ctx, arrays)
        self._forward_parents[ctx] = tuple(self._parents)
        self._count(self._parents, function.__name__, forward_flops(function, arrays, output))
        return output

    def record_backward(self, node: Context, grad_output: np.ndarray) -> Any:
        parents = self._forward_parents.get(node, ("Global",))
        name = f"{node.function.__name__}Backward"
        self._count(parents, name, backward_flops(node, grad_output))
        return self.run_backward(node, grad_output)
