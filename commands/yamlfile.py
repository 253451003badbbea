"""Read YAML with line numbers and without silently dropping duplicate keys.

PyYAML keeps the last of two equal keys; a coordinator who pastes a member twice would lose one without
a word. This loader records each mapping's line so that validation can say where a problem is.
"""

from __future__ import annotations

from typing import Any

import yaml


class LineDict(dict[str, Any]):
    line: int = 0


class _Loader(yaml.SafeLoader):
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
            loader.duplicate_keys.append(f"line {key_node.start_mark.line + 1}: duplicate key '{key}'")
        result[key] = loader.construct_object(value_node, deep=deep)  # type: ignore[arg-type]
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)  # type: ignore[arg-type]


def load(text: str) -> tuple[Any, list[str]]:
    """Parse YAML text. Returns (data, problems); a syntax error becomes one problem with its line."""
    loader = _Loader(text)
    loader.duplicate_keys = []
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "file"
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [f"{where}: not valid YAML ({problem})"]
    finally:
        loader.dispose()
    return data, loader.duplicate_keys


def dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110)
