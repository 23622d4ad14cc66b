"""Saving whole models built from the layers of modules 09-13 (convolution, normalisation,
embeddings, attention, transformers), and loading them back through the allow-list."""

import io

import numpy as np
import pytest

import tinytorch
from tinytorch import nn, serialization
from tinytorch.models.gpt import GPT, GPTConfig
from tinytorch.serialization import load, save

pytestmark = pytest.mark.module13


def round_trip(obj):
    buffer = io.BytesIO()
    save(obj, buffer)
    buffer.seek(0)
    return load(buffer)


MODELS = {
    "conv": (
        lambda: nn.Sequential(
            nn.Conv2d(4, 3, 3, padding=1), nn.BatchNorm2d(3), nn.MaxPool2d(2), nn.Flatten()
        ),
        lambda model: model(tinytorch.ones(2, 4, 4, 4) * 0.3),
    ),
    "layer_norm": (lambda: nn.LayerNorm(5), lambda model: model(tinytorch.arange(10.0).view(2, 5))),
    "embedding": (lambda: nn.Embedding(10, 4), lambda model: model(tinytorch.tensor([[1, 9]]))),
    "attention": (
        lambda: nn.MultiheadAttention(4, 2, batch_first=True),
        lambda model: model(*[tinytorch.ones(2, 3, 4) * 0.3] * 3)[0],
    ),
    "transformer_layer": (
        lambda: nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0),
        lambda model: model(tinytorch.ones(3, 2, 4) * 0.1),
    ),
}


@pytest.mark.parametrize("name", MODELS)
def test_layers_round_trip_whole(name):
    make, run = MODELS[name]
    tinytorch.manual_seed(0)
    model = make()
    model.eval()
    restored = round_trip(model)
    assert type(restored) is type(model) and not restored.training
    for (key, mine), (_, theirs) in zip(
        restored.state_dict().items(), model.state_dict().items(), strict=True
    ):
        np.testing.assert_array_equal(mine.detach().numpy(), theirs.detach().numpy(), err_msg=key)
    np.testing.assert_allclose(run(restored).detach().numpy(), run(model).detach().numpy())


def test_model_with_a_config_object():
    config = GPTConfig(block_size=8, vocab_size=11, n_layer=1, n_head=2, n_embd=8)
    tinytorch.manual_seed(1)
    model = GPT(config)
    model.eval()
    buffer = io.BytesIO()
    save(model, buffer)
    buffer.seek(0)
    with pytest.raises(RuntimeError, match="GPTConfig"):
        load(buffer)
    buffer.seek(0)
    with serialization.safe_globals([GPTConfig]):
        restored = load(buffer)
    tokens = tinytorch.tensor([[1, 2, 3, 10]])
    np.testing.assert_allclose(
        restored(tokens)[0].detach().numpy(), model(tokens)[0].detach().numpy()
    )
