"""What the profiler records: one ``FunctionEvent`` per operation or range, and their averages.

An event is a time interval with a name. Events nest: a ``record_function`` range contains
the operations run inside it, so each event knows its parent and children. Its *total* time
is its whole interval, its *self* time the total minus its children's totals: the time spent
in the event itself. ``EventList.key_averages`` groups events by name (and input shapes)
into ``FunctionEventAvg`` rows and ``table`` prints them with PyTorch's columns.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Any

SORT_KEYS = (
    "self_cpu_time_total",
    "cpu_time_total",
    "cpu_time",
    "count",
    "cpu_memory_usage",
    "self_cpu_memory_usage",
    "flops",
)


@dataclass(eq=False)
class FunctionEvent:
    """One operation or ``record_function`` range: times in microseconds from profiling start.

    ``cpu_memory_usage`` is the bytes of new arrays made inside the event (its children's
    included); ``flops`` the floating-point operations of its matrix products.
    """

    id: int
    name: str
    start_us: float
    end_us: float = math.nan
    input_shapes: list = field(default_factory=list)
    cpu_memory_usage: int = 0
    flops: int = 0
    is_user_annotation: bool = False
    cpu_parent: FunctionEvent | None = None
    cpu_children: list[FunctionEvent] = field(default_factory=list)
    count: int = 1

    @property
    def key(self) -> str:
        return self.name

    @property
    def cpu_time_total(self) -> float:
        return self.end_us - self.start_us

    @property
    def self_cpu_time_total(self) -> float:
        return self.cpu_time_total - sum(child.cpu_time_total for child in self.cpu_children)

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total

    @property
    def self_cpu_memory_usage(self) -> int:
        children = sum(child.cpu_memory_usage for child in self.cpu_children)
        return self.cpu_memory_usage - children


@dataclass(eq=False)
class FunctionEventAvg:
    """The events of one key summed: ``count`` calls, their times, memory and FLOPs."""

    key: str
    input_shapes: list | None = None
    count: int = 0
    cpu_time_total: float = 0.0
    self_cpu_time_total: float = 0.0
    cpu_memory_usage: int = 0
    self_cpu_memory_usage: int = 0
    flops: int = 0

    def add(self, event: FunctionEvent) -> None:
        """Add one event's count, total and self times, memory and FLOPs to this row."""
        # BEGIN SOLUTION 14
        self.count += event.count
        self.cpu_time_total += event.cpu_time_total
        self.self_cpu_time_total += event.self_cpu_time_total
        self.cpu_memory_usage += event.cpu_memory_usage
        self.self_cpu_memory_usage += event.self_cpu_memory_usage
        self.flops += event.flops
        # END SOLUTION

    @property
    def cpu_time(self) -> float:
        """Average total time of one call, in microseconds."""
        return self.cpu_time_total / max(self.count, 1)


class EventList(list):
    """A list of events (or of averaged rows) that can be averaged, printed and exported."""

    def __init__(
        self, events: Any = (), profile_memory: bool = False, with_flops: bool = False
    ) -> None:
        super().__init__(events)
        self.profile_memory = profile_memory
        self.with_flops = with_flops

    def key_averages(self, group_by_input_shape: bool = False) -> EventList:
        """One ``FunctionEventAvg`` per event name (per name and input shapes if grouped), in
        order of first appearance. Example: three ``Linear`` calls become one row with
        ``count`` 3 and the sum of their times."""
        # BEGIN SOLUTION 14
        rows: dict[tuple, FunctionEventAvg] = {}
        for event in self:
            shapes = event.input_shapes if group_by_input_shape else None
            key = (event.key, str(shapes))
            if key not in rows:
                rows[key] = FunctionEventAvg(event.key, shapes)
            rows[key].add(event)
        return EventList(rows.values(), self.profile_memory, self.with_flops)
        # END SOLUTION

    def total_average(self) -> FunctionEventAvg:
        """All events summed into one row named ``Total``."""
        total = FunctionEventAvg("Total")
        for event in self:
            total.add(event)
        return total

    def table(
        self,
        sort_by: str | None = None,
        row_limit: int = 100,
        max_name_column_width: int = 55,
        header: str | None = None,
    ) -> str:
        """The events (usually ``key_averages()``) as PyTorch's table, largest ``sort_by`` first.

        Columns: Name, Self CPU %, Self CPU, CPU total %, CPU total, CPU time avg, then CPU Mem
        and Self CPU Mem when profiling memory, # of Calls, Input Shapes when grouped by shape,
        and Total FLOPs (in the unit of the smallest count: K, M, G) when counting FLOPs.
        """
        rows = list(self)
        if sort_by is not None:
            if sort_by not in SORT_KEYS:
                raise ValueError(
                    f"table: cannot sort by {sort_by!r}; choose one of {', '.join(SORT_KEYS)}"
                )
            rows.sort(key=lambda row: getattr(row, sort_by), reverse=True)
        return format_table(self, rows[:row_limit], max_name_column_width, header)

    def export_chrome_trace(self, path: str | os.PathLike) -> None:
        """Write the events as Chrome trace-event JSON, which Perfetto and chrome://tracing open.

        Each event is a complete event (``"ph": "X"``) with its start ``ts`` and duration
        ``dur`` in microseconds, on this process and thread, its input shapes under ``args``.
        """
        pid = os.getpid()
        process = {"ph": "M", "name": "process_name", "pid": pid, "tid": 0}
        process["args"] = {"name": "tinytorch"}
        trace = [process, *(trace_event(event, pid) for event in self)]
        with open(path, "w", encoding="utf-8") as file:
            json.dump({"traceEvents": trace, "displayTimeUnit": "ms"}, file)


def trace_event(event: FunctionEvent, pid: int) -> dict[str, Any]:
    """One event as a Chrome trace "complete event": a name, a start and a duration."""
    return {
        "ph": "X",
        "cat": "user_annotation" if event.is_user_annotation else "cpu_op",
        "name": event.name,
        "pid": pid,
        "tid": 0,
        "ts": event.start_us,
        "dur": event.cpu_time_total,
        "args": {
            "Input Dims": event.input_shapes,
            "Bytes": event.cpu_memory_usage,
            "FLOPs": event.flops,
        },
    }


def format_time(microseconds: float) -> str:
    """``12.345us``, ``1.234ms`` or ``1.234s``, as PyTorch prints times."""
    if microseconds >= 1e6:
        return f"{microseconds / 1e6:.3f}s"
    if microseconds >= 1e3:
        return f"{microseconds / 1e3:.3f}ms"
    return f"{microseconds:.3f}us"


def format_memory(nbytes: int) -> str:
    """``848 B``, ``1.06 KB``, ``2.50 MB`` or ``1.00 GB`` (powers of 1024), as PyTorch prints."""
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if abs(nbytes) >= size:
            return f"{nbytes / size:.2f} {unit}"
    return f"{nbytes} B"


def flops_unit(smallest: int) -> tuple[str, float]:
    """The unit of a FLOPs column whose smallest nonzero value is ``smallest``, as PyTorch
    picks it: (name, divisor). Example: 1920 -> ("KFLOPs", 1000.0)."""
    units = ("FLOPs", "KFLOPs", "MFLOPs", "GFLOPs", "TFLOPs", "PFLOPs")
    power = min(int(math.log10(smallest) // 3), len(units) - 1)
    return units[power], 1000.0**power


def format_table(events: EventList, rows: list, name_width: int, header: str | None) -> str:
    """PyTorch's profiler table for ``rows``, the percentages relative to all of ``events``."""
    self_total = sum(event.self_cpu_time_total for event in events)
    shares = max(self_total, 1e-9)
    with_shapes = any(row.input_shapes is not None for row in rows)
    counted = [event.flops for event in events if event.flops > 0]
    with_flops = events.with_flops and bool(counted)  # no column when nothing was counted
    unit, divisor = flops_unit(min(counted)) if with_flops else ("FLOPs", 1.0)
    columns = ["Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg"]
    columns += ["CPU Mem", "Self CPU Mem"] if events.profile_memory else []
    columns += ["# of Calls"]
    columns += ["Input Shapes"] if with_shapes else []
    columns += [f"Total {unit}"] if with_flops else []
    body = []
    for row in rows:
        cells = [
            f"{100 * row.self_cpu_time_total / shares:.2f}%",
            format_time(row.self_cpu_time_total),
            f"{100 * row.cpu_time_total / shares:.2f}%",
            format_time(row.cpu_time_total),
            format_time(row.cpu_time),
        ]
        if events.profile_memory:
            cells += [format_memory(row.cpu_memory_usage), format_memory(row.self_cpu_memory_usage)]
        cells += [str(row.count)]
        cells += [str(row.input_shapes)] if with_shapes else []
        cells += [f"{row.flops / divisor:.3f}" if row.flops else "--"] if with_flops else []
        body.append(cells)
    width = min(max([4, *(len(row.key) for row in rows)]), name_width)
    widths = [
        max(12, len(name), *(len(cells[i]) for cells in body)) for i, name in enumerate(columns)
    ]

    def line(name: str, cells: list[str]) -> str:
        name = name if len(name) <= width else name[: width - 3] + "..."
        return f"{name:>{width}}  " + "  ".join(f"{c:>{w}}" for c, w in zip(cells, widths))

    rule = "-" * width + "  " + "  ".join("-" * w for w in widths)
    lines = [header] if header else []
    lines += [rule, line("Name", columns), rule]
    lines += [line(row.key, cells) for row, cells in zip(rows, body)]
    lines += [rule, f"Self CPU time total: {format_time(self_total)}"]
    return "\n".join(lines) + "\n"
