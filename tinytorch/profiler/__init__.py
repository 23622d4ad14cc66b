"""Measuring where time, memory and FLOPs go, laid out as ``torch.profiler``.

* ``profile`` and ``record_function``: every operation timed, forward and backward
  (``profiler.py``), averaged and printed as a table or exported as a Chrome trace
  (``events.py``);
* ``summary`` and ``latency``: a model's layers (output shapes, parameters, activation
  memory, FLOPs) and percentiles of its forward time (``model_stats.py``; PyTorch has no
  built-in summary, this follows the torchinfo package's idea).

FLOPs are counted by ``tinytorch.utils.flop_counter``.
"""

from tinytorch.profiler.events import EventList, FunctionEvent, FunctionEventAvg
from tinytorch.profiler.model_stats import Latency, ModelSummary, latency, summary
from tinytorch.profiler.profiler import ProfilerActivity, profile, record_function

__all__ = [
    "EventList",
    "FunctionEvent",
    "FunctionEventAvg",
    "Latency",
    "ModelSummary",
    "ProfilerActivity",
    "latency",
    "profile",
    "record_function",
    "summary",
]
