"""The layers: one file per family, as in ``torch.nn.modules``."""

from tinytorch.nn.modules.activation import (
    CELU,
    GELU,
    Hardtanh,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from tinytorch.nn.modules.attention import MultiheadAttention
from tinytorch.nn.modules.container import ModuleDict, ModuleList, Sequential
from tinytorch.nn.modules.conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from tinytorch.nn.modules.dropout import Dropout, Dropout2d
from tinytorch.nn.modules.flatten import Flatten
from tinytorch.nn.modules.linear import Identity, Linear
from tinytorch.nn.modules.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from tinytorch.nn.modules.module import Module
from tinytorch.nn.modules.normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from tinytorch.nn.modules.pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from tinytorch.nn.modules.positional import LearnedPositionalEmbedding, SinusoidalPositionalEncoding
from tinytorch.nn.modules.rnn import (
    GRU,
    LSTM,
    RNN,
    GRUCell,
    LSTMCell,
    RNNBase,
    RNNCell,
    RNNCellBase,
)
from tinytorch.nn.modules.sparse import Embedding
from tinytorch.nn.modules.transformer import (
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)

__all__ = [
    "AdaptiveAvgPool2d",
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "Conv1d",
    "Conv2d",
    "CrossEntropyLoss",
    "Dropout",
    "Embedding",
    "Flatten",
    "GELU",
    "Identity",
    "KLDivLoss",
    "L1Loss",
    "LayerNorm",
    "LearnedPositionalEmbedding",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "MaxPool2d",
    "Module",
    "ModuleDict",
    "ModuleList",
    "MultiheadAttention",
    "NLLLoss",
    "ReLU",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "SinusoidalPositionalEncoding",
    "Softmax",
    "Tanh",
    "TransformerEncoder",
    "TransformerEncoderLayer",
    "CELU",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "Dropout2d",
    "Hardtanh",
    "SmoothL1Loss",
    "Softplus",
    "GRU",
    "GRUCell",
    "LSTM",
    "LSTMCell",
    "RNN",
    "RNNBase",
    "RNNCell",
    "RNNCellBase",
    "Transformer",
    "TransformerDecoder",
    "TransformerDecoderLayer",
]
