"""The submitted model in a limited child process, called like a model by the measurer.

Two processes take part in an evaluation (``evaluate.py``):

- the **measuring process** holds the test data (inputs and labels), times every query with
  its own clock and computes every metric. It never imports submitted code: it holds a
  ``ModelProcess``, which it calls like a model;
- the **model process** (``python -m tinytorch.olympics.model_process``, ``main`` below)
  limits itself, imports ``model.py``, loads ``model.pt``, then answers each batch of inputs
  it reads on its standard input with the logits, written to its standard output
  (``protocol.py``: a small header and the raw array). It never sees a label, and whatever
  the submitted code changes inside it (the clock, the harness, the scoring code) changes
  nothing the measurer computes.

The model process talks in this order:

1. a handshake, before any submitted code runs: whether its network is cut and whether the
   data directory is hidden (two bytes);
2. the **echo phase**: it answers every query with zeros of the right shape, without a model,
   until the measurer ends the phase (``ModelProcess.load``). Timing these queries measures
   what the pipe itself costs;
3. it imports the submission and says it is ready (one byte);
4. the **model phase**: it answers every query with the model's logits until the measurer
   closes the pipe.

``ModelProcess`` checks every answer: a float dtype, the shape the track asks for, finite
values. A crash, a hang (killed at the wall-clock limit), running out of memory, a file over
the limit, a malformed answer or an exit in the middle of the run raises ``ModelError`` with
a message saying which.
"""

from __future__ import annotations

import argparse
import errno
import json
import math
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np

import tinytorch
from tinytorch.olympics.protocol import (
    FLOAT_CODES,
    ProtocolError,
    is_end,
    read_array,
    read_data,
    read_header,
    write_array,
    write_end,
)
from tinytorch.olympics.tracks import Track

LOG_FILE = "log.txt"
EXIT_MEMORY, EXIT_FILE_SIZE = 3, 4
EXIT_GRACE_S = 2.0  # how long a child that closed its pipes may take to exit
FLAG_CODE = np.dtype(np.uint8).str.encode("ascii")  # handshake messages are uint8 arrays


class ModelError(Exception):
    """The model process failed; the message says how (crash, hang, memory, bad answer)."""


def logits_shape(input_shape: tuple[int, ...], classes: int) -> tuple[int, ...]:
    """The shape of the logits a model answers for inputs of ``input_shape``: a row of
    ``classes`` per image, (N, C, H, W) -> (N, K), or per position of token ids,
    (B, T) -> (B, T, K)."""
    if len(input_shape) == 2:
        return (*input_shape, classes)
    return (input_shape[0], classes)


# --- the measuring process's side --------------------------------------------------------


class ModelProcess:
    """The model of the submission in ``directory``, running in a limited child process.

    ``model(inputs)`` sends ``inputs`` (a Tensor) and returns the logits the child answers,
    as a Tensor, once checked; it raises ``ModelError`` if the child failed. Until ``load()``
    the child answers zeros (the echo phase, which times the pipe alone); ``load()`` has it
    import the submission. The child never sees ``hide`` (the data directory), where Linux
    allows it. It is killed when ``track.time_limit_s`` seconds have passed since it
    started, or on ``close()``.

    Example::

        >>> with ModelProcess(scratch, track, classes=10) as model:
        ...     zeros = model(images[:4])  # (4, 10), the echo phase
        ...     model.load()
        ...     logits = model(images[:4])  # (4, 10), the submission's
    """

    def __init__(
        self, directory: Path, track: Track, classes: int, hide: Path | None = None
    ) -> None:
        self.track, self.classes = track, classes
        package_parent = str(Path(tinytorch.__file__).resolve().parent.parent)
        command = [sys.executable, "-m", "tinytorch.olympics.model_process",
                   "--track", json.dumps(track.to_dict()), "--classes", str(classes)]  # fmt: skip
        if hide is not None:
            command += ["--hide", str(hide)]
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(directory),
            "PYTHONPATH": package_parent,
            "PYTHONDONTWRITEBYTECODE": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
        }
        self.log_path = directory / LOG_FILE
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                command, cwd=directory, env=env, stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=log, start_new_session=True,
            )  # fmt: skip
        self.timed_out = False
        self.watchdog = threading.Timer(track.time_limit_s, self._time_out)
        self.watchdog.daemon = True
        self.watchdog.start()
        # Sent before any submitted code runs: what the child's isolation achieved.
        self.network_isolated, self.data_hidden = map(bool, self._receive_flags(2))

    def load(self) -> None:
        """End the echo phase: the child imports ``model.py`` and loads ``model.pt``."""
        try:
            write_end(self.process.stdin)
        except OSError as error:
            raise self._failure(error) from None
        self._receive_flags(1)  # the model is built and loaded

    def __call__(self, inputs: tinytorch.Tensor) -> tinytorch.Tensor:
        """The child's logits for ``inputs``, checked: float, the expected shape, finite."""
        expected = logits_shape(tuple(inputs.shape), self.classes)
        try:
            write_array(self.process.stdin, inputs.numpy())
            code, shape = read_header(self.process.stdout)
            if code not in FLOAT_CODES:
                self.close()
                raise ModelError(
                    f"the model answered logits of dtype {code.decode('ascii', 'replace')}; "
                    "return floating-point logits (float32)"
                )
            if shape != expected:
                self.close()
                raise ModelError(
                    f"the model answered logits of shape {shape} for inputs of shape "
                    f"{tuple(inputs.shape)}; expected {expected} (the track's task says why)"
                )
            logits = read_data(self.process.stdout, code, shape)
        except (OSError, ProtocolError) as error:
            raise self._failure(error) from None
        if not np.isfinite(logits).all():
            self.close()
            raise ModelError("the model answered logits that are NaN or infinite")
        return tinytorch.from_numpy(logits)

    def eval(self) -> ModelProcess:
        """Nothing to do: the child put the model in eval mode (module 19's harness calls it)."""
        return self

    def close(self) -> None:
        """Close the child's input (it then exits) and kill what is left of its group."""
        self.watchdog.cancel()
        try:
            self.process.stdin.close()
        except OSError:  # the child is gone and its pipe broken
            pass
        try:
            self.process.wait(timeout=EXIT_GRACE_S)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # and any process the model started
        except (ProcessLookupError, PermissionError, AttributeError):
            self.process.kill()
        self.process.wait()
        self.process.stdout.close()

    def __enter__(self) -> ModelProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _time_out(self) -> None:
        """The watchdog: the wall-clock limit has passed; kill the child's whole group."""
        self.timed_out = True
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError, AttributeError):
            self.process.kill()

    def _receive_flags(self, count: int) -> np.ndarray:
        """A handshake message from the child: ``count`` bytes."""
        try:
            code, shape = read_header(self.process.stdout)
            if (code, shape) != (FLAG_CODE, (count,)):
                raise ProtocolError(f"expected a handshake of {count} bytes, got {code!r} {shape}")
            return read_data(self.process.stdout, code, shape)
        except (OSError, ProtocolError) as error:
            raise self._failure(error) from None

    def _failure(self, error: Exception) -> ModelError:
        """Why the child stopped answering (``error`` is what reading or writing raised):
        the watchdog, its exit status, or a broken message."""
        try:
            code = self.process.wait(timeout=EXIT_GRACE_S)
        except subprocess.TimeoutExpired:  # alive, but it broke the protocol
            self.close()
            return ModelError(f"the model process broke the query protocol: {error}")
        self.close()
        limit = self.track.time_limit_s
        if self.timed_out:
            return ModelError(f"timed out: the evaluation took longer than {limit:g} s")
        if code == EXIT_MEMORY:
            return ModelError(
                f"out of memory: the model needed more than {self.track.memory_limit_mb} MB"
            )
        if code == EXIT_FILE_SIZE:
            return ModelError(f"wrote a file larger than the {self.track.file_limit_mb} MB limit")
        if hasattr(signal, "SIGXCPU") and code == -signal.SIGXCPU:
            return ModelError(f"timed out: used more than {limit:g} s of CPU time")
        if hasattr(signal, "SIGKILL") and code == -signal.SIGKILL:
            return ModelError(f"killed: over the {limit:g} s CPU limit or out of memory "
                              f"({self.track.memory_limit_mb} MB)")  # fmt: skip
        if code != 0:
            return ModelError(
                f"the submission failed (exit code {code}): {last_error(self.log_path)}"
            )
        return ModelError("the model process exited before it answered every query (exit code 0)")


def last_error(path: Path, limit: int = 4096) -> str:
    """The error the process printed last: from its last line that is not indented (where
    Python names the exception) to the end, on one line."""
    with open(path, "rb") as file:
        file.seek(max(0, path.stat().st_size - limit))
        lines = file.read().decode("utf-8", "replace").strip().splitlines()
    starts = [index for index, line in enumerate(lines) if line and not line[0].isspace()]
    error = " ".join(line.strip() for line in lines[starts[-1] if starts else 0 :])
    return error[-500:] or "no output"


# --- the model process's side ----------------------------------------------------------


CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWNET = 0x00020000, 0x10000000, 0x40000000  # <sched.h>
MS_RDONLY = 1  # <sys/mount.h>


def isolate(hide: Path | None) -> tuple[bool, bool]:
    """Cut this process's network and hide the folder ``hide`` from it, on Linux where
    unprivileged user namespaces are allowed. Whether each of the two worked.

    1. New user, network and mount namespaces (``unshare``): the network namespace has no
       interface but a loopback that is down, so the process reaches nothing.
    2. An empty, read-only ``tmpfs`` mounted over ``hide`` (the data directory): the folder
       looks empty.
    3. Nested user and mount namespaces: there the mount of step 2 is locked, so the process
       cannot unmount it to look beneath.

    The process keeps its user id in each user namespace (``map_user``)."""
    if not sys.platform.startswith("linux"):
        return False, False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return False, False
    uid, gid = os.geteuid(), os.getegid()
    if libc.unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS) != 0:
        return libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0, False
    if hide is None or not map_user(uid, gid):
        return True, False
    mounted = libc.mount(b"none", os.fsencode(hide), b"tmpfs", MS_RDONLY, b"mode=555") == 0
    locked = libc.unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0 and map_user(uid, gid)
    return True, mounted and locked


def map_user(uid: int, gid: int) -> bool:
    """Map ``uid`` and ``gid`` to themselves in this process's new user namespace (without
    a map it runs as "nobody" and cannot create a nested namespace). Whether it worked."""
    maps = {"setgroups": "deny", "uid_map": f"{uid} {uid} 1", "gid_map": f"{gid} {gid} 1"}
    try:
        for name, line in maps.items():
            Path("/proc/self", name).write_text(line)
    except OSError:
        return False
    return True


def hidable(folder: str | None) -> Path | None:
    """``folder``, resolved, if hiding it would hide nothing the model process needs (its
    scratch directory, Python, NumPy, tinytorch); else None."""
    if folder is None or not Path(folder).is_dir():
        return None
    folder = Path(folder).resolve()
    needed = [Path.cwd(), Path(sys.prefix), Path(sys.base_prefix), Path(np.__file__).parent,
              Path(tinytorch.__file__).parent]  # fmt: skip
    if any(path.resolve().is_relative_to(folder) for path in needed):
        return None
    return folder


def set_limits(track: Track) -> None:
    """Limit this process's memory, CPU time and written file size (POSIX only)."""
    try:
        import resource
    except ImportError:  # Windows: only the measurer's wall-clock limit applies
        return
    megabyte = 1024 * 1024
    cpu_seconds = math.ceil(track.time_limit_s)
    limits = {  # (soft, hard): SIGXCPU at the soft CPU limit, SIGKILL a second later
        "RLIMIT_AS": (track.memory_limit_mb * megabyte,) * 2,
        "RLIMIT_CPU": (cpu_seconds, cpu_seconds + 1),
        "RLIMIT_FSIZE": (track.file_limit_mb * megabyte,) * 2,
        "RLIMIT_CORE": (0, 0),
    }
    for name, value in limits.items():
        if hasattr(resource, name):
            try:
                resource.setrlimit(getattr(resource, name), value)
            except (ValueError, OSError):  # above the hard limit, or not enforced here
                pass


def load_submission(directory: Path) -> tinytorch.nn.Module:
    """Build the submitted model with ``model.py``'s ``build_model()`` and load ``model.pt``."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("submitted_model", directory / "model.py")
    code = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(code)
    if not callable(getattr(code, "build_model", None)):
        raise TypeError("model.py must define build_model() returning a tinytorch nn.Module")
    model = code.build_model()
    if not isinstance(model, tinytorch.nn.Module):
        raise TypeError(f"build_model() returned {type(model).__name__}, not an nn.Module")
    model.load_state_dict(tinytorch.load(directory / "model.pt"))
    return model.eval()


class EchoModel(tinytorch.nn.Module):
    """Answers zeros of the shape a track asks for: the pipe's cost without a model."""

    def __init__(self, classes: int) -> None:
        super().__init__()
        self.classes = classes

    def forward(self, inputs: tinytorch.Tensor) -> tinytorch.Tensor:
        return tinytorch.zeros(*logits_shape(tuple(inputs.shape), self.classes))


def serve(model, requests, replies) -> None:
    """Answer each batch of inputs read from ``requests`` with the model's logits, written
    to ``replies``, until the measurer ends the phase or closes ``requests``."""
    with tinytorch.no_grad():
        while True:
            try:
                inputs = read_array(requests)
            except ProtocolError:  # the measurer closed the pipe: the evaluation is over
                return
            if is_end(inputs):
                return
            output = model(tinytorch.from_numpy(inputs))
            logits = output[0] if isinstance(output, tuple) else output  # GPT: (logits, loss)
            write_array(replies, logits.numpy())


def main(argv: list[str] | None = None) -> int:
    """The model process: limit and isolate itself, answer the echo phase, load the
    submission in the current directory, then answer its queries (see the module's
    docstring for the order)."""
    parser = argparse.ArgumentParser(description="Serve the submission in this directory.")
    parser.add_argument("--track", required=True, help="the Track as JSON (for its limits)")
    parser.add_argument("--classes", required=True, type=int, help="K, logits per row")
    parser.add_argument("--hide", metavar="FOLDER", help="a folder to hide (the data)")
    args = parser.parse_args(argv)
    requests = sys.stdin.buffer
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a print() goes to the log, not replies
    set_limits(Track.from_dict(json.loads(args.track)))
    isolated = isolate(hidable(args.hide))
    write_array(replies, np.array(isolated, dtype=np.uint8))  # 1. network cut, data hidden
    serve(EchoModel(args.classes), requests, replies)  # 2. the echo phase
    try:
        model = load_submission(Path.cwd())
        write_array(replies, np.array([1], dtype=np.uint8))  # 3. ready
        serve(model, requests, replies)  # 4. the model phase
    except MemoryError:
        return EXIT_MEMORY
    except OSError as error:
        if error.errno == errno.EFBIG:
            return EXIT_FILE_SIZE
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
