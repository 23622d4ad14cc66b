"""TransformerDecoderLayer, TransformerDecoder and the encoder-decoder Transformer against
PyTorch, with the same weights loaded into both (module 13)."""

from typing import Any

import numpy as np
import pytest

import tinytorch
import tinytorch.nn as nn
from tests.helpers import assert_close, torch_or_skip

pytestmark = [
    pytest.mark.module13,
    pytest.mark.filterwarnings("ignore:enable_nested_tensor is True"),
]

rng = np.random.default_rng(0)
TOL = {"atol": 1e-9, "rtol": 1e-9}


def twins(kind: str, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
    """The same module in both libraries (float64, eval mode), PyTorch's weights in ours."""
    torch = torch_or_skip()
    theirs = getattr(torch.nn, kind)(*args, **kwargs).double().eval()
    ours = getattr(nn, kind)(*args, **kwargs).double().eval()
    ours.load_state_dict({k: tinytorch.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    return ours, theirs


def run_both(ours: Any, theirs: Any, arrays: list[np.ndarray], **masks: Any) -> None:
    """Forward and backward in both; compare output, input and parameter gradients."""
    torch = torch_or_skip()
    our_inputs = [tinytorch.tensor(a, requires_grad=True) for a in arrays]
    their_inputs = [torch.tensor(a, requires_grad=True) for a in arrays]
    our_masks = {k: None if v is None else tinytorch.tensor(v) for k, v in masks.items()}
    their_masks = {k: None if v is None else torch.tensor(v) for k, v in masks.items()}
    our_out = ours(*our_inputs, **our_masks)
    their_out = theirs(*their_inputs, **their_masks)
    assert_close(our_out, their_out, **TOL)
    upstream = rng.standard_normal(their_out.shape)
    our_out.backward(tinytorch.tensor(upstream))
    their_out.backward(torch.tensor(upstream))
    for mine, reference in zip(our_inputs, their_inputs):
        assert_close(mine.grad, reference.grad, **TOL)
    for (name, mine), (_, reference) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert mine.grad is not None, name
        assert_close(mine.grad, reference.grad, **TOL)


def causal(size: int) -> np.ndarray:
    return np.triu(np.full((size, size), -np.inf), 1)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_decoder_layer_against_pytorch(norm_first: bool, batch_first: bool) -> None:
    ours, theirs = twins(
        "TransformerDecoderLayer", 8, 2, dim_feedforward=16, batch_first=batch_first,
        norm_first=norm_first,
    )  # fmt: skip
    tgt = rng.standard_normal((3, 5, 8) if batch_first else (5, 3, 8))
    memory = rng.standard_normal((3, 7, 8) if batch_first else (7, 3, 8))
    padding = np.zeros((3, 7), bool)
    padding[1, 5:] = True
    run_both(ours, theirs, [tgt, memory], tgt_mask=causal(5), memory_key_padding_mask=padding)


def test_decoder_stack_with_norm() -> None:
    torch = torch_or_skip()
    theirs_layer = torch.nn.TransformerDecoderLayer(8, 4, dim_feedforward=12, batch_first=True)
    theirs = torch.nn.TransformerDecoder(theirs_layer, 2, torch.nn.LayerNorm(8)).double().eval()
    ours_layer = nn.TransformerDecoderLayer(8, 4, dim_feedforward=12, batch_first=True)
    ours = nn.TransformerDecoder(ours_layer, 2, nn.LayerNorm(8)).double().eval()
    ours.load_state_dict({k: tinytorch.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    tgt, memory = rng.standard_normal((2, 4, 8)), rng.standard_normal((2, 6, 8))
    run_both(ours, theirs, [tgt, memory], tgt_mask=causal(4))


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_against_pytorch(batch_first: bool, norm_first: bool) -> None:
    ours, theirs = twins(
        "Transformer", d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=2,
        dim_feedforward=16, batch_first=batch_first, norm_first=norm_first,
    )  # fmt: skip
    src = rng.standard_normal((2, 6, 8) if batch_first else (6, 2, 8))
    tgt = rng.standard_normal((2, 4, 8) if batch_first else (4, 2, 8))
    source_padding = np.zeros((2, 6), bool)
    source_padding[0, 4:] = True
    run_both(
        ours,
        theirs,
        [src, tgt],
        tgt_mask=causal(4),
        src_key_padding_mask=source_padding,
        memory_key_padding_mask=source_padding,
    )


def test_transformer_unbatched_and_mask() -> None:
    torch = torch_or_skip()
    ours, theirs = twins("Transformer", 8, 2, 1, 1, 16)
    run_both(ours, theirs, [rng.standard_normal((5, 8)), rng.standard_normal((3, 8))])
    for size in (1, 4):
        assert_close(
            nn.Transformer.generate_square_subsequent_mask(size),
            torch.nn.Transformer.generate_square_subsequent_mask(size),
        )
    mask = nn.Transformer.generate_square_subsequent_mask(3, dtype=tinytorch.float64)
    assert mask.dtype == tinytorch.float64


def test_transformer_defaults_and_initialisation() -> None:
    model = nn.Transformer(d_model=16, nhead=4, num_encoder_layers=1, num_decoder_layers=1)
    assert len(model.encoder.layers) == 1 and len(model.decoder.layers) == 1
    assert isinstance(model.encoder.norm, nn.LayerNorm)
    weight = model.decoder.layers[0].linear1.weight.detach().numpy()  # (2048, 16)
    bound = np.sqrt(6 / (16 + 2048))  # Xavier-uniform
    assert np.abs(weight).max() <= bound and np.abs(weight).max() > 0.9 * bound
    assert (model.d_model, model.nhead, model.batch_first) == (16, 4, False)


def test_transformer_errors() -> None:
    model = nn.Transformer(8, 2, 1, 1, 16, batch_first=True)
    with pytest.raises(RuntimeError, match="batch number"):
        model(tinytorch.zeros(2, 5, 8), tinytorch.zeros(3, 4, 8))
    with pytest.raises(RuntimeError, match="d_model"):
        model(tinytorch.zeros(2, 5, 8), tinytorch.zeros(2, 4, 6))
    with pytest.raises(RuntimeError, match="relu/gelu"):
        nn.TransformerDecoderLayer(8, 2, activation="tanh")


def test_custom_encoder_and_decoder() -> None:
    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 1)
    model = nn.Transformer(8, 2, dim_feedforward=16, custom_encoder=encoder)
    assert model.encoder is encoder
    out = model(tinytorch.randn(5, 2, 8), tinytorch.randn(3, 2, 8))
    assert out.shape == (3, 2, 8)
