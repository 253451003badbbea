"""Dependencies point one way, bot -> commands -> models: a module that imports against it fails here.

Read from the source (every import statement, also inside functions and under TYPE_CHECKING), not from what
happens to be loaded, so a lazy import in a rarely run path is caught too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from paths import REPO

REPO = REPO
# package -> the top-level packages of ours it must never import
FORBIDDEN = {
    "models": {"bot", "commands"},
    "commands": {"bot"},
    "migrations": {"bot", "commands"},  # env.py and lock.py stay below the composition root
    "migrations/versions": {"bot", "commands", "models"},  # a migration is frozen: it never follows today's code
}


def imported_packages(path: Path) -> set[tuple[int, str]]:
    """(line, top-level package) of every absolute import in a file."""
    found: set[tuple[int, str]] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found |= {(node.lineno, alias.name.split(".")[0]) for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add((node.lineno, node.module.split(".")[0]))
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_module_imports_against_the_direction(package: str) -> None:
    files = sorted((REPO / package).rglob("*.py"))
    assert files, f"no modules found under {package}/"
    wrong = [f"{path.relative_to(REPO)}:{line} imports {top}"
             for path in files for line, top in sorted(imported_packages(path)) if top in FORBIDDEN[package]]
    assert wrong == []


def test_the_check_sees_an_import_against_the_direction(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import os\n\ndef f():\n    from bot.slack import blocks\n    import commands.core.access\n")
    assert imported_packages(module) == {(1, "os"), (4, "bot"), (5, "commands")}
