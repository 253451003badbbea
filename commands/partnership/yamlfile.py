"""Read YAML with line numbers, without silently dropping duplicate keys, and without letting a hostile file
cost more than its size.

PyYAML keeps the last of two equal keys; a coordinator who pastes a member twice would lose one without
a word. This loader records each mapping's and each list's line so that validation can say where a problem is.

Before anything is built, one pass over the parser's events (flat, so no recursion) refuses:
- aliases (``*name``) that expand the file beyond MAX_VALUES values: ten lines of "billion laughs" aliases
  stand for billions of values once validation walks them or the database stores them as JSON. A few aliases,
  as yaml.safe_dump writes for shared lists, are fine;
- an alias inside the value it names (a loop);
- nesting deeper than any partnership file needs: PyYAML's composer recurses once per level, so a file of ten
  thousand ``[`` would end in a RecursionError, or a crash in libyaml's C composer.
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_DEPTH = 20  # a partnership file needs 4: file > agencies > agency > information
MAX_VALUES = 2_000_000  # values after expanding aliases; a file at the 5 MB limit holds under a million
TOO_DEEP = f"nested more than {MAX_DEPTH} levels deep; a partnership file needs at most 4"
INVALID = object()  # load()'s data when the file is not YAML at all

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built with it: several times faster


class LineDict(dict[str, Any]):
    line: int = 0


class LineList(list[Any]):
    line: int = 0
    lines: list[int]  # the line of each item, for an item (a scalar) that has no line of its own


class _Loader(_Base):  # type: ignore[misc, valid-type]
    duplicate_keys: list[str]


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)  # type: ignore[arg-type]
        if not isinstance(key, str):
            key = str(key)
        if key in result:
            loader.duplicate_keys.append(f"line {key_node.start_mark.line + 1}: duplicate key '{key[:60]}'")
        result[key] = loader.construct_object(value_node, deep=deep)  # type: ignore[arg-type]
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> Any:
    result = LineList()
    result.line = node.start_mark.line + 1
    result.lines = [child.start_mark.line + 1 for child in node.value]
    yield result
    result.extend(loader.construct_sequence(node))


def _construct_timestamp(loader: _Loader, node: yaml.ScalarNode) -> Any:
    """A date YAML recognises but the calendar does not (2027-02-30) stays text, for validation to report with
    its place; PyYAML itself would raise a bare ValueError."""
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def _line(text: str, exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    if mark is not None:
        return f"line {mark.line + 1}"
    position = getattr(exc, "position", None)  # a ReaderError (a control character) carries only an offset
    if isinstance(position, int):
        return f"line {text.count(chr(10), 0, position) + 1}"
    return "file"


def _problem(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None)
    if problem:
        return str(problem)
    if isinstance(exc, yaml.reader.ReaderError):
        return f"unacceptable character #x{exc.character:04x}: {exc.reason}" if isinstance(exc.character, int) \
            else str(exc.reason)
    return str(exc).splitlines()[0]


def _screen(text: str) -> str | None:
    """One flat pass over the events: the first alias loop, over-expansion or too-deep nesting, else None."""
    values = 0  # values so far, each alias counted as the size of what it names
    sizes: dict[str, int] = {}  # anchor -> values in its node
    open_: list[tuple[str | None, int]] = []  # (anchor, values before it) of each collection being read
    for event in yaml.parse(text, Loader=_Base):
        line = event.start_mark.line + 1 if event.start_mark else 0
        if isinstance(event, yaml.AliasEvent):
            name = str(event.anchor)
            if name not in sizes:
                if any(anchor == name for anchor, _ in open_):
                    return f"line {line}: the alias *{name[:40]} is inside the value it names (a loop)"
                return f"line {line}: not valid YAML (the alias *{name[:40]} names no anchor &{name[:40]} before it)"
            values += sizes[name]
            if values > MAX_VALUES:
                return (f"line {line}: aliases (*{name[:40]}) expand this file to more than {MAX_VALUES:,} values; "
                        "write the values out instead")
        elif isinstance(event, yaml.ScalarEvent):
            values += 1
            if event.anchor is not None:
                sizes[str(event.anchor)] = 1
        elif isinstance(event, yaml.CollectionStartEvent):
            open_.append((None if event.anchor is None else str(event.anchor), values))
            values += 1
            if len(open_) > MAX_DEPTH:
                return f"line {line}: {TOO_DEEP}"
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, before = open_.pop()
            if anchor is not None:
                sizes[anchor] = values - before
    return None


def load(text: str) -> tuple[Any, list[str]]:
    """Parse YAML text. Returns (data, problems): duplicate keys are problems next to the data; a syntax error,
    an alias or too-deep nesting is one problem with its line, and data is INVALID."""
    try:
        refused = _screen(text)
        if refused:
            return INVALID, [refused]
        loader = _Loader(text)
        loader.duplicate_keys = []
        try:
            data = loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        if "nesting depth" in _problem(exc):  # newer libyaml stops deep nesting itself: same answer either way
            return INVALID, [f"{_line(text, exc)}: {TOO_DEEP}"]
        return INVALID, [f"{_line(text, exc)}: not valid YAML ({_problem(exc)})"]
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:  # a constructor's own error: no line
        return INVALID, [f"file: not valid YAML ({type(exc).__name__}: {str(exc)[:100]})"]
    return data, sorted(loader.duplicate_keys, key=lambda problem: int(problem.split(":")[0][5:]))


def dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110)
