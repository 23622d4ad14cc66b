"""tinytorch.profiler.profile, record_function, key_averages, table, Chrome traces (module 14)."""

import json
import math

import numpy as np
import pytest

import tinytorch
from tests.helpers import torch_or_skip
from tinytorch.autograd import function
from tinytorch.models import lenet5
from tinytorch.profiler import (
    EventList,
    FunctionEvent,
    ProfilerActivity,
    profile,
    record_function,
)
from tinytorch.utils.flop_counter import FlopCounterMode

pytestmark = pytest.mark.module14


def mlp() -> tinytorch.nn.Module:
    nn = tinytorch.nn
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))


def profiled_step(**options) -> profile:
    model, x = mlp(), tinytorch.randn(5, 8)
    with profile(**options) as prof:
        with record_function("step"):
            model(x).sum().backward()
    return prof


# ---------------------------------------------------------------------- recording
def test_records_every_forward_op_and_backward_node() -> None:
    rows = {row.key: row.count for row in profiled_step().key_averages()}
    assert rows == {
        "step": 1, "Linear": 2, "ReLU": 1, "Sum": 1,
        "SumBackward": 1, "LinearBackward": 2, "ReLUBackward": 1,
    }  # fmt: skip
    assert function._recorder is None  # nothing watches after the block


def test_ranges_nest_and_self_time_excludes_children() -> None:
    events = profiled_step().events()
    step = next(event for event in events if event.name == "step")
    assert step.is_user_annotation and step.cpu_parent is None
    assert len(step.cpu_children) == len(events) - 1  # every op ran inside the range
    children = sum(child.cpu_time_total for child in step.cpu_children)
    assert math.isclose(step.self_cpu_time_total, step.cpu_time_total - children)
    for child in step.cpu_children:
        assert step.start_us <= child.start_us <= child.end_us <= step.end_us
    assert [e.start_us for e in events] == sorted(e.start_us for e in events)


def test_record_function_as_decorator_and_outside_a_profile() -> None:
    @record_function("double")
    def double(x):
        return x * 2

    assert double(tinytorch.ones(2)).tolist() == [2.0, 2.0]  # no profile: just runs
    with profile() as prof:
        double(tinytorch.ones(2))
        double(tinytorch.ones(2))
    names = [event.name for event in prof.events()]
    assert names == ["double", "Mul", "double", "Mul"]
    with pytest.raises(TypeError, match="name must be a str"):
        record_function(3)


def test_input_shapes_and_grouping() -> None:
    prof = profiled_step(record_shapes=True)
    linear = [e.input_shapes for e in prof.events() if e.name == "Linear"]
    assert linear == [[[5, 8], [16, 8], [16]], [[5, 16], [4, 16], [4]]]
    grouped = prof.key_averages(group_by_input_shape=True)
    assert sum(row.key == "Linear" for row in grouped) == 2
    assert sum(row.key == "Linear" for row in prof.key_averages()) == 1
    with pytest.raises(RuntimeError, match="record_shapes=True"):
        profiled_step().key_averages(group_by_input_shape=True)


def test_memory_is_bytes_of_new_arrays() -> None:
    x = tinytorch.randn(5, 8, requires_grad=True)
    with profile(profile_memory=True) as prof:
        with record_function("all"):
            y = x.relu()  # a new (5, 8) float32 array: 160 bytes
            z = y.reshape(40)  # a view: nothing new
            z.sum().backward()
    events = {event.name: event for event in prof.events()}
    assert events["ReLU"].cpu_memory_usage == 160
    assert events["Reshape"].cpu_memory_usage == 0
    total = sum(e.cpu_memory_usage for e in events["all"].cpu_children)
    assert events["all"].cpu_memory_usage == total > 160
    assert events["all"].self_cpu_memory_usage == 0


def test_flops_agree_with_the_flop_counter() -> None:
    model, images = lenet5(8), tinytorch.randn(4, 1, 8, 8)
    with FlopCounterMode(display=False) as counter, profile(with_flops=True) as prof:
        model(images).sum().backward()
    assert sum(event.flops for event in prof.events()) == counter.get_total_flops() > 0
    conv = prof.key_averages()
    assert {row.key for row in conv if row.flops} == {
        "Conv2d", "Conv2dBackward", "Linear", "LinearBackward",
    }  # fmt: skip


def test_nested_recorders_must_stop_in_order() -> None:
    outer, inner = profile(), FlopCounterMode(display=False)
    outer.start()
    inner.start()
    with pytest.raises(RuntimeError, match="reverse order"):
        outer.stop()
    inner.stop()
    outer.stop()
    with pytest.raises(RuntimeError, match="already recording"):
        with outer:
            outer.start()
    assert function._recorder is None


def test_an_error_inside_the_block_stops_the_profiler() -> None:
    with pytest.raises(RuntimeError, match="matmul"), profile() as prof:
        tinytorch.ones(2, 3) @ tinytorch.ones(2, 3)
    assert function._recorder is None
    assert [event.name for event in prof.events()] == ["MatMul"]


def test_activities() -> None:
    profile(activities=[ProfilerActivity.CPU])
    with pytest.raises(ValueError, match="CPU only"):
        profile(activities=["CUDA"])


# ---------------------------------------------------------------------- averages
def event(name, start, end, children=(), memory=0, flops=0, shapes=()) -> FunctionEvent:
    parent = FunctionEvent(0, name, start, end, list(shapes), memory, flops)
    parent.cpu_children = list(children)
    return parent


def test_key_averages_sums_events_of_one_name() -> None:
    inner = [event("mm", 1, 3, memory=8, flops=10), event("mm", 4, 8, memory=8, flops=10)]
    events = EventList([event("range", 0, 10, inner, memory=16), *inner])
    rows = {row.key: row for row in events.key_averages()}
    assert rows["mm"].count == 2
    assert rows["mm"].cpu_time_total == rows["mm"].self_cpu_time_total == 6
    assert rows["mm"].cpu_time == 3  # the average call
    assert (rows["mm"].cpu_memory_usage, rows["mm"].flops) == (16, 20)
    assert (rows["range"].cpu_time_total, rows["range"].self_cpu_time_total) == (10, 4)
    assert (rows["range"].cpu_memory_usage, rows["range"].self_cpu_memory_usage) == (16, 0)
    total = events.total_average()
    assert total.count == 3 and total.self_cpu_time_total == 10


def test_grouping_by_shape_keeps_shapes_apart() -> None:
    events = EventList([event("mm", 0, 1, shapes=[[2, 3]]), event("mm", 1, 2, shapes=[[4]]),
                        event("mm", 2, 3, shapes=[[2, 3]])])  # fmt: skip
    rows = events.key_averages(group_by_input_shape=True)
    assert [(row.input_shapes, row.count) for row in rows] == [([[2, 3]], 2), ([[4]], 1)]


# ---------------------------------------------------------------------- the table
def test_table_has_pytorchs_columns() -> None:
    torch = torch_or_skip()
    from torch.profiler import profile as torch_profile

    def header(table: str) -> list[str]:
        return [word for word in table.splitlines()[1].split("  ") if word.strip()]

    model = mlp()
    their_model = torch.nn.Sequential(
        torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4)
    )
    options = dict(record_shapes=True, profile_memory=True, with_flops=True)
    with profile(**options) as ours:
        model(tinytorch.randn(5, 8)).sum().backward()
    with torch_profile(**options) as theirs:
        their_model(torch.randn(5, 8)).sum().backward()
    for grouped in (False, True):
        our_table = ours.key_averages(grouped).table(sort_by="self_cpu_time_total")
        their_table = theirs.key_averages(grouped).table(sort_by="self_cpu_time_total")
        assert [w.strip() for w in header(our_table)] == [w.strip() for w in header(their_table)]
        assert our_table.strip().splitlines()[-1].startswith("Self CPU time total: ")


def test_table_sorts_limits_and_hides_unrequested_columns() -> None:
    prof = profiled_step()
    table = prof.key_averages().table(sort_by="cpu_time_total", row_limit=3)
    lines = table.splitlines()
    assert lines[3].split()[0] == "step"  # the range holds everything: largest total
    assert len(lines) == 3 + 3 + 2  # rule, header, rule, 3 rows, rule, footer
    assert "CPU Mem" not in table and "FLOPs" not in table and "Input Shapes" not in table
    with pytest.raises(ValueError, match="cannot sort by 'cuda_time'"):
        prof.key_averages().table(sort_by="cuda_time")


def test_table_scales_flops_and_formats_memory() -> None:
    model, x = tinytorch.nn.Linear(100, 100), tinytorch.randn(100, 100)
    with profile(with_flops=True, profile_memory=True) as prof:
        model(x)
    table = prof.key_averages().table()
    assert "Total MFLOPs" in table and "2.000" in table  # 2 * 100^3 = 2e6
    assert "39.06 KB" in table  # the (100, 100) float32 output


# ---------------------------------------------------------------------- Chrome traces
def test_chrome_trace_loads_with_the_fields_perfetto_needs(tmp_path) -> None:
    prof = profiled_step(record_shapes=True)
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(path)
    trace = json.loads(path.read_text())
    complete = [entry for entry in trace["traceEvents"] if entry["ph"] == "X"]
    assert len(complete) == len(prof.events())
    for entry in complete:
        assert {"name", "ph", "ts", "dur", "pid", "tid", "cat"} <= entry.keys()
        assert isinstance(entry["ts"], float) and entry["dur"] >= 0
        assert isinstance(entry["pid"], int) and isinstance(entry["tid"], int)
    step = next(entry for entry in complete if entry["name"] == "step")
    assert step["cat"] == "user_annotation"
    for entry in complete:  # children lie inside the range, so viewers nest them
        assert step["ts"] <= entry["ts"] and entry["ts"] + entry["dur"] <= step["ts"] + step["dur"]
    linear = next(entry for entry in complete if entry["name"] == "Linear")
    assert linear["args"]["Input Dims"] == [[5, 8], [16, 8], [16]]


def test_profiling_does_not_change_results() -> None:
    images = np.random.randn(4, 1, 8, 8).astype(np.float32)
    model = lenet5(8)
    plain = model(tinytorch.tensor(images))
    plain.sum().backward()
    grads = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    with profile(record_shapes=True, profile_memory=True, with_flops=True):
        watched = model(tinytorch.tensor(images))
        watched.sum().backward()
    np.testing.assert_array_equal(plain.detach().numpy(), watched.detach().numpy())
    for before, param in zip(grads, model.parameters(), strict=True):
        np.testing.assert_array_equal(before, param.grad.numpy())
