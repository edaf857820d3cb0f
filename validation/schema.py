"""The schema check: the output is JSON (after trivial repairs) and matches the job's schema."""

from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache
from typing import Any

import jsonschema

from tierline.validation.base import Finding
from tierline.validation.repair import Parsed, parse_json

SCHEMA = "schema"
REPAIR = "repair"

def _is_datetime(instance: object) -> bool:
    # jsonschema checks date-time only with an optional extra installed; this is enough for us.
    if not isinstance(instance, str):
        return True
    dt.datetime.fromisoformat(instance.replace("Z", "+00:00").replace("z", "+00:00"))
    return True


_FORMATS = jsonschema.FormatChecker()
_FORMATS.checks("date-time", raises=ValueError)(_is_datetime)


@lru_cache(maxsize=128)
def _validator(schema_json: str) -> jsonschema.protocols.Validator:
    schema = json.loads(schema_json)
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    validator: jsonschema.protocols.Validator = cls(schema, format_checker=_FORMATS)
    return validator


def parse_output(text: str) -> tuple[Parsed, list[Finding]]:
    """Parse JSON out of `text`: a failed parse is a strict schema failure, a repair is noted."""
    parsed = parse_json(text)
    findings: list[Finding] = []
    if parsed.repairs and parsed.ok:
        findings.append(Finding(REPAIR, True, "repaired: " + ", ".join(parsed.repairs),
                                strict=False))
    if not parsed.ok:
        findings.append(Finding(SCHEMA, False, f"not valid JSON: {parsed.error}"))
    return parsed, findings


def _where(error: jsonschema.ValidationError) -> str:
    path = "/".join(str(p) for p in error.absolute_path)
    return f"at /{path}: " if path else ""


_TYPES: dict[str, Any] = {
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool))
    or (isinstance(v, float) and v.is_integer()),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}
# Keywords the fast path understands; a schema with any other keyword goes to jsonschema.
_SIMPLE = frozenset({"type", "properties", "required", "additionalProperties", "items",
                     "minItems", "maxItems", "enum", "format", "description", "title"})


def simply_valid(value: Any, schema: Any) -> bool:
    """True only when `value` certainly matches `schema` (Draft 2020-12 semantics) using the
    common keywords; False means "ask jsonschema", which also names the errors.

    The usual extraction schema (an object of typed fields, required, enums, dates) is checked
    here in microseconds instead of jsonschema's tenths of a millisecond per job.
    """
    if not isinstance(schema, dict) or not schema.keys() <= _SIMPLE:
        return False
    kind = schema.get("type")
    if kind is not None:
        kinds = kind if isinstance(kind, list) else [kind]
        if not all(isinstance(k, str) and k in _TYPES for k in kinds):
            return False
        if not any(_TYPES[k](value) for k in kinds):
            return False
    if "enum" in schema:
        options = schema["enum"]
        if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
            return False
        if not (isinstance(value, str) and value in options):
            return False
    fmt = schema.get("format")
    if fmt is not None and not (isinstance(fmt, str) and _FORMATS.conforms(value, fmt)):
        return False
    if isinstance(value, dict):
        props = schema.get("properties", {})
        required = schema.get("required", [])
        extra = schema.get("additionalProperties", True)
        if not isinstance(props, dict) or not isinstance(required, list) or not isinstance(
                extra, bool):
            return False
        if any(not isinstance(r, str) or r not in value for r in required):
            return False
        if not extra and not value.keys() <= props.keys():
            return False
        return all(simply_valid(v, props[k]) for k, v in value.items() if k in props)
    if isinstance(value, list):
        low, high = schema.get("minItems", 0), schema.get("maxItems", len(value))
        if not isinstance(low, int) or not isinstance(high, int) or not low <= len(value) <= high:
            return False
        items = schema.get("items")
        if items is None:
            return True
        return all(simply_valid(v, items) for v in value)
    return True


def check_schema(value: Any, schema: dict[str, Any] | None) -> Finding:
    """`value` matches `schema` (types, required, enums, formats); the first errors are named."""
    if schema is None:
        return Finding(SCHEMA, True, "no schema given")
    try:
        if simply_valid(value, schema):
            return Finding(SCHEMA, True, "matches schema")
    except (ValueError, TypeError, RecursionError):
        pass  # jsonschema decides, and says why
    try:
        validator = _validator(json.dumps(schema, sort_keys=True))
        errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
    except (jsonschema.SchemaError, ValueError, TypeError, RecursionError) as exc:
        return Finding(SCHEMA, False, f"cannot check against schema: {exc}"[:300])
    if not errors:
        return Finding(SCHEMA, True, "matches schema")
    shown = "; ".join(_where(e) + e.message[:120] for e in errors[:3])
    more = f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""
    return Finding(SCHEMA, False, shown + more)
