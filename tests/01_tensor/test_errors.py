"""Bad input: tinytorch raises where PyTorch raises, with an exception PyTorch code catches."""

import numpy as np
import pytest

import tinytorch
from tests.helpers import assert_both_raise, random_array

pytestmark = pytest.mark.module01

A23, A34, A4 = random_array((2, 3)), random_array((3, 4)), random_array((4,))

BAD_CALLS = {
    "matmul_inner_sizes": (lambda lib, a: a @ a, (A23,)),
    "matmul_vector_sizes": (lambda lib, a, v: a @ v, (A23, A4)),
    "matmul_scalar": (lambda lib, a: a @ a.sum(), (A23,)),
    "matmul_batch_sizes": (lambda lib, a: a.expand(2, 2, 3) @ a.T.expand(3, 3, 2), (A23,)),
    "matmul_dtypes": (lambda lib, a: a @ a.T.double(), (A23,)),
    "add_shapes": (lambda lib, a, b: a + b, (A23, A34)),
    "mul_shapes": (lambda lib, a, v: a * v, (A23, A4)),
    "reshape_size": (lambda lib, a: a.reshape(4, 2), (A23,)),
    "reshape_two_minus_one": (lambda lib, a: a.reshape(-1, -1), (A23,)),
    "view_size": (lambda lib, a: a.view(5), (A23,)),
    "expand_non_one": (lambda lib, a: a.expand(2, 6), (A23,)),
    "expand_shrink": (lambda lib, a: a.expand(1, 3), (A23,)),
    "expand_fewer_dims": (lambda lib, a: a.expand(3), (A23,)),
    "permute_repeat": (lambda lib, a: a.permute(0, 0), (A23,)),
    "permute_count": (lambda lib, a: a.permute(1, 0, 2), (A23,)),
    "transpose_dim": (lambda lib, a: a.transpose(0, 2), (A23,)),
    "squeeze_dim": (lambda lib, a: a.squeeze(3), (A23,)),
    "unsqueeze_dim": (lambda lib, a: a.unsqueeze(4), (A23,)),
    "sum_dim": (lambda lib, a: a.sum(2), (A23,)),
    "mean_int": (lambda lib, a: a.long().mean(), (A23,)),
    "max_dim": (lambda lib, a: a.max(-3), (A23,)),
    "argmax_dim": (lambda lib, a: a.argmax(5), (A23,)),
    "flatten_order": (lambda lib, a: a.flatten(1, 0), (A23,)),
    "repeat_few": (lambda lib, a: a.repeat(2), (A23,)),
    "cat_ndim": (lambda lib, a, v: lib.cat([a, v]), (A23, A4)),
    "cat_sizes": (lambda lib, a, b: lib.cat([a, b], dim=1), (A23, A34)),
    "cat_dim": (lambda lib, a: lib.cat([a, a], dim=2), (A23,)),
    "cat_empty": (lambda lib, a: lib.cat([]), (A23,)),
    "cat_scalars": (lambda lib, a: lib.cat([a.sum(), a.sum()]), (A23,)),
    "stack_shapes": (lambda lib, a, b: lib.stack([a, b]), (A23, A34)),
    "split_sections": (lambda lib, a: a.split([1, 2]), (A23,)),
    "tril_1d": (lambda lib, v: v.tril(), (A4,)),
    "triu_0d": (lambda lib, v: v.sum().triu(), (A4,)),
    "gather_float_index": (lambda lib, a: a.gather(1, a), (A23,)),
    "gather_ndim": (lambda lib, a, i: a.gather(1, i), (A23, np.array([0, 1]))),
    "masked_fill_float_mask": (lambda lib, a: a.masked_fill(a, 0.0), (A23,)),
    "masked_fill_int_mask": (lambda lib, a: a.masked_fill(a.long(), 0.0), (A23,)),
    "where_float_condition": (lambda lib, a: lib.where(a, a, 0.0), (A23,)),
    "index_out_of_range": (lambda lib, a: a[2], (A23,)),
    "index_too_many": (lambda lib, a: a[0, 0, 0], (A23,)),
    "index_mask_shape": (lambda lib, a: a[a.sum(0) > 0], (A23,)),
    "item_many": (lambda lib, a: a.item(), (A23,)),
    "bool_many": (lambda lib, a: bool(a), (A23,)),
    "len_scalar": (lambda lib, a: len(a.sum()), (A23,)),
    "requires_grad_int": (lambda lib, a: a.long().requires_grad_(), (A23,)),
    "backward_no_grad": (lambda lib, a: a.sum().backward(), (A23,)),
    "int_negative_power": (lambda lib, a: a.long() ** -1, (A23,)),
    "add_inplace_shape": (lambda lib, a, b: a.add_(b), (A23, A34)),
    "copy_shape": (lambda lib, a, b: a.copy_(b), (A23, A34)),
    "int_add_float_inplace": (lambda lib, a: a.long().add_(1.5), (A23,)),
}


@pytest.mark.parametrize("name", BAD_CALLS)
def test_raises_like_pytorch(name):
    fn, arrays = BAD_CALLS[name]
    assert_both_raise(fn, *arrays)


def test_error_messages_name_the_shapes():
    a, b = tinytorch.ones(2, 3), tinytorch.ones(4, 5)
    with pytest.raises(RuntimeError, match=r"\(2, 3\).*\(4, 5\)"):
        a @ b
    with pytest.raises(RuntimeError, match=r"shape '\[4, 2\]' is invalid for input of size 6"):
        a.reshape(4, 2)
    with pytest.raises(RuntimeError, match=r"expand"):
        a.expand(4, 3)
    with pytest.raises(RuntimeError, match=r"permute"):
        a.permute(0, 0)
    with pytest.raises(RuntimeError, match=r"\(2, 3\).*\(4, 5\)"):
        tinytorch.cat([a, b])
    with pytest.raises(RuntimeError, match=r"stack"):
        tinytorch.stack([a, b])
    with pytest.raises(RuntimeError, match=r"int64"):
        a.gather(1, a)
    with pytest.raises(RuntimeError, match=r"boolean"):
        a.masked_fill(a, 0.0)
    with pytest.raises(RuntimeError, match=r"floating point"):
        tinytorch.ones(2, dtype=tinytorch.int64).requires_grad_()


def test_only_cpu_device():
    with pytest.raises(RuntimeError, match="CPU"):
        tinytorch.ones(2).to("cuda")
    assert tinytorch.ones(2).to("cpu").device == "cpu"


def test_cuda_is_not_available():
    """``device = "cuda" if torch.cuda.is_available() else "cpu"`` picks the CPU."""
    assert tinytorch.cuda.is_available() is False and tinytorch.cuda.device_count() == 0
    device = "cuda" if tinytorch.cuda.is_available() else "cpu"
    assert tinytorch.zeros(2, device=device).to(device).device == "cpu"
