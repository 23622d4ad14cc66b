"""``profile``: time every operation, forward and backward, as ``torch.profiler.profile`` does.

Inside ``with profile() as prof:`` every call of ``Function.apply`` becomes an event named
after the ``Function`` (``Linear``, ``Conv2d``, ``MatMul``; PyTorch names ATen operators,
``aten::addmm``), and every backward node the engine runs an event named ``LinearBackward``
and so on. ``record_function("name")`` adds a named range around a block or a function. The
op's time is its forward (or backward) computation on NumPy arrays; with
``profile_memory=True`` an op's memory is the bytes of the new arrays it returns (a view of
an input costs nothing), with ``with_flops=True`` the FLOPs of its matrix products (see
``tinytorch.utils.flop_counter``). Example::

    >>> import tinytorch as torch
    >>> from tinytorch.profiler import profile, record_function
    >>> model = torch.nn.Linear(4, 2)
    >>> with profile(record_shapes=True) as prof:
    ...     with record_function("step"):
    ...         model(torch.randn(3, 4)).sum().backward()
    >>> sorted({event.name for event in prof.events()})
    ['Linear', 'LinearBackward', 'Sum', 'SumBackward', 'step']
    >>> table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=5)
"""

from __future__ import annotations

import enum
import functools
import math
import os
import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from tinytorch.autograd.function import Context
from tinytorch.autograd.recorder import Recorder
from tinytorch.profiler.events import EventList, FunctionEvent
from tinytorch.utils import flop_counter


class ProfilerActivity(enum.Enum):
    """What to profile. tinytorch runs on the CPU, so ``CPU`` is the only activity."""

    CPU = "CPU"


# The innermost running profile, where record_function ranges go (None: ranges cost nothing).
_current: profile | None = None


class profile(Recorder):  # noqa: N801 - PyTorch's name
    """Record every operation, forward and backward, and ``record_function`` ranges.

    Args:
        activities: ``[ProfilerActivity.CPU]`` or None (the same).
        record_shapes: keep each op's input shapes (``key_averages(group_by_input_shape=True)``).
        profile_memory: keep the bytes of the arrays each op makes.
        with_flops: count the FLOPs of matrix products.
    """

    def __init__(
        self,
        activities: Iterable[ProfilerActivity] | None = None,
        *,
        record_shapes: bool = False,
        profile_memory: bool = False,
        with_flops: bool = False,
    ) -> None:
        for activity in activities or ():
            if activity is not ProfilerActivity.CPU:
                raise ValueError(
                    f"profile: activity {activity!r} is not available; tinytorch runs on the "
                    f"CPU only, pass activities=[ProfilerActivity.CPU]"
                )
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_flops = with_flops
        self._events: list[FunctionEvent] = []
        self._open: list[FunctionEvent] = []  # ranges and ops still running, innermost last
        self._origin_ns = 0
        self._outer_profile: profile | None = None

    # ------------------------------------------------------------------ start and stop
    def start(self) -> None:
        """Clear the events and begin recording."""
        global _current
        super().start()
        self._events.clear()
        self._open.clear()
        self._origin_ns = time.perf_counter_ns()
        self._outer_profile, _current = _current, self

    def stop(self) -> None:
        """Stop recording; the events stay available."""
        global _current
        super().stop()
        _current = self._outer_profile

    # ------------------------------------------------------------------ results
    def events(self) -> EventList:
        """Every recorded event, ordered by start time."""
        ordered = sorted(self._events, key=lambda event: event.start_us)
        return EventList(ordered, self.profile_memory, self.with_flops)

    def key_averages(self, group_by_input_shape: bool = False) -> EventList:
        """The events averaged by name (and input shapes): see ``EventList.key_averages``."""
        if group_by_input_shape and not self.record_shapes:
            raise RuntimeError(
                "key_averages(group_by_input_shape=True) needs the input shapes: profile "
                "with record_shapes=True"
            )
        return self.events().key_averages(group_by_input_shape)

    def export_chrome_trace(self, path: str | os.PathLike) -> None:
        """Write the events as a Chrome trace (open it in https://ui.perfetto.dev)."""
        self.events().export_chrome_trace(path)

    # ------------------------------------------------------------------ recording
    def now_us(self) -> float:
        """Microseconds since ``start()``."""
        return (time.perf_counter_ns() - self._origin_ns) / 1000

    def open_event(self, name: str, input_shapes: list, user_annotation: bool) -> FunctionEvent:
        """Start an event now, as a child of the innermost running one."""
        parent = self._open[-1] if self._open else None
        event = FunctionEvent(
            id=len(self._events),
            name=name,
            start_us=self.now_us(),
            input_shapes=input_shapes,
            is_user_annotation=user_annotation,
            cpu_parent=parent,
        )
        if parent is not None:
            parent.cpu_children.append(event)
        self._events.append(event)
        self._open.append(event)
        return event

    def close_event(self, event: FunctionEvent, end_us: float) -> None:
        """End ``event`` at ``end_us`` (now if NaN); its memory counts toward its parent's."""
        event.end_us = self.now_us() if math.isnan(end_us) else end_us
        self._open.remove(event)
        if event.cpu_parent is not None:
            event.cpu_parent.cpu_memory_usage += event.cpu_memory_usage

    def _shapes(self, values: Iterable[Any]) -> list:
        if not self.record_shapes:
            return []
        return [list(value.shape) if isinstance(value, np.ndarray) else [] for value in values]

    def record_forward(self, function: type, ctx: Context, arrays: list) -> np.ndarray:
        event = self.open_event(function.__name__, self._shapes(arrays), False)
        end_us = math.nan
        try:
            output = self.run_forward(function, ctx, arrays)
            end_us = self.now_us()
            if self.profile_memory:
                event.cpu_memory_usage += new_bytes([output], arrays)
            if self.with_flops:
                event.flops = flop_counter.forward_flops(function, arrays, output)
        finally:
            self.close_event(event, end_us)
        return output

    def record_backward(self, node: Context, grad_output: np.ndarray) -> Any:
        name = f"{node.function.__name__}Backward"
        event = self.open_event(name, self._shapes([grad_output]), False)
        end_us = math.nan
        try:
            grads = self.run_backward(node, grad_output)
            end_us = self.now_us()
            if self.profile_memory:
                returned = grads if isinstance(grads, tuple) else (grads,)
                event.cpu_memory_usage += new_bytes(returned, [grad_output])
            if self.with_flops:
                event.flops = flop_counter.backward_flops(node, grad_output)
        finally:
            self.close_event(event, end_us)
        return grads


def new_bytes(outputs: Iterable[Any], inputs: Iterable[Any]) -> int:
    """Bytes of the arrays in ``outputs`` that are new: not views of any array in ``inputs``."""
    sources = [array for array in inputs if isinstance(array, np.ndarray)]
    return sum(
        output.nbytes
        for output in outputs
        if isinstance(output, np.ndarray)
        and not any(np.may_share_memory(output, source) for source in sources)
    )


class record_function:  # noqa: N801 - PyTorch's name
    """A named range in the profile, around a block (``with``) or every call of a function.

    Outside a running ``profile`` it records nothing and costs one check. Example::

        with record_function("data loading"):
            batch = next(loader)

        @record_function("train step")
        def step(): ...
    """

    def __init__(self, name: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"record_function: name must be a str, got {type(name).__name__}")
        self.name = name
        self._ranges: list[tuple[profile, FunctionEvent]] = []

    def __enter__(self) -> record_function:
        if _current is not None:
            self._ranges.append((_current, _current.open_event(self.name, [], True)))
        else:
            self._ranges.append((None, None))
        return self

    def __exit__(self, *exc_info: object) -> None:
        recorder, event = self._ranges.pop()
        if recorder is not None:
            recorder.close_event(event, recorder.now_us())

    def __call__(self, function: Callable) -> Callable:
        @functools.wraps(function)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            with record_function(self.name):
                return function(*args, **kwargs)

        return wrapped
