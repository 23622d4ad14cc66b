"""``tinytorch.onnx``: exporting a model to the ONNX format is not supported.

Scripts often end with ``torch.onnx.export(model, example, "model.onnx")``. tinytorch records
no graph that an exporter could translate, so ``export`` stops with a message that says how
to get an ONNX file with PyTorch instead.
"""

from __future__ import annotations

from typing import Any


def export(model: Any, args: Any = None, f: Any = None, *more: Any, **options: Any) -> None:
    """Refuse with ``NotImplementedError``: tinytorch cannot write ONNX files."""
    raise NotImplementedError(
        "tinytorch.onnx.export: exporting to ONNX is not supported by tinytorch. Save the "
        "weights with tinytorch.save(model.state_dict(), path); then, in PyTorch, build the same "
        "model (same parameter names), load them with model.load_state_dict({name: "
        "torch.from_numpy(value.numpy()) for name, value in tinytorch.load(path).items()}) "
        "and call torch.onnx.export on it."
    )


def is_in_onnx_export() -> bool:
    """Whether an ONNX export is running: never, in tinytorch."""
    return False
