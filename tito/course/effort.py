"""Expected hours per module, estimated from what the lessons and exercises contain.

What is measured: the words of each lesson's Markdown, its code cells' lines, and the number
of exercise regions of the module with the lines of reference code inside them. What is
assumed: the rates below, which turn those counts into time. They are not observed learner
times; an instructor who times a class should replace them::

    python -m tito.course.effort        # the table INSTRUCTOR.md shows
"""

from __future__ import annotations

from dataclasses import dataclass

from tito.course.manifest import REPOSITORY, Manifest, load_manifest
from tito.course.notebook import parse_percent
from tito.course.regions import Region, package_regions
from tito.course.workspace import LESSON

WORDS_PER_MINUTE = 100  # careful reading of technical prose with formulas
MINUTES_PER_CODE_LINE = 0.25  # reading and running the lesson's own code cells
MINUTES_PER_EXERCISE = 15  # finding the place, reading the docstring, testing it
MINUTES_PER_SOLUTION_LINE = 3  # writing and debugging one line of reference code


@dataclass(frozen=True)
class Effort:
    """The counts of one module, and the hours they amount to at the rates above."""

    number: int
    title: str
    words: int
    code_lines: int
    exercises: int
    solution_lines: int

    @property
    def hours(self) -> float:
        """Reading and running the lesson, plus writing the exercises."""
        minutes = (
            self.words / WORDS_PER_MINUTE
            + self.code_lines * MINUTES_PER_CODE_LINE
            + self.exercises * MINUTES_PER_EXERCISE
            + self.solution_lines * MINUTES_PER_SOLUTION_LINE
        )
        return minutes / 60


def module_effort(manifest: Manifest, number: int, regions: list[Region]) -> Effort | None:
    """The counts of module ``number`` (``regions``: every region of the package), or
    ``None`` if it has no lesson yet."""
    module = manifest.module(number)
    lesson = REPOSITORY / module.lesson_dir / LESSON
    if not lesson.is_file():
        return None
    cells = parse_percent(lesson.read_text(encoding="utf-8"))
    words = sum(len(cell.text.split()) for cell in cells if cell.kind == "markdown")
    code = sum(len(cell.text.splitlines()) for cell in cells if cell.kind == "code")
    own = [region for region in regions if region.module == number]
    solution = sum(region.end - region.begin - 1 for region in own)
    return Effort(number, module.title, words, code, len(own), solution)


def table(manifest: Manifest) -> str:
    """A Markdown table of every module with a lesson, and the total."""
    rows = ["| module | words | code lines | exercises | solution lines | hours |",
            "|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    regions = [region for found in package_regions(REPOSITORY).values() for region in found]
    counted = (module_effort(manifest, module.number, regions) for module in manifest.modules)
    efforts = [effort for effort in counted if effort]
    for e in efforts:
        rows.append(
            f"| {e.number:02d} {e.title} | {e.words} | {e.code_lines} | {e.exercises} | "
            f"{e.solution_lines} | {e.hours:.1f} |"
        )
    rows.append(f"| total | | | | | {sum(e.hours for e in efforts):.0f} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(table(load_manifest()))
