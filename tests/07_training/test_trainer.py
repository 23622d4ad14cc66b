"""Trainer: learns a tiny problem, reports progress, checkpoints and resumes (module 07)."""

import numpy as np
import pytest

import tinytorch
from tinytorch import nn, optim
from tinytorch.optim import lr_scheduler
from tinytorch.serialization import save
from tinytorch.training import Trainer

pytestmark = pytest.mark.module07


def blobs(n_per_class=32, seed=0):
    """Batches of 16 points around three centres, labelled by centre."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 3.0], [3.0, -2.0], [-3.0, -2.0]])
    points = np.concatenate([c + rng.standard_normal((n_per_class, 2)) for c in centres])
    labels = np.repeat(np.arange(3), n_per_class)
    order = rng.permutation(len(labels))
    points, labels = points[order].astype(np.float32), labels[order]
    return [
        (tinytorch.tensor(points[i : i + 16]), tinytorch.tensor(labels[i : i + 16]))
        for i in range(0, len(labels), 16)
    ]


def make_trainer(scheduler=True, **options):
    tinytorch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))
    optimizer = optim.Adam(model.parameters(), lr=0.05)
    schedule = lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5) if scheduler else None
    return Trainer(model, optimizer, nn.CrossEntropyLoss(), schedule, progress=False, **options)


def test_trainer_learns_three_blobs() -> None:
    trainer = make_trainer()
    history = trainer.fit(blobs(), epochs=8, val_loader=blobs(seed=1))
    assert trainer.epoch == 8
    assert all(len(values) == 8 for values in history.values())
    assert history["train_loss"][-1] < history["train_loss"][0] / 3
    loss, accuracy = trainer.evaluate(blobs(seed=2))
    assert accuracy > 0.9
    assert loss < history["train_loss"][0]
    assert history["lr"][:3] == [0.05, 0.05, 0.025]


def test_checkpoint_resumes_exactly(tmp_path) -> None:
    straight = make_trainer()
    straight.fit(blobs(), epochs=4)

    interrupted = make_trainer()
    interrupted.fit(blobs(), epochs=2)
    interrupted.save_checkpoint(tmp_path / "run.tt")

    resumed = make_trainer()
    resumed.load_checkpoint(tmp_path / "run.tt")
    assert resumed.epoch == 2
    resumed.fit(blobs(), epochs=4)
    for mine, reference in zip(
        resumed.model.parameters(), straight.model.parameters(), strict=True
    ):
        np.testing.assert_array_equal(mine.detach().numpy(), reference.detach().numpy())
    assert resumed.history == straight.history
    assert resumed.scheduler.get_last_lr() == straight.scheduler.get_last_lr()


def test_progress_bar_goes_to_stderr_and_can_be_turned_off(capsys) -> None:
    trainer = make_trainer()
    trainer.progress = True
    trainer.fit(blobs(), epochs=1, val_loader=blobs(seed=1))
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "epoch 1/1 [" in captured.err and "6/6" in captured.err
    assert "val_accuracy" in captured.err and captured.err.endswith("\n")

    make_trainer().fit(blobs(), epochs=1)
    assert capsys.readouterr().err == ""


def test_evaluate_reports_no_accuracy_for_regression() -> None:
    tinytorch.manual_seed(0)
    model = nn.Linear(2, 1)
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.1), nn.MSELoss(), progress=False)
    batches = [(tinytorch.ones(4, 2), tinytorch.zeros(4, 1))]
    loss, accuracy = trainer.evaluate(batches)
    assert accuracy is None
    assert loss == pytest.approx(float((model(tinytorch.ones(4, 2)) ** 2).mean().item()))


def test_batch_interval_steps_the_scheduler_every_batch() -> None:
    trainer = make_trainer(scheduler=False, scheduler_interval="batch")
    trainer.scheduler = lr_scheduler.OneCycleLR(trainer.optimizer, max_lr=0.1, total_steps=12)
    trainer.fit(blobs(), epochs=2)
    assert trainer.scheduler.last_epoch == 12


def test_max_grad_norm_limits_each_step() -> None:
    tinytorch.manual_seed(0)
    model = nn.Linear(2, 3)
    before = [param.detach().numpy().copy() for param in model.parameters()]
    optimizer = optim.SGD(model.parameters(), lr=1.0)
    trainer = Trainer(model, optimizer, nn.CrossEntropyLoss(), max_grad_norm=0.01, progress=False)
    trainer.fit(blobs()[:1], epochs=1)
    params = model.parameters()
    moved = [param.detach().numpy() - start for param, start in zip(params, before, strict=True)]
    assert np.sqrt(sum((change**2).sum() for change in moved)) == pytest.approx(0.01, rel=1e-3)


def test_bad_scheduler_interval_raises() -> None:
    with pytest.raises(ValueError, match="scheduler_interval must be 'epoch' or 'batch'"):
        make_trainer(scheduler_interval="step")


def test_loading_a_file_that_is_not_a_trainer_checkpoint_raises(tmp_path) -> None:
    save({"weights": tinytorch.ones(2)}, tmp_path / "other.tt")
    with pytest.raises(ValueError, match="not a Trainer checkpoint"):
        make_trainer().load_checkpoint(tmp_path / "other.tt")


def test_loading_a_checkpoint_without_the_same_scheduler_raises(tmp_path) -> None:
    make_trainer(scheduler=False).save_checkpoint(tmp_path / "plain.tt")
    with pytest.raises(ValueError, match="saved without a scheduler"):
        make_trainer().load_checkpoint(tmp_path / "plain.tt")
