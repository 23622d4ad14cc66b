"""A nanoGPT-style character model runs unchanged on tinytorch and matches PyTorch."""

import functools
import importlib.util
import math
import sys
from pathlib import Path

import numpy as np

import tinytorch
from tests.helpers import assert_close, torch_or_skip

EXAMPLE = Path(__file__).parents[2] / "examples" / "char_gpt.py"
VOCAB, BLOCK, BATCH = 11, 8, 3


@functools.cache
def load_example():
    """The example as a module (registered first: its dataclass looks itself up there)."""
    spec = importlib.util.spec_from_file_location("char_gpt", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def twin_models(torch):
    """The example's GPT built in tinytorch and in PyTorch, with tinytorch's weights in both."""
    example = load_example()
    config = example.GPTConfig(block_size=BLOCK, vocab_size=VOCAB, n_layer=2, n_head=2, n_embd=8)
    ours = example.define_gpt(tinytorch)(config)  # seeded by conftest: the same every run
    theirs = example.define_gpt(torch)(config)
    theirs.load_state_dict(
        {name: torch.tensor(v.detach().numpy()) for name, v in ours.state_dict().items()}
    )
    assert theirs.lm_head.weight is theirs.transformer.wte.weight  # still tied after loading
    return ours, theirs


def batch(seed):
    """Token ids (BATCH, BLOCK) and their targets, a few of them -1 (ignored by the loss)."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, VOCAB, (BATCH, BLOCK))
    targets = rng.integers(0, VOCAB, (BATCH, BLOCK))
    targets[0, :3] = -1
    return idx, targets


def test_logits_loss_and_gradients_match_pytorch():
    torch = torch_or_skip()
    ours, theirs = twin_models(torch)
    assert ours.lm_head.weight is ours.transformer.wte.weight
    assert ours.num_parameters() == theirs.num_parameters()
    idx, targets = batch(0)
    our_logits, our_loss = ours(tinytorch.tensor(idx), tinytorch.tensor(targets))
    their_logits, their_loss = theirs(torch.tensor(idx), torch.tensor(targets))
    assert_close(our_logits, their_logits)
    assert_close(our_loss, their_loss)
    our_loss.backward()
    their_loss.backward()
    theirs_named = dict(theirs.named_parameters())
    assert [name for name, _ in ours.named_parameters()] == list(theirs_named)
    # The tied table's gradient sums the embedding's and the head's. atol=1e-7 lets through
    # the rounding noise (~1e-9) in the key bias's gradient, which is 0 exactly: softmax
    # ignores a shift shared by all keys. The other gradients' largest entries are 1e-4 to 0.4.
    for name, param in ours.named_parameters():
        expected = theirs_named[name].grad.numpy()
        np.testing.assert_allclose(param.grad.numpy(), expected, atol=1e-7, rtol=1e-5, err_msg=name)
    our_last, _ = ours(tinytorch.tensor(idx))  # without targets: the last position only
    their_last, _ = theirs(torch.tensor(idx))
    assert our_last.shape == (BATCH, 1, VOCAB)
    assert_close(our_last, their_last)


def test_adamw_steps_with_two_groups_and_clipping_match_pytorch():
    """Same weights, same batches, a learning rate set by hand: PyTorch's losses and norms.

    The weights get atol=1e-5 (they agree to 2e-6 here): Adam moves a weight by about
    lr * g / (|g| + eps), so where a gradient is near eps = 1e-8 (the key bias's is 0 up to
    rounding, see above) float32 rounding noise decides the size of the step. Such weights
    hardly change the loss, which matches to 1e-5.
    """
    torch = torch_or_skip()
    ours, theirs = twin_models(torch)

    def run(lib, model):
        optimizer = model.configure_optimizers(0.1, 1e-2, betas=(0.9, 0.99))
        assert [group["weight_decay"] for group in optimizer.param_groups] == [0.1, 0.0]
        history = []
        for step in range(5):
            for group in optimizer.param_groups:
                group["lr"] = 1e-2 * (1 - step / 10)
            idx, targets = batch(step)
            _, loss = model(lib.tensor(idx), lib.tensor(targets))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            norm = lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            history.append((loss.item(), norm.item()))
        return np.array(history)

    np.testing.assert_allclose(run(tinytorch, ours), run(torch, theirs), rtol=1e-5, atol=1e-5)
    theirs_named = dict(theirs.named_parameters())
    for name, param in ours.named_parameters():
        expected = theirs_named[name].detach().numpy()
        np.testing.assert_allclose(
            param.detach().numpy(), expected, atol=1e-5, rtol=0, err_msg=name
        )


def test_example_trains_and_generates_on_tinytorch():
    example = load_example()
    model, losses, _ = example.train(tinytorch, steps=60, batch_size=8, verbose=False)
    assert losses[0] > 0.95 * math.log(model.config.vocab_size)  # starts at chance
    assert np.mean(losses[-5:]) < 0.6 * losses[0], losses

    model.eval()
    prompt = tinytorch.zeros((2, 1), dtype=tinytorch.long)
    for top_k in (5, 1):
        sample = model.generate(prompt, 20, temperature=0.8, top_k=top_k)
        assert sample.shape == (2, 21) and sample.dtype == tinytorch.long
        # Every position fits in one context, so one pass gives each step's logits.
        logits, _ = model(sample[:, :-1], sample[:, 1:])  # (2, 20, vocab_size)
        allowed = logits.topk(top_k, dim=-1).indices  # (2, 20, top_k)
        assert (allowed == sample[:, 1:, None]).any(-1).all(), f"a sample outside top_k={top_k}"
