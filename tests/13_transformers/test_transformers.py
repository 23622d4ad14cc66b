"""TransformerEncoderLayer, TransformerEncoder, the GPT model, topk and multinomial (module 13).

Tests that run backward need module 05 (autograd) as well and carry its marker.
"""

import numpy as np
import pytest

import tinytorch
import tinytorch.nn as nn
from tests.helpers import assert_close, check_op, torch_or_skip
from tinytorch import multinomial, topk
from tinytorch.models import GPT, GPTConfig

pytestmark = pytest.mark.module13
needs_autograd = pytest.mark.module05


def load_into_torch(ours: nn.Module, theirs) -> None:
    torch = torch_or_skip()
    theirs.load_state_dict(
        {k: torch.tensor(v.detach().numpy()) for k, v in ours.state_dict().items()}
    )


# ---------------------------------------------------------------------- encoder layer
@needs_autograd
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_layer_matches_pytorch(
    norm_first: bool, activation: str, batch_first: bool
) -> None:
    torch = torch_or_skip()
    settings = dict(dim_feedforward=16, activation=activation, batch_first=batch_first)
    ours = nn.TransformerEncoderLayer(8, 2, norm_first=norm_first, **settings).eval()
    theirs = torch.nn.TransformerEncoderLayer(8, 2, norm_first=norm_first, **settings).eval()
    load_into_torch(ours, theirs)
    check_op(
        lambda lib, x: (ours if lib is tinytorch else theirs)(x),
        np.random.randn(3, 4, 8).astype(np.float32),
        atol=1e-5,
    )
    grads = dict(ours.named_parameters())
    for name, param in theirs.named_parameters():
        assert_close(grads[name].grad, param.grad, atol=1e-5)


def test_encoder_layer_with_masks_and_state_dict_keys_match_pytorch() -> None:
    torch = torch_or_skip()
    ours = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    theirs = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    load_into_torch(ours, theirs)
    causal = np.triu(np.ones((5, 5), bool), 1)
    padding = np.zeros((2, 5), bool)
    padding[1, -1] = True

    def encode(lib, x, mask, pad):
        layer = ours if lib is tinytorch else theirs
        return layer(x, src_mask=mask, src_key_padding_mask=pad)

    x = np.random.randn(2, 5, 8).astype(np.float32)
    check_op(encode, x, causal, padding, grad=False)


@needs_autograd
def test_encoder_stack_matches_pytorch() -> None:
    torch = torch_or_skip()
    layer_args = dict(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0, batch_first=True)
    ours = nn.TransformerEncoder(nn.TransformerEncoderLayer(**layer_args), 2, nn.LayerNorm(8))
    theirs = torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(**layer_args),
        2,
        torch.nn.LayerNorm(8),
        enable_nested_tensor=False,
    )
    assert ours.layers[0].linear1.weight is not ours.layers[1].linear1.weight
    load_into_torch(ours, theirs)
    mask = np.triu(np.ones((4, 4), bool), 1)
    x = np.random.randn(2, 4, 8).astype(np.float32)
    check_op(lambda lib, x, m: (ours if lib is tinytorch else theirs)(x, mask=m), x, mask)


def test_encoder_layer_rejects_unknown_activation() -> None:
    with pytest.raises(RuntimeError, match="relu/gelu"):
        nn.TransformerEncoderLayer(8, 2, activation="swish")


# ---------------------------------------------------------------------- GPT
def tiny_gpt(**overrides) -> GPT:
    settings = dict(block_size=16, vocab_size=11, n_layer=2, n_head=2, n_embd=16) | overrides
    return GPT(GPTConfig(**settings))


def test_gpt_shapes_weight_tying_and_loss_at_initialisation() -> None:
    model = tiny_gpt()
    idx = tinytorch.randint(0, 11, (3, 7))
    logits, loss = model(idx)
    assert logits.shape == (3, 7, 11) and loss is None
    assert model.lm_head.weight is model.token_embedding.weight
    names = [name for name, _ in model.named_parameters()]
    assert "lm_head.weight" not in names and len(names) == len(set(names))
    _, loss = model(idx, idx)
    assert abs(loss.item() - np.log(11)) < 0.3  # near-uniform predictions at the start


@needs_autograd
def test_gpt_overfits_a_tiny_batch() -> None:
    model = tiny_gpt()
    data = tinytorch.randint(0, 11, (4, 13))
    inputs, targets = data[:, :-1], data[:, 1:]
    optimizer = tinytorch.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(60):
        _, loss = model(inputs, targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.3


def test_gpt_generate_shape_context_crop_and_top_k() -> None:
    model = tiny_gpt(block_size=4).eval()
    start = tinytorch.zeros(2, 3, dtype=tinytorch.long)
    out = model.generate(start, max_new_tokens=6)
    assert out.shape == (2, 9) and out.dtype == tinytorch.long
    assert np.array_equal(out.detach().numpy()[:, :3], start.detach().numpy())
    last_logits, _ = model(out[:, -4:])
    greedy = model.generate(out, max_new_tokens=1, top_k=1).detach().numpy()[:, -1]
    assert np.array_equal(greedy, last_logits[:, -1].argmax(-1).detach().numpy())
    allowed = topk(model(start)[0][:, -1], 3).indices.detach().numpy()
    for _ in range(5):
        token = model.generate(start, 1, top_k=3).detach().numpy()[:, -1]
        assert all(t in row for t, row in zip(token, allowed))


def test_gpt_rejects_bad_configurations() -> None:
    with pytest.raises(AssertionError, match="divisible"):
        tiny_gpt(n_embd=10, n_head=4)
    with pytest.raises(AssertionError, match="block_size=16"):
        tiny_gpt()(tinytorch.zeros(1, 17, dtype=tinytorch.long))


# ---------------------------------------------------------------------- topk, multinomial
@needs_autograd
@pytest.mark.parametrize("dim, largest", [(-1, True), (0, False), (1, True)])
def test_topk_matches_pytorch(dim: int, largest: bool) -> None:
    torch = torch_or_skip()
    x = np.random.standard_normal((4, 5, 6)).astype(np.float32)
    check_op(lambda lib, a: (topk if lib is tinytorch else torch.topk)(a, 3, dim, largest)[0], x)
    ours = topk(tinytorch.tensor(x), 3, dim, largest).indices
    assert_close(ours, torch.topk(torch.tensor(x), 3, dim, largest).indices)


def test_topk_errors() -> None:
    with pytest.raises(RuntimeError, match="k=4 is out of range"):
        topk(tinytorch.zeros(3), 4)
    assert topk(tinytorch.zeros(3), 3).values.shape == (3,)


def test_multinomial_draws_follow_the_weights() -> None:
    weights = tinytorch.tensor([[0.0, 1.0, 3.0], [5.0, 0.0, 0.0]])
    draws = multinomial(weights, 4000, replacement=True).detach().numpy()
    assert draws.shape == (2, 4000) and draws.dtype == np.int64
    assert abs((draws[0] == 2).mean() - 0.75) < 0.03 and not np.any(draws[0] == 0)
    assert np.all(draws[1] == 0)
    generator = tinytorch.Generator().manual_seed(1)
    again = tinytorch.Generator().manual_seed(1)
    assert np.array_equal(
        multinomial(weights[0], 2, generator=generator).detach().numpy(),
        multinomial(weights[0], 2, generator=again).detach().numpy(),
    )


def test_multinomial_without_replacement_never_repeats() -> None:
    draws = multinomial(tinytorch.ones(5, 10), 10).detach().numpy()
    assert all(sorted(row) == list(range(10)) for row in draws)
    first = multinomial(tinytorch.tensor([[1.0, 100.0, 1.0]] * 3000), 1).detach().numpy()
    assert (first == 1).mean() > 0.95
    with pytest.raises(RuntimeError, match="without replacement"):
        multinomial(tinytorch.tensor([1.0, 0.0, 1.0]), 3)
    with pytest.raises(RuntimeError, match="element < 0"):
        multinomial(tinytorch.tensor([1.0, -1.0]), 1)
