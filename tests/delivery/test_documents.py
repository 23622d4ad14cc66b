"""INSTRUCTOR.md and CONTRIBUTING.md: their commands exist and their figures are current."""

from __future__ import annotations

import re
import shlex

import pytest

from tito.course.effort import table
from tito.course.manifest import REPOSITORY, load_manifest
from tito.main import build_parser

pytestmark = pytest.mark.cli

BLOCK = re.compile(r"```bash\n(.*?)```", re.DOTALL)
EFFORT = re.compile(r"<!-- effort table: begin -->\n(.*?)\n<!-- effort table: end -->", re.DOTALL)


def _commands(text: str) -> list[list[str]]:
    """The ``tito`` commands of the bash blocks of ``text``, continuation lines joined."""
    commands = []
    for block in BLOCK.findall(text):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" #", 1)[0].strip()
            if line.startswith("tito "):
                commands.append(shlex.split(line.split(" && ")[0])[1:])
    return commands


def test_every_tito_command_of_the_instructor_guide_parses() -> None:
    parser = build_parser()
    commands = _commands((REPOSITORY / "INSTRUCTOR.md").read_text(encoding="utf-8"))
    assert len(commands) >= 5
    for words in commands:
        try:
            parser.parse_args(words)
        except SystemExit as error:
            pytest.fail(f"INSTRUCTOR.md: `tito {' '.join(words)}` does not parse ({error})")


def test_the_contributing_guide_states_the_invariant_and_how_to_add_things() -> None:
    text = (REPOSITORY / "CONTRIBUTING.md").read_text(encoding="utf-8")
    for heading in ("## The invariant", "## Adding an op", "## Adding a module",
                    "## Adding a milestone", "## Style"):  # fmt: skip
        assert heading in text


def test_the_hours_table_is_what_the_effort_command_prints() -> None:
    text = (REPOSITORY / "INSTRUCTOR.md").read_text(encoding="utf-8")
    shown = EFFORT.search(text)
    assert shown, "INSTRUCTOR.md has no effort table between its markers"
    assert shown.group(1) == table(load_manifest()), "run python -m tito.course.effort"


@pytest.mark.parametrize("name", ["INSTRUCTOR.md", "CONTRIBUTING.md"])
def test_the_guides_link_only_to_files_that_exist(name: str) -> None:
    text = (REPOSITORY / name).read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text)
    assert targets or name == "CONTRIBUTING.md"
    missing = [target for target in targets if not (REPOSITORY / target).exists()]
    assert not missing, f"{name} links to missing files: {missing}"
