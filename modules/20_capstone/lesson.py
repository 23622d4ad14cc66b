# %% [markdown]
# # Module 20: Capstone, the Torch Olympics
#
# Nineteen modules built a framework; this one puts it in a competition. The Torch Olympics
# has four tracks: **vision** (CIFAR-10 accuracy), **language** (TinyTalks bits per
# character), **speed** (the single-stream p90 latency of a LeNet-5-class digit model) and
# **compression** (the bytes of that model's saved weights). A competition is only as good as
# its referee, so this module is about fairness as much as speed: every rule lives in one
# track definition (`tinytorch/olympics/tracks.py`) that your laptop and the class's
# leaderboard server both read; numbers are measured by the referee with module 19's
# harness, never reported by the competitor; a model runs in a fresh process with time,
# memory and file limits, so that one that crashes, hangs or hoards memory is reported, not
# fatal. You write the referee's judgement and ranking and the language track's score, then
# build, evaluate and compare your own speed and compression submissions.
#
# ## Learning objectives
#
# - State a benchmark's rules completely: task, data split, score, quality floor, limits.
# - Judge a result (finite numbers, accuracy floor) and rank results within MLPerf's closed
#   and open divisions, with ties.
# - Measure a language model in bits per character, and say what log2 V means.
# - Package a model as a submission (manifest, code, checkpoint) and evaluate it in an
#   isolated process; name what that isolation does and does not protect.
# - Trade accuracy, latency and size against each other on a Pareto front.
#
# **Textbook:** *Machine Learning Systems* ([mlsysbook.ai](https://mlsysbook.ai)), chapter
# "Efficient AI" (the efficiency trade-offs), with "Benchmarking AI" for the rules.
#
# **Prerequisites:** module 19 (the MLPerf-style harness: single-stream p90, quality
# targets, divisions), module 15 (quantization), module 09 (LeNet-5), module 07 (saving a
# state dict with `tinytorch.save`).

# %%
# Set-up: test the tinytorch of this workspace (the folder above modules/), not an installed
# copy. Under Jupyter, your edits to the package are reloaded before every cell.
from tito.course.lesson_setup import use_workspace

use_workspace()

# %%
import dataclasses
import math
import tempfile
from pathlib import Path

import tinytorch
from tinytorch import nn
from tinytorch.ao.quantization import quantize_dynamic
from tinytorch.models import lenet5
from tinytorch.olympics.data import load_images
from tinytorch.olympics.evaluate import evaluate
from tinytorch.olympics.measure import sequence_bits
from tinytorch.olympics.results import format_table, judge, rank
from tinytorch.olympics.submission import write_submission
from tinytorch.olympics.tracks import TRACKS, get_track
from tinytorch.utils.data import DataLoader, TensorDataset

tinytorch.manual_seed(0)


def check(name: str, condition: bool, detail: str = "") -> None:
    """Print ✓ name, or stop with ✗ and the reason."""
    assert condition, f"✗ {name}: {detail}"
    print(f"✓ {name}")


# %% [markdown]
# ## The idea
#
# **A track is a rule book.** `Track` is a frozen dataclass: the task, the data set whose
# *test* split is scored, the score's name and direction (`higher_is_better`), the accuracy
# floor, and the limits of an evaluation (wall-clock and CPU seconds, memory, file size, the
# size of `model.py`). Because the server imports the same object, "the rules" cannot drift
# between a learner's laptop and the leaderboard. Tests shrink a track's cost with
# `dataclasses.replace(track, latency_queries=32)`; the server uses the track as it is.
#
# **Valid, then ranked.** As in MLPerf, a result counts only if its accuracy reaches the
# floor (speed and compression: 98% on MNIST, 95% on the 8x8 TinyDigits that ship with
# tinytorch), and only if every number is finite: a NaN compares false with everything, so
# a NaN score would slip through `<` and `>` tests and sort anywhere. Valid results are
# ranked within their division: the *closed* division allows post-training optimizations of
# the model only (quantization with calibration, fusion, threads), the *open* division any
# change (pruning, retraining, a new architecture). Equal scores share a rank: 1, 2, 2, 4.
#
# **Bits per character.** A language model gives each next character a probability
# $p(x_{t+1} \mid x_{\le t})$. Encoding the text with those probabilities costs
# $-\log_2 p$ bits per character (Shannon), so the score is
#
# $$\text{bpc} = -\frac{1}{N} \sum_t \log_2 p(x_{t+1} \mid x_{\le t})
#   = \frac{1}{N \ln 2} \sum_t \text{CE}_t ,$$
#
# the summed cross-entropy (in nats) over $\ln 2$, per predicted character. A model that
# knows nothing spreads its probability over the $V$ characters and pays $\log_2 V$ bits;
# a perfect one pays 0.
#
# **Two processes.** `evaluate(directory)` never imports submitted code: it is the referee.
# It loads the test split, copies the three files to a scratch folder and starts the model
# in a child process (`python -m tinytorch.olympics.model_process`), which limits itself
# (`setrlimit`: address space, CPU seconds, file size), cuts its network and hides the data
# directory where Linux allows (namespaces), imports `model.py`, loads `model.pt` and then
# answers each batch of inputs with logits over a pipe (`tinytorch/olympics/protocol.py`:
# a small header, then the raw array). The referee sends inputs only, never labels; it
# times every round trip with its own clock, checks each answer (dtype, shape, finite) and
# computes every metric itself, so a model that patches `time.perf_counter` or `judge`
# inside its own process changes nothing. The pipe costs every query the same few
# microseconds: before it imports `model.py`, the child answers the same queries with
# zeros, and their p90 is `details["transport_ms"]`. The referee kills the child at the
# wall-clock limit and turns any failure into `Evaluation.error`. What it does not do: run
# the model as another user or hide the whole disk from it (a model could read the
# TinyDigits and TinyTalks test splits that ship with tinytorch).

# %%
for track in TRACKS.values():
    better = "higher" if track.higher_is_better else "lower"
    print(f"{track.name:<12} {track.metric:<20} {better:<7} floor {track.accuracy_floor:.0%}")

# %% [markdown]
# ## Exercise 1: judging a result
#
# **Write** in `tinytorch/olympics/results.py`: `judge`
#
# - `judge(track, accuracy, score, floor)`: return a message if `accuracy` or `score` is not
#   finite (`math.isfinite`), naming the track's metric; else a message if `accuracy` is
#   below `floor`, e.g. `"accuracy 91.00% is below the speed track's floor of 95.00%"`
#   (format fractions with `:.2%`); else None.

# %%
speed = get_track("speed")
check("a result above the floor is valid", judge(speed, 0.97, 0.4, floor=0.95) is None)
verdict = judge(speed, 0.91, 0.4, floor=0.95)
print(verdict)
check("below the floor: invalid, with the reason", "below the speed track's floor" in verdict)
check("a NaN score is invalid", judge(speed, 0.99, math.nan, floor=0.95) is not None)
check("an infinite accuracy is invalid", judge(speed, math.inf, 0.4, floor=0.0) is not None)

# %% [markdown]
# ## Exercise 2: ranking within divisions
#
# **Write** in `tinytorch/olympics/results.py`: `rank`
#
# - `rank(track, entries)`: the loop over divisions is written. For each division, sort its
#   valid entries by `"score"`, best first (`reverse=track.higher_is_better`); walk them
#   with their position 1, 2, 3, ... and append `dict(entry, rank=r)` to `ranked`, where `r`
#   is the position, or the previous entry's rank when the score equals the previous score.


# %%
def entry(name: str, score: float, division: str = "open", valid: bool = True) -> dict:
    return {"name": name, "score": score, "division": division, "valid": valid}


board = rank(
    speed,
    [entry("b", 2.0), entry("a", 1.0), entry("c", 2.0), entry("d", 3.0),
     entry("closed", 9.0, "closed"), entry("nan", 0.5, valid=False)],
)  # fmt: skip
print([(row["name"], row["rank"]) for row in board])
check(
    "closed first, then open fastest first", [r["name"] for r in board][:3] == ["closed", "a", "b"]
)
check("ties share a rank and skip the next", [r["rank"] for r in board][1:5] == [1, 2, 2, 4])
check("invalid results are listed unranked", board[-1]["rank"] is None)
vision = rank(get_track("vision"), [entry("low", 0.5), entry("high", 0.9)])
check("accuracy ranks highest first", vision[0]["name"] == "high")

# %% [markdown]
# ## Exercise 3: bits per character
#
# **Write** in `tinytorch/olympics/measure.py`: `sequence_bits`
#
# - `sequence_bits(logits, targets)`: the bits to encode `targets` (T,) under `logits`
#   (T, V): `F.cross_entropy(logits, targets, reduction="sum")` is the total in nats; divide
#   by `math.log(2)` and return a Python float (`.item()`).

# %%
uniform = tinytorch.zeros(10, 64)  # equal logits: probability 1/64 for each of 64 characters
bits = sequence_bits(uniform, tinytorch.arange(10))
check("knowing nothing costs log2 V = 6 bits per character", abs(bits - 60.0) < 1e-4, bits)
sure = tinytorch.full((3, 4), -30.0)
sure[tinytorch.arange(3), tinytorch.tensor([2, 0, 1])] = 30.0
check(
    "a certain, correct model pays ~0 bits", sequence_bits(sure, tinytorch.tensor([2, 0, 1])) < 1e-6
)

# %% [markdown]
# ## Systems analysis: your speed and compression submissions
#
# Train LeNet-5 on the TinyDigits training split (the digit tracks score TinyDigits where
# MNIST is not in your data directory), then make two submissions: the float model for the
# speed track, and its dynamic int8 quantization (module 15) for the compression track.
# Quantization after training is a post-training technique, so both stay in the closed
# division. `write_submission` writes the three files; `evaluate` measures each in a fresh
# process. The tracks are shortened here (fewer latency queries) to keep the lesson quick:
# `tito olympics run speed DIR` uses the full rules. Every number is measured now, on
# this machine.

# %%
submissions = Path(tempfile.mkdtemp(prefix="olympics-"))  # use a folder you keep
data_dir = submissions / "data"  # no MNIST there: the digit tracks use TinyDigits
train = load_images(speed, train=True, data_dir=data_dir)
print(f"training on {train.dataset}: {tuple(train.images.shape)}")
model = lenet5(8)
optimizer = tinytorch.optim.Adam(model.parameters(), lr=5e-3)
loader = DataLoader(TensorDataset(train.images, train.labels), batch_size=32, shuffle=True)
for _ in range(15):
    for images, labels in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(images), labels).backward()
        optimizer.step()
model.eval()

FLOAT_CODE = """from tinytorch.models import lenet5


def build_model():
    return lenet5(8)
"""
INT8_CODE = """from tinytorch import nn
from tinytorch.ao.quantization import quantize_dynamic
from tinytorch.models import lenet5


def build_model():
    return quantize_dynamic(lenet5(8), {nn.Linear})
"""
write_submission(submissions / "speed", model, FLOAT_CODE, track="speed", division="closed",
                 name="lenet-float")  # fmt: skip
int8 = quantize_dynamic(model, {nn.Linear})
write_submission(submissions / "compression", int8, INT8_CODE, track="compression",
                 division="closed", name="lenet-int8",
                 techniques=["post_training_quantization"])  # fmt: skip
print("submissions written to", submissions)

# %%
evaluations = {}
for name in ("speed", "compression"):
    track = dataclasses.replace(get_track(name), latency_queries=256)
    evaluations[name] = evaluate(submissions / name, data_dir=data_dir, track=track)
    print(format_table(track, rank(track, [evaluations[name].to_dict()])), "\n")
check("the float model reaches the floor", evaluations["speed"].valid, evaluations["speed"].error)
check("so does int8", evaluations["compression"].valid, evaluations["compression"].error)
ratio = evaluations["speed"].size_bytes / evaluations["compression"].size_bytes
print(f"int8 is {ratio:.1f}x smaller; p90 {evaluations['speed'].p90_ms:.3f} ms (float) against "
      f"{evaluations['compression'].p90_ms:.3f} ms (int8)")  # fmt: skip
check("int8 weights make a smaller file", ratio > 1)

# %% [markdown]
# The referee survives a bad model. Below, a submission whose `build_model` raises, and one
# whose code runs forever: both come back as an `Evaluation` with `valid=False` and the
# reason, and the notebook carries on.

# %%
crash = FLOAT_CODE + "\n\ndef build_model():\n    raise RuntimeError('forgot to return')\n"
write_submission(submissions / "crash", model, crash, track="speed", division="closed",
                 name="crash")  # fmt: skip
crashed = evaluate(submissions / "crash", data_dir=data_dir)
print(crashed.error)
check("a crash is reported, not raised", "forgot to return" in crashed.error)
hang = FLOAT_CODE + "\nwhile True:\n    pass\n"
write_submission(submissions / "hang", model, hang, track="speed", division="closed",
                 name="hang")  # fmt: skip
hung = evaluate(submissions / "hang", data_dir=data_dir, time_limit_s=2)
print(hung.error)
check("a hang is stopped at the time limit", hung.error.startswith("timed out"))

# %% [markdown]
# Read the two tables together. The speed track ranks by p90 latency and ignores size; the
# compression track ranks by bytes and ignores latency; both demand the same accuracy. Int8
# weights are a quarter of float32, so the Linear layers (most of LeNet-5's parameters)
# shrink about 4x, and the file about 3x (the convolutions stay float). Dynamic quantization
# also quantizes activations at run time in Python, which on a model this small may cost
# more than it saves: a submission that wins compression may lose speed. Plotting accuracy
# against latency or size for many submissions gives a Pareto front: a submission is on it
# when no other is better in both. To compete, run `tito olympics run speed DIR` (the full
# rules), then `tito olympics submit speed DIR --server URL --token TOKEN` with the server
# and token your instructor gives you; the server measures your model again, on its CPU.
#
# ## Reflection
#
# 1. The server re-measures every submission. Which of the numbers in your table would
#    change on the server's machine, and which should not change at all?
# 2. Why is the compression score the size of the submitted `model.pt`, measured by the
#    referee, and why is `model.py` limited in size? What would a submission hide in code
#    otherwise?
# 3. Pruning half of LeNet-5's channels is an open-division technique. Make a pruned
#    submission (module 16): which track does it help, and does it stay above the floor?
# 4. The model process limits memory with `RLIMIT_AS`. Why does a limit on address
#    space, rather than on memory in use, also stop a model that only reserves memory?
#    What isolation would you add before running strangers' code on a department server?
