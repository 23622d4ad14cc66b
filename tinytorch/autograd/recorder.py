"""``Recorder``: the base of everything that watches operations run (profiler, FLOP counter).

``Function.apply`` and the backward engine hand every operation to the active recorder, if
there is one (``tinytorch.autograd.function.set_recorder``). A recorder overrides
``record_forward`` and ``record_backward`` to time or count around ``run_forward`` and
``run_backward``, which run the operation. Recorders nest: one started while another is active
passes each operation on to it, so a profiler inside a FLOP counter sees the same operations.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinytorch.autograd import function
from tinytorch.autograd.function import Context


class Recorder:
    """Watches every operation between ``start()`` and ``stop()`` (or inside ``with``)."""

    _outer: Recorder | None = None
    _recording = False

    def start(self) -> None:
        """Begin watching; the recorder active until now keeps watching through this one."""
        if self._recording:
            raise RuntimeError(f"{type(self).__name__}: already recording; stop() it first")
        self._outer = function.set_recorder(self)
        self._recording = True

    def stop(self) -> None:
        """Stop watching and hand back to the recorder that was active before ``start()``."""
        if function._recorder is not self:
            raise RuntimeError(
                f"{type(self).__name__}.stop(): this recorder is not the innermost active one; "
                f"stop recorders in the reverse order of starting them"
            )
        function.set_recorder(self._outer)
        self._outer, self._recording = None, False

    def __enter__(self) -> Recorder:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def record_forward(self, function: type, ctx: Context, arrays: list) -> np.ndarray:
        """Watch one forward call; subclasses time or count around ``run_forward``."""
        return self.run_forward(function, ctx, arrays)

    def record_backward(self, node: Context, grad_output: np.ndarray) -> Any:
        """Watch one backward call; subclasses time or count around ``run_backward``."""
        return self.run_backward(node, grad_output)

    def run_forward(self, function: type, ctx: Context, arrays: list) -> np.ndarray:
        """``function.forward(ctx, *arrays)``, through the outer recorder if there is one."""
        if self._outer is None:
            return function.forward(ctx, *arrays)
        return self._outer.record_forward(function, ctx, arrays)

    def run_backward(self, node: Context, grad_output: np.ndarray) -> Any:
        """``node.function.backward(node, grad_output)``, through the outer recorder if any."""
        if self._outer is None:
            return node.function.backward(node, grad_output)
        return self._outer.record_backward(node, grad_output)
