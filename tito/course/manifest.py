"""The course manifest (``modules/manifest.toml``): the one list of modules and milestones.

Everything that needs the list of modules (``tito``, the tests, the site) calls
``load_manifest()``; nothing else hard-codes module numbers, slugs or titles::

    >>> manifest = load_manifest()
    >>> manifest.module(2).title
    'Activations'
    >>> [m.id for m in manifest.unlocked_by(4)]
    ['01_1958_perceptron']
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

REPOSITORY = Path(__file__).resolve().parents[2]
MANIFEST_PATH = REPOSITORY / "modules" / "manifest.toml"


class ManifestError(ValueError):
    """The manifest is missing, not valid TOML, or inconsistent."""


@dataclass(frozen=True)
class Module:
    """One module of the course."""

    number: int
    slug: str
    title: str
    tier: str
    chapter: str
    prerequisites: tuple[int, ...]
    files: tuple[str, ...]
    points: int = 10  # what passing its tests is worth in NBGrader (``[grading]`` in the file)

    @property
    def tag(self) -> str:
        """The two-digit number used in region markers: ``"05"``."""
        return f"{self.number:02d}"

    @property
    def name(self) -> str:
        """The folder name of the module: ``"05_autograd"``."""
        return f"{self.tag}_{self.slug}"

    @property
    def marker(self) -> str:
        """The pytest marker of the module's tests: ``"module05"``."""
        return f"module{self.tag}"

    @property
    def lesson_dir(self) -> str:
        """Where the lesson lives, relative to the repository: ``"modules/05_autograd/"``."""
        return f"modules/{self.name}/"

    @property
    def tests_dir(self) -> str:
        """Where the module's tests live, relative to the repository: ``"tests/05_autograd"``."""
        return f"tests/{self.name}"

    @property
    def label(self) -> str:
        """How messages name the module: ``"Module 05 (Autograd)"``."""
        return f"Module {self.tag} ({self.title})"


@dataclass(frozen=True)
class Milestone:
    """A historical milestone, unlocked once modules 01..``after_module`` are complete."""

    id: str
    year: int
    title: str
    after_module: int

    @property
    def number(self) -> int:
        """The milestone's number, the two digits its id starts with: ``1`` for ``01_1958_...``."""
        return int(self.id[:2])

    @property
    def modules(self) -> tuple[int, ...]:
        """The modules that must be complete before it runs: 1..``after_module``."""
        return tuple(range(1, self.after_module + 1))


@dataclass(frozen=True)
class Manifest:
    """The course: its title, textbook, tiers, modules (in order) and milestones."""

    title: str
    textbook: str
    textbook_url: str
    tiers: dict[str, str]
    modules: tuple[Module, ...]
    milestones: tuple[Milestone, ...]
    github: str = ""  # OWNER/REPO where the student release is published (Colab, Binder)

    def module(self, number: int) -> Module:
        """The module with this number; ``KeyError`` names the valid range."""
        for module in self.modules:
            if module.number == number:
                return module
        raise KeyError(f"no module {number}: the course has modules 1-{len(self.modules)}")

    def milestone(self, number: int) -> Milestone:
        """The milestone with this number; ``KeyError`` names the valid ones."""
        for milestone in self.milestones:
            if milestone.number == number:
                return milestone
        valid = ", ".join(f"{m.number:02d}" for m in self.milestones)
        raise KeyError(f"no milestone {number}: the course has milestones {valid}")

    def unlocked_by(self, number: int) -> list[Milestone]:
        """The milestones that completing module ``number`` (after all before it) unlocks."""
        return [milestone for milestone in self.milestones if milestone.after_module == number]


def _module(entry: dict[str, Any], default_points: int) -> Module:
    return Module(
        number=int(entry["number"]),
        slug=str(entry["slug"]),
        title=str(entry["title"]),
        tier=str(entry["tier"]),
        chapter=str(entry["chapter"]),
        prerequisites=tuple(int(number) for number in entry["prerequisites"]),
        files=tuple(str(path) for path in entry["files"]),
        points=int(entry.get("points", default_points)),
    )


def _milestone(entry: dict[str, Any]) -> Milestone:
    return Milestone(
        id=str(entry["id"]),
        year=int(entry["year"]),
        title=str(entry["title"]),
        after_module=int(entry["after_module"]),
    )


def _check(manifest: Manifest) -> None:
    """Raise ``ManifestError`` unless modules are numbered 1..N in order and references hold."""
    numbers = [module.number for module in manifest.modules]
    if numbers != list(range(1, len(numbers) + 1)):
        raise ManifestError(f"modules must be numbered 1..N in order, got {numbers}")
    slugs = [module.slug for module in manifest.modules]
    if len(set(slugs)) != len(slugs):
        raise ManifestError(f"module slugs must be unique, got {slugs}")
    for module in manifest.modules:
        if module.tier not in manifest.tiers:
            raise ManifestError(f"{module.label}: unknown tier {module.tier!r}")
        if any(not 1 <= number < module.number for number in module.prerequisites):
            raise ManifestError(f"{module.label}: prerequisites must be earlier modules")
        if module.points < 0:
            raise ManifestError(f"{module.label}: points must be 0 or more, not {module.points}")
    for milestone in manifest.milestones:
        if not milestone.id[:2].isdigit():
            raise ManifestError(f"milestone {milestone.id}: its id must start with its number")
        if milestone.after_module not in numbers:
            raise ManifestError(f"milestone {milestone.id}: no module {milestone.after_module}")


def parse_manifest(text: str) -> Manifest:
    """Build and check a ``Manifest`` from the text of a manifest file."""
    try:
        data = tomllib.loads(text)
        manifest = Manifest(
            title=data["course"]["title"],
            textbook=data["course"]["textbook"],
            textbook_url=data["course"]["textbook_url"],
            tiers=dict(data["tiers"]),
            modules=tuple(
                _module(entry, int(data.get("grading", {}).get("points", 10)))
                for entry in data["module"]
            ),
            milestones=tuple(_milestone(entry) for entry in data.get("milestone", [])),
            github=str(data["course"].get("github", "")),
        )
    except tomllib.TOMLDecodeError as error:
        raise ManifestError(f"manifest is not valid TOML: {error}") from error
    except (KeyError, TypeError, ValueError) as error:
        raise ManifestError(f"manifest entry missing or malformed: {error!r}") from error
    _check(manifest)
    return manifest


@cache
def load_manifest(path: Path = MANIFEST_PATH) -> Manifest:
    """Read and check the manifest; ``ManifestError`` says what is wrong and where."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ManifestError(f"cannot read the course manifest {path}: {error}") from error
    try:
        return parse_manifest(text)
    except ManifestError as error:
        raise ManifestError(f"{path}: {error}") from error
