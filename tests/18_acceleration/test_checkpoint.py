"""Gradient checkpointing gives the values and gradients of the plain run, and PyTorch's."""

import numpy as np
import pytest

import tinytorch
from tinytorch import nn
from tinytorch.utils.checkpoint import checkpoint, checkpoint_sequential

pytestmark = pytest.mark.module18


def make_mlp(p_drop=0.0):
    tinytorch.manual_seed(0)
    return nn.Sequential(
        nn.Linear(6, 8),
        nn.GELU(),
        nn.Dropout(p_drop),
        nn.Linear(8, 8),
        nn.Tanh(),
        nn.Linear(8, 3),
    )


def grads(model):
    return [p.grad.numpy().copy() for p in model.parameters()]


def run_plain(model, x):
    tinytorch.manual_seed(7)
    loss = (model(x) ** 2).sum()
    loss.backward()
    return loss.item()


def run_checkpointed(model, x, **options):
    tinytorch.manual_seed(7)
    loss = (checkpoint(model, x, use_reentrant=False, **options) ** 2).sum()
    loss.backward()
    return loss.item()


@pytest.mark.parametrize("p_drop", [0.0, 0.5])
def test_same_loss_and_gradients_as_the_plain_run(p_drop):
    x = tinytorch.randn(5, 6, requires_grad=True)
    plain, checked = make_mlp(p_drop), make_mlp(p_drop)
    x_plain = x.detach().requires_grad_()
    assert run_checkpointed(checked, x) == run_plain(plain, x_plain)
    for mine, reference in zip(grads(checked), grads(plain), strict=True):
        np.testing.assert_array_equal(mine, reference)
    np.testing.assert_array_equal(x.grad.numpy(), x_plain.grad.numpy())


def test_parameters_train_when_no_input_requires_grad():
    x = tinytorch.randn(5, 6)  # no requires_grad: only the Module's parameters need gradients
    plain, checked = make_mlp(), make_mlp()
    run_plain(plain, x)
    run_checkpointed(checked, x)
    for mine, reference in zip(grads(checked), grads(plain), strict=True):
        np.testing.assert_array_equal(mine, reference)


def test_forward_keeps_no_graph_inside_the_function():
    x = tinytorch.randn(5, 6, requires_grad=True)
    out = checkpoint(make_mlp(), x, use_reentrant=False)
    node = out.grad_fn
    assert type(node).__name__ == "Context" and node.function.__name__ == "Checkpoint"
    assert [a.shape for a in node.saved] == [(5, 6)]  # only the input is kept


def test_without_rng_state_dropout_mask_differs():
    x = tinytorch.randn(64, 6, requires_grad=True)
    plain, checked = make_mlp(0.5), make_mlp(0.5)
    run_plain(plain, x.detach().requires_grad_())
    run_checkpointed(checked, x, preserve_rng_state=False)
    assert any(not np.array_equal(a, b) for a, b in zip(grads(checked), grads(plain), strict=True))


def test_recompute_leaves_the_random_stream_where_it_was():
    x = tinytorch.randn(4, 6, requires_grad=True)
    loss = checkpoint(make_mlp(0.5), x, use_reentrant=False).sum()
    tinytorch.manual_seed(3)
    expected = tinytorch.rand(3).numpy()
    tinytorch.manual_seed(3)
    loss.backward()
    np.testing.assert_array_equal(tinytorch.rand(3).numpy(), expected)


@pytest.mark.parametrize("segments", [1, 2, 3, 6])
def test_checkpoint_sequential_matches_the_plain_run(segments):
    x = tinytorch.randn(5, 6, requires_grad=True)
    plain, checked = make_mlp(0.3), make_mlp(0.3)
    x_plain = x.detach().requires_grad_()
    run_plain(plain, x_plain)
    tinytorch.manual_seed(7)
    (checkpoint_sequential(checked, segments, x, use_reentrant=False) ** 2).sum().backward()
    for mine, reference in zip(grads(checked), grads(plain), strict=True):
        np.testing.assert_array_equal(mine, reference)
    np.testing.assert_array_equal(x.grad.numpy(), x_plain.grad.numpy())


def test_gpt_blocks_checkpointed_give_the_same_gradients():
    from tinytorch.models import GPT, GPTConfig

    config = GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=16)
    tinytorch.manual_seed(0)
    model = GPT(config)
    x = tinytorch.randn(2, 8, 16, requires_grad=True)
    (model.blocks[1](model.blocks[0](x)) ** 2).mean().backward()
    expected = [p.grad.numpy().copy() for p in model.blocks.parameters()]
    model.zero_grad()
    h = checkpoint(model.blocks[0], x, use_reentrant=False)
    (checkpoint(model.blocks[1], h, use_reentrant=False) ** 2).mean().backward()
    for p, reference in zip(model.blocks.parameters(), expected, strict=True):
        np.testing.assert_allclose(p.grad.numpy(), reference, rtol=1e-6, atol=1e-7)


def test_matches_pytorch():
    torch = pytest.importorskip("torch")
    from torch.utils.checkpoint import checkpoint as torch_checkpoint

    rng = np.random.default_rng(0)
    w = rng.standard_normal((6, 4)).astype(np.float32)
    x = rng.standard_normal((3, 6)).astype(np.float32)

    def block(lib, x, w):
        return lib.tanh(x @ w).exp()

    tw, tx = tinytorch.tensor(w, requires_grad=True), tinytorch.tensor(x, requires_grad=True)
    checkpoint(block, tinytorch, tx, tw, use_reentrant=False).sum().backward()
    pw, px = torch.tensor(w, requires_grad=True), torch.tensor(x, requires_grad=True)
    torch_checkpoint(block, torch, px, pw, use_reentrant=False).sum().backward()
    np.testing.assert_allclose(tw.grad.numpy(), pw.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(tx.grad.numpy(), px.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_under_no_grad_it_is_a_plain_call():
    with tinytorch.no_grad():
        out = checkpoint(make_mlp(), tinytorch.randn(2, 6), use_reentrant=False)
    assert out.grad_fn is None and not out.requires_grad


def test_reentrant_without_grad_inputs_warns():
    with pytest.warns(UserWarning, match="none of the inputs have requires_grad"):
        checkpoint(make_mlp(), tinytorch.randn(2, 6), use_reentrant=True)


def test_function_returning_a_tuple_is_refused():
    x = tinytorch.randn(2, 3, requires_grad=True)
    with pytest.raises(TypeError, match="must return one Tensor"):
        checkpoint(lambda t: (t, t), x, use_reentrant=False)


def test_input_changed_in_place_before_backward_raises():
    x = tinytorch.randn(2, 3, requires_grad=True)
    y = x * 1.0
    out = checkpoint(lambda t: t.exp(), y, use_reentrant=False).sum()
    with tinytorch.no_grad():
        y.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.backward()


def test_bad_segment_count_raises():
    with pytest.raises(ValueError, match="segments must be between 1"):
        checkpoint_sequential(make_mlp(), 0, tinytorch.randn(2, 6))


def test_keyword_tensor_that_requires_grad_is_refused():
    x = tinytorch.randn(2, 3, requires_grad=True)
    with pytest.raises(ValueError, match="keyword argument 'scale' requires grad"):
        checkpoint(lambda t, scale: t * scale, x, scale=x * 2, use_reentrant=False)


def test_keyword_arguments_reach_the_function():
    x = tinytorch.randn(2, 3, requires_grad=True)
    checkpoint(lambda t, power: t**power, x, power=3, use_reentrant=False).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * x.detach().numpy() ** 2, rtol=1e-6)


@pytest.mark.parametrize(("count", "segments"), [(6, 4), (5, 2), (4, 4), (7, 3)])
def test_checkpoint_sequential_recomputes_the_same_chunks_as_pytorch(count, segments):
    torch = pytest.importorskip("torch")
    from torch.utils.checkpoint import checkpoint_sequential as torch_checkpoint_sequential

    def calls_per_function(run, x):
        calls = [0] * count

        def make(i):
            def step(t):
                calls[i] += 1
                return (t * 0.5).exp()  # exp saves its output: a recomputation needs it

            return step

        run([make(i) for i in range(count)], segments, x, use_reentrant=False).sum().backward()
        return calls

    mine = calls_per_function(checkpoint_sequential, tinytorch.ones(3, requires_grad=True))
    theirs = calls_per_function(torch_checkpoint_sequential, torch.ones(3, requires_grad=True))
    assert mine == theirs
