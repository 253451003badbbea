"""The two hash-checked locks: requirements-lock.txt holds what running needs (the image and `make demo` install
it alone), requirements-dev-lock.txt that plus the test tools, at the same versions with the same hashes."""

from __future__ import annotations

import re
import tomllib

from paths import REPO as ROOT

DEV_TOOLS = {"pytest", "hypothesis", "ruff", "mypy", "jsonschema", "types-pyyaml", "libfaketime", "aiosmtpd"}


def pins(name: str) -> dict[str, tuple[str, frozenset[str]]]:
    """package -> (version, its hashes), from a pip-compile lock."""
    found: dict[str, tuple[str, frozenset[str]]] = {}
    current = None
    for line in (ROOT / name).read_text().splitlines():
        pinned = re.match(r"^([A-Za-z0-9._-]+)==([^ ;\\]+)", line)
        if pinned:
            current = pinned.group(1).lower()
            found[current] = (pinned.group(2), frozenset())
        for digest in re.findall(r"--hash=sha256:([0-9a-f]{64})", line):
            assert current is not None
            version, hashes = found[current]
            found[current] = (version, hashes | {digest})
    return found


def requirement_names(specs: list[str]) -> set[str]:
    return {re.split(r"[\[<>=!;~ ]", spec, maxsplit=1)[0].lower() for spec in specs}


def test_the_runtime_lock_is_the_dev_locks_runtime_part_and_holds_no_dev_tool() -> None:
    runtime, dev = pins("requirements-lock.txt"), pins("requirements-dev-lock.txt")
    assert all(hashes for _, hashes in runtime.values()) and all(hashes for _, hashes in dev.values())
    assert {name: runtime[name] for name in runtime} == {name: dev[name] for name in runtime}  # same versions, hashes
    assert not DEV_TOOLS & set(runtime)
    assert DEV_TOOLS - {"libfaketime"} <= set(dev)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert requirement_names(project["dependencies"]) <= set(runtime)
    assert requirement_names(project["optional-dependencies"]["dev"]) <= set(dev)
    assert "setuptools" in runtime  # the image and `make demo` install the package with --no-build-isolation


def test_demo_installs_the_runtime_lock_and_test_the_dev_lock() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^demo: \$\(RUNTIME_STAMP\)$", makefile, re.M)
    assert re.search(r"^test: \$\(STAMP\)$", makefile, re.M)
    runtime_rule = makefile.split("$(RUNTIME_STAMP): ", 1)[1].split("\n\n", 1)[0]
    assert "-r $(LOCK)" in runtime_rule and "--require-hashes" in runtime_rule and "DEV_LOCK" not in runtime_rule
    dev_rule = makefile.split("$(STAMP): ", 1)[1].split("\n\n", 1)[0]
    assert "-r $(DEV_LOCK)" in dev_rule and "--require-hashes" in dev_rule
