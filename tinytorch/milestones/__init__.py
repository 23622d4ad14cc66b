"""The historical milestones: which exist, and how to run one from code or the command line.

Each milestone is a script in ``milestones/NN_year_slug/`` that defines ``run(fast, data_dir)``
returning its result dict, and ends with ``harness.main(run, ...)``. The course tooling calls::

    >>> [milestone.slug for milestone in list_milestones()]
    ['01_1958_perceptron', '02_1969_xor', '03_1986_mlp', '04_1998_lenet', '05_2017_transformer',
     '06_2018_mlperf']
    >>> result = run_milestone(1, fast=True)     # also writes .tinytorch/results/<slug>.json
    >>> result["passed"]
    True
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from tinytorch.milestones.harness import default_output, write_result


@dataclass(frozen=True)
class Milestone:
    """One milestone: ``milestones/<slug>/<script>``, which needs course modules ``modules``."""

    number: int
    year: int
    slug: str
    title: str
    script: str

    @property
    def modules(self) -> tuple[int, ...]:
        """The course modules it needs: 01..``after_module`` of the course manifest.

        The manifest (``modules/manifest.toml``) is the one list of what unlocks a milestone;
        ``tito.course.manifest`` reads it. The import happens here, on demand, so that the
        framework imports and runs without the course tooling.
        """
        from tito.course.manifest import load_manifest

        return next(m.modules for m in load_manifest().milestones if m.id == self.slug)


MILESTONES = (
    Milestone(1, 1958, "01_1958_perceptron", "Rosenblatt's perceptron", "perceptron.py"),
    Milestone(2, 1969, "02_1969_xor", "The XOR problem", "xor.py"),
    Milestone(3, 1986, "03_1986_mlp", "Backpropagation learns digits", "mlp.py"),
    Milestone(4, 1998, "04_1998_lenet", "LeNet: convolutional networks read digits", "lenet.py"),
    Milestone(5, 2017, "05_2017_transformer", "Attention is all you need", "transformer.py"),
    Milestone(6, 2018, "06_2018_mlperf", "MLPerf: benchmark an optimized model", "mlperf.py"),
)


def list_milestones() -> list[Milestone]:
    """Every milestone, in historical order."""
    return list(MILESTONES)


def milestones_dir() -> Path:
    """The ``milestones/`` folder: in the working directory or a parent, else the source tree."""
    for folder in (Path.cwd(), *Path.cwd().parents):
        if (folder / "milestones" / MILESTONES[0].slug).is_dir():
            return folder / "milestones"
    return Path(__file__).resolve().parents[2] / "milestones"


def run_milestone(
    number: int,
    fast: bool = False,
    data_dir: str | os.PathLike | None = None,
    output: str | os.PathLike | None = None,
) -> dict:
    """Run milestone ``number``, write its JSON result (to ``output`` or the default), return it.

    Before calling this, the course tooling should check that the learner has completed
    ``milestone.modules`` and refuse with a clear message otherwise.
    """
    milestone = _milestone(number)
    result = load_script(number).run(fast=fast, data_dir=data_dir)
    write_result(result, Path(output) if output else default_output(milestone.slug))
    return result


def _milestone(number: int) -> Milestone:
    """The milestone numbered ``number``; ``ValueError`` lists the numbers there are."""
    milestone = next((m for m in MILESTONES if m.number == number), None)
    if milestone is None:
        raise ValueError(f"no milestone {number}; there are {[m.number for m in MILESTONES]}")
    return milestone


def load_script(number: int) -> ModuleType:
    """Milestone ``number``'s script as a module (its ``__main__`` block does not run), so that
    a later milestone can reuse what an earlier one defines (milestone 06 trains its models
    with the recipes of 04 and 05)."""
    milestone = _milestone(number)
    path = milestones_dir() / milestone.slug / milestone.script
    if not path.exists():
        raise FileNotFoundError(f"milestone script {path} not found; run from the repository")
    spec = importlib.util.spec_from_file_location(f"milestone_{milestone.slug}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


__all__ = [
    "MILESTONES",
    "Milestone",
    "list_milestones",
    "load_script",
    "milestones_dir",
    "run_milestone",
]
