"""Slack Web API argument checks driven by the machine-readable method reference.

The reference is vendored in ``tests/slack_api_ref/methods/<method>.json`` (one file per method, only the
methods Oneday uses; see ``tests/slack_api_ref/README.md``), so a clone checks its calls with nothing outside
the repository.  A method without a file there does not exist as far as the fake is concerned.  Every file is
loaded once, lazily, and each method's ``args`` schema is compiled into a ``jsonschema`` validator on first use.

Arguments reach the fake in one of two wire shapes, and both are brought to what the reference describes:

* form-encoded / query-string bodies carry only strings, so ``"1"``/``"true"`` become booleans and
  ``"53072"`` an integer where the reference wants that type, and JSON text becomes an array/object where
  the reference types the argument as one (``files`` of ``files.completeUploadExternal``, ``view``);
* JSON bodies carry real arrays/objects, which are serialised back to text where the reference says the
  argument is a (JSON-encoded) string, e.g. ``blocks`` and ``attachments``.

Separately, :func:`decode_for_record` turns JSON-carrying arguments into Python objects, so tests can look
at ``call.args["blocks"]`` as a list whatever the wire shape was.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

# Inside the repository, beside this file: no environment variable or outside folder can swap it.
REFERENCE_DIR = Path(__file__).resolve().parent / "slack_api_ref" / "methods"

# Arguments whose value is JSON text on the wire; decoded for the recorded call.
JSON_ARGS = frozenset(
    {"blocks", "attachments", "view", "files", "metadata", "unfurls", "unfurled_attachments",
     "user_auth_blocks", "description_blocks", "profile", "prefs"}
)
# slack_sdk adds ``team_id`` to every call of a ``WebClient(team_id=...)``, and bolt builds the listener's
# ``client`` that way; Slack accepts it on any method, so it is never an unknown argument.
UNIVERSAL_ARGS = frozenset({"team_id"})
_TRUE, _FALSE = {"1", "true"}, {"0", "false"}


@cache
def methods() -> dict[str, dict[str, Any]]:
    """All methods of the reference, by name."""
    found = {}
    for path in sorted(REFERENCE_DIR.glob("*.json")):
        if path.stem == "methods":  # the upstream index, not a method (not vendored; skipped if copied)
            continue
        found[path.stem] = json.loads(path.read_text(encoding="utf-8"))
    if not found:
        raise RuntimeError(f"no Slack API reference found in {REFERENCE_DIR}")
    return found


def exists(method: str) -> bool:
    return method in methods()


def http_method(method: str) -> str:
    return methods()[method].get("http_method", "POST")


def _args_schema(method: str) -> dict[str, Any]:
    return methods()[method].get("args") or {"type": "object", "properties": {}}


@cache
def _validator(method: str) -> Draft202012Validator:
    # Unknown keywords of the reference ("subtype", "schema", "coerce", ...) are ignored by jsonschema.
    return Draft202012Validator(_args_schema(method))


def _types(schema: dict[str, Any]) -> set[str]:
    """The JSON types a property schema allows (empty: unconstrained)."""
    found: set[str] = set()
    if isinstance(schema.get("type"), str):
        found.add(schema["type"])
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, []):
            if isinstance(sub, dict):
                found |= _types(sub)
    return found


def _from_text(value: str, allowed: set[str]) -> Any:
    """Turn a wire string into the type the reference wants, or leave it (to fail validation)."""
    if not allowed or "string" in allowed:
        return value
    low = value.strip().lower()
    if "boolean" in allowed and low in _TRUE | _FALSE:
        return low in _TRUE
    if "integer" in allowed or "number" in allowed:
        try:
            return int(value)
        except ValueError:
            pass
        if "number" in allowed:
            try:
                return float(value)
            except ValueError:
                pass
    if allowed & {"array", "object"}:
        try:
            return json.loads(value)
        except ValueError:
            if "array" in allowed:  # Slack accepts comma-separated lists for array arguments
                return [part for part in value.split(",") if part]
    if "null" in allowed and low in {"", "null"}:
        return None
    return value


def to_schema_shape(method: str, args: dict[str, Any]) -> dict[str, Any]:
    """Arguments coerced to the shape the reference schema describes."""
    props = _args_schema(method).get("properties", {})
    shaped = {}
    for key, value in args.items():
        allowed = _types(props.get(key, {}))
        if isinstance(value, str):
            value = _from_text(value, allowed)
        elif isinstance(value, (list, dict)) and "string" in allowed and not allowed & {"array", "object"}:
            value = json.dumps(value)
        shaped[key] = value
    return shaped


def check(method: str, args: dict[str, Any]) -> list[str]:
    """Problems with ``args`` (already containing ``token``), in Slack's ``[ERROR] ...`` message style."""
    schema = _args_schema(method)
    props = schema.get("properties", {})
    known = props.keys() | UNIVERSAL_ARGS
    problems = [f"[ERROR] unknown argument: {key}" for key in args if key not in known]
    shaped = to_schema_shape(method, {k: v for k, v in args.items() if k in props})
    for error in sorted(_validator(method).iter_errors(shaped), key=lambda e: list(e.absolute_path)):
        pointer = "/" + "/".join(str(p) for p in error.absolute_path)
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else error.message
            problems.append(f"[ERROR] missing required field: {missing}")
        else:
            problems.append(f"[ERROR] {error.message} [json-pointer:{pointer}]")
    return problems


def decode_for_record(method: str, args: dict[str, Any]) -> dict[str, Any]:
    """Arguments as tests want to read them: typed scalars, JSON arguments as Python objects."""
    shaped = to_schema_shape(method, args)
    for key in JSON_ARGS & shaped.keys():
        value = shaped[key]
        if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
            try:
                shaped[key] = json.loads(value)
            except ValueError:
                pass
    return shaped
