"""The fictional sample partnership (Northtown), shipped inside the package.

`oneday demo` loads it and `oneday partnership sample` writes it out, so both work from an installed wheel,
where there is no repository and no examples/ folder. It is read through importlib.resources, never through a
path built from the source tree; this is the one copy (the tests read it from here too).
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable

NAME = "northtown.yaml"


def northtown() -> Traversable:
    """The sample partnership file as a package resource (has `.name` and `.read_text()`)."""
    return files(__name__) / NAME


def northtown_text() -> str:
    return northtown().read_text(encoding="utf-8")
