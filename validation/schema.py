"""The schema check: the output is JSON (after trivial repairs) and matches the job's schema.

jsonschema decides, and names the errors. Most outputs match, and most schemas use a handful of
keywords (types, properties, required, enums, formats): for those, a plain walk of the value
proves the match first, with jsonschema's own type and format checkers, at a fraction of the
cost of `iter_errors`, which builds a validator per keyword and value. Whatever the walk cannot
prove (another keyword, a failed keyword, anything unexpected) goes to jsonschema as before, so
every verdict and message is jsonschema's.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import jsonschema

from tierline.validation.base import Finding
from tierline.validation.repair import Parsed, parse_json

SCHEMA = "schema"
REPAIR = "repair"


# Keywords the walk reads, and annotations it may ignore (jsonschema ignores them too).
_WALKED = frozenset({"type", "properties", "required", "additionalProperties", "items", "enum",
                     "format"})
_ANNOTATIONS = frozenset({"description", "title", "default", "examples", "$comment"})


@lru_cache(maxsize=128)
def _validator(schema_json: str) -> tuple[jsonschema.protocols.Validator, bool]:
    """The compiled validator of one schema, with its draft's format checker, and whether
    `_matches` can walk the schema. Formats are checked by the packages of jsonschema's
    `format-nongpl` extra: `date-time` is RFC 3339 (a date, a time and an offset), so a bare
    date or a time without its offset fails."""
    schema = json.loads(schema_json)
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    validator: jsonschema.protocols.Validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    # Without "$schema" the draft is 2020-12, whose keywords the walk follows.
    return validator, isinstance(schema, dict) and "$schema" not in schema and _walkable(schema)


def _walkable(schema: Any) -> bool:
    """Whether `schema` uses only the keywords `_matches` reads, each in its usual form."""
    if not isinstance(schema, dict) or not schema.keys() <= _WALKED | _ANNOTATIONS:
        return False
    types = schema.get("type", [])
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    items = schema.get("items", True)
    return (all(isinstance(t, str) for t in (types if isinstance(types, list) else [types]))
            and isinstance(properties, dict) and all(map(_walkable, properties.values()))
            and isinstance(schema.get("required", []), list)
            and all(isinstance(r, str) for r in schema.get("required", []))
            and (isinstance(extra, bool) or _walkable(extra))
            and (items is True or _walkable(items))
            and isinstance(schema.get("enum", []), list)
            and isinstance(schema.get("format", ""), str))


def _matches(value: Any, schema: dict[str, Any],
             validator: jsonschema.protocols.Validator) -> bool:
    """Whether `value` plainly matches a `_walkable` schema. False means "not proven": an enum
    of other than strings, for one, is left to jsonschema."""
    if "type" in schema:
        types = schema["type"]
        if not any(validator.is_type(value, t) for t in (
                types if isinstance(types, list) else [types])):
            return False
    if "enum" in schema and not (isinstance(value, str) and value in [
            e for e in schema["enum"] if isinstance(e, str)]):
        return False
    if "format" in schema and not validator.format_checker.conforms(value, schema["format"]):
        return False
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        if any(name not in value for name in schema.get("required", ())):
            return False
        extra = schema.get("additionalProperties", True)
        for name, item in value.items():
            if name in properties:
                if not _matches(item, properties[name], validator):
                    return False
            elif extra is False or (extra is not True and not _matches(item, extra, validator)):
                return False
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return all(_matches(item, schema["items"], validator) for item in value)
    return True


def _plainly_matches(value: Any, validator: jsonschema.protocols.Validator) -> bool:
    try:
        return _matches(value, validator.schema, validator)
    except Exception:  # whatever the walk trips on, jsonschema decides and says it
        return False


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


def check_schema(value: Any, schema: dict[str, Any] | None) -> Finding:
    """`value` matches `schema` (types, required, enums, formats); the first errors are named."""
    if schema is None:
        return Finding(SCHEMA, True, "no schema given")
    try:
        validator, walkable = _validator(json.dumps(schema, sort_keys=True))
        if walkable and _plainly_matches(value, validator):
            return Finding(SCHEMA, True, "matches schema")
        errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
    except (jsonschema.SchemaError, ValueError, TypeError, RecursionError) as exc:
        return Finding(SCHEMA, False, f"cannot check against schema: {exc}"[:300])
    if not errors:
        return Finding(SCHEMA, True, "matches schema")
    shown = "; ".join(_where(e) + e.message[:120] for e in errors[:3])
    more = f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""
    return Finding(SCHEMA, False, shown + more)
