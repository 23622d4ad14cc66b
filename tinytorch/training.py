"""``Trainer``: the training loop, written once (module 07).

Every epoch of supervised training is the same loop::

    for inputs, targets in train_loader:
        outputs = model(inputs)                 # forward
        loss = loss_fn(outputs, targets)
        optimizer.zero_grad()
        loss.backward()                         # gradients of every parameter
        optimizer.step()                        # update in place
    scheduler.step()                            # next epoch's learning rate

``Trainer`` runs it with evaluation, a progress bar on stderr, a history of the metrics and
checkpoints to resume from::

    >>> trainer = Trainer(model, optimizer, nn.CrossEntropyLoss(), scheduler)
    >>> history = trainer.fit(train_batches, epochs=10, val_loader=val_batches)
    >>> trainer.save_checkpoint("run.tt")
    >>> val_loss, val_accuracy = trainer.evaluate(val_batches)

A loader is any iterable of ``(inputs, targets)`` batches: a ``DataLoader``, or a list.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Iterable
from typing import IO, Any

import numpy as np

from tinytorch.autograd.grad_mode import no_grad
from tinytorch.nn.utils import clip_grad_norm_
from tinytorch.optim.lr_scheduler import LRScheduler
from tinytorch.optim.optimizer import Optimizer
from tinytorch.serialization import load, save
from tinytorch.tensor import Tensor

Batches = Iterable[tuple[Tensor, Tensor]]
_CHECKPOINT_KEYS = {"model", "optimizer", "scheduler", "epoch", "history"}


class Trainer:
    """Train ``model`` with ``optimizer`` on ``loss_fn(outputs, targets)``.

    Args:
        model: a ``tinytorch.nn.Module``.
        optimizer: over the model's parameters.
        loss_fn: called as ``loss_fn(outputs, targets)``; returns the batch's mean loss.
        scheduler: optional; stepped after every epoch, or after every batch with
            ``scheduler_interval="batch"`` (for ``OneCycleLR``).
        max_grad_norm: if set, gradients are clipped to this total norm before each step.
        progress: show a progress bar on stderr (``False`` for silence).

    Attributes:
        epoch: the number of epochs trained so far.
        history: per epoch, ``train_loss``, ``train_accuracy``, ``val_loss``,
            ``val_accuracy`` and ``lr`` (accuracy is ``None`` when targets are not class
            indices; the ``val_`` lists stay empty without a ``val_loader``).
    """

    def __init__(
        self,
        model: Any,
        optimizer: Optimizer,
        loss_fn: Callable[[Tensor, Tensor], Tensor],
        scheduler: LRScheduler | None = None,
        *,
        scheduler_interval: str = "epoch",
        max_grad_norm: float | None = None,
        progress: bool = True,
    ) -> None:
        if scheduler_interval not in ("epoch", "batch"):
            raise ValueError(
                f"scheduler_interval must be 'epoch' or 'batch', got {scheduler_interval!r}"
            )
        self.model = model
        self.optimizer = optimizer
        self.loss_fn = loss_fn
        self.scheduler = scheduler
        self.scheduler_interval = scheduler_interval
        self.max_grad_norm = max_grad_norm
        self.progress = progress
        self.epoch = 0
        self.history: dict[str, list[Any]] = {
            "train_loss": [],
            "train_accuracy": [],
            "val_loss": [],
            "val_accuracy": [],
            "lr": [],
        }

    def fit(self, train_loader: Batches, epochs: int, val_loader: Batches | None = None) -> dict:
        """Train until ``epochs`` epochs are done in total; return ``history``.

        A trainer restored with ``load_checkpoint`` continues from its saved epoch, so the
        same ``fit(loader, epochs=10)`` call finishes an interrupted run.
        """
        while self.epoch < epochs:
            started = time.monotonic()
            self.history["lr"].append(self.optimizer.param_groups[0]["lr"])
            label = f"epoch {self.epoch + 1}/{epochs}"
            bar = ProgressBar(_length(train_loader), label, enabled=self.progress)
            train_loss, train_accuracy = self._train_epoch(train_loader, bar)
            self.epoch += 1
            self.history["train_loss"].append(train_loss)
            self.history["train_accuracy"].append(train_accuracy)
            summary = f"loss {train_loss:.4f}" + _accuracy_text(train_accuracy)
            if val_loader is not None:
                val_loss, val_accuracy = self.evaluate(val_loader)
                self.history["val_loss"].append(val_loss)
                self.history["val_accuracy"].append(val_accuracy)
                summary += f"  val_loss {val_loss:.4f}" + _accuracy_text(val_accuracy, "val_")
            if self.scheduler is not None and self.scheduler_interval == "epoch":
                self.scheduler.step()
            bar.close(f"{summary}  ({time.monotonic() - started:.1f}s)")
        return self.history

    def evaluate(self, loader: Batches) -> tuple[float, float | None]:
        """The mean loss and accuracy over ``loader``, without gradients, in eval mode.

        Accuracy is the fraction of examples whose highest output is the target class; it
        is ``None`` when the targets are not integer class indices.
        """
        self.model.eval()
        metrics = _Metrics()
        with no_grad():
            for inputs, targets in loader:
                outputs = self.model(inputs)
                metrics.add(self.loss_fn(outputs, targets), outputs, targets)
        return metrics.loss, metrics.accuracy

    def _train_epoch(self, loader: Batches, bar: ProgressBar) -> tuple[float, float | None]:
        """One pass over ``loader``, updating the model after every batch."""
        self.model.train()
        metrics = _Metrics()
        for inputs, targets in loader:
            loss, outputs = self._train_step(inputs, targets)
            metrics.add(loss, outputs, targets)
            if self.scheduler is not None and self.scheduler_interval == "batch":
                self.scheduler.step()
            bar.update(f"loss {metrics.loss:.4f}")
        return metrics.loss, metrics.accuracy

    def _train_step(self, inputs: Tensor, targets: Tensor) -> tuple[Tensor, Tensor]:
        """Forward, loss, backward, (clip), update; returns the loss and the outputs."""
        # BEGIN SOLUTION 07
        outputs = self.model(inputs)
        loss = self.loss_fn(outputs, targets)
        self.optimizer.zero_grad()
        loss.backward()
        if self.max_grad_norm is not None:
            clip_grad_norm_(self.model.parameters(), self.max_grad_norm)
        self.optimizer.step()
        return loss, outputs
        # END SOLUTION

    def save_checkpoint(self, path: str | os.PathLike) -> None:
        """Write model, optimizer, scheduler, epoch and history to ``path`` atomically."""
        save(
            {
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
                "epoch": self.epoch,
                "history": self.history,
            },
            path,
        )

    def load_checkpoint(self, path: str | os.PathLike) -> None:
        """Restore a checkpoint written by ``save_checkpoint``; ``fit`` then resumes."""
        checkpoint = load(path)
        if not isinstance(checkpoint, dict) or checkpoint.keys() != _CHECKPOINT_KEYS:
            raise ValueError(
                f"{path} is not a Trainer checkpoint (keys {sorted(_CHECKPOINT_KEYS)})"
            )
        if (checkpoint["scheduler"] is None) != (self.scheduler is None):
            raise ValueError(
                f"{path} was saved {'without' if checkpoint['scheduler'] is None else 'with'} "
                f"a scheduler, but this trainer has {'one' if self.scheduler else 'none'}"
            )
        self.model.load_state_dict(checkpoint["model"])
        self.optimizer.load_state_dict(checkpoint["optimizer"])
        if self.scheduler is not None:
            self.scheduler.load_state_dict(checkpoint["scheduler"])
        self.epoch = checkpoint["epoch"]
        self.history = checkpoint["history"]


class _Metrics:
    """Running mean loss (weighted by batch size) and accuracy over the batches seen."""

    def __init__(self) -> None:
        self.examples = 0
        self.total_loss = 0.0
        self.correct: int | None = 0

    def add(self, loss: Tensor, outputs: Tensor, targets: Tensor) -> None:
        batch = len(targets._data) if targets._data.ndim else 1
        self.examples += batch
        self.total_loss += loss.item() * batch
        if self.correct is not None and _is_class_index(outputs, targets):
            self.correct += int((outputs._data.argmax(axis=-1) == targets._data).sum())
        else:
            self.correct = None

    @property
    def loss(self) -> float:
        return self.total_loss / self.examples if self.examples else math.nan

    @property
    def accuracy(self) -> float | None:
        if self.correct is None or not self.examples:
            return None
        return self.correct / self.examples


def _is_class_index(outputs: Tensor, targets: Tensor) -> bool:
    """Whether ``targets`` are class indices for ``outputs`` of shape (..., classes)."""
    return (
        np.issubdtype(targets._data.dtype, np.integer)
        and outputs._data.shape[:-1] == targets._data.shape
    )


def _accuracy_text(accuracy: float | None, prefix: str = "") -> str:
    return "" if accuracy is None else f"  {prefix}accuracy {accuracy:.3f}"


def _length(loader: Batches) -> int | None:
    try:
        return len(loader)  # type: ignore[arg-type]
    except TypeError:
        return None


class ProgressBar:
    """One line on stderr, redrawn at most 10 times a second::

    epoch 2/5 [############------------------] 16/40 loss 0.4213

    When the stream is a file or a pipe rather than a terminal, it is redrawn every 10
    seconds only, so that logs stay short.
    """

    width = 30

    def __init__(
        self, total: int | None, label: str, enabled: bool = True, stream: IO[str] | None = None
    ) -> None:
        self.total = total
        self.label = label
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.interval = 0.1 if self.stream.isatty() else 10.0  # seconds between redraws
        self.done = 0
        self.last_draw = -math.inf
        self.last_width = 0

    def update(self, status: str) -> None:
        """Count one finished step and redraw if enough time has passed."""
        self.done += 1
        now = time.monotonic()
        if self.enabled and (now - self.last_draw >= self.interval or self.done == self.total):
            self.last_draw = now
            self._draw(status, end="")

    def close(self, status: str) -> None:
        """Draw the final line and move to the next."""
        if self.enabled:
            self._draw(status, end="\n")

    def _draw(self, status: str, end: str) -> None:
        if self.total:
            filled = self.width * min(self.done, self.total) // self.total
            bar = f"[{'#' * filled}{'-' * (self.width - filled)}] {self.done}/{self.total}"
        else:
            bar = f"{self.done} batches"
        line = f"{self.label} {bar} {status}"
        self.stream.write(f"\r{line.ljust(self.last_width)}{end}")
        self.last_width = len(line)
        self.stream.flush()
