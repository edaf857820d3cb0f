"""The schema check: the output is JSON (after trivial repairs) and matches the job's schema."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import jsonschema

from tierline.validation.base import Finding
from tierline.validation.repair import Parsed, parse_json

SCHEMA = "schema"
REPAIR = "repair"


@lru_cache(maxsize=128)
def _validator(schema_json: str) -> jsonschema.protocols.Validator:
    """The compiled validator of one schema, with its draft's format checker. Formats are
    checked by the packages of jsonschema's `format-nongpl` extra: `date-time` is RFC 3339
    (a date, a time and an offset), so a bare date or a time without its offset fails."""
    schema = json.loads(schema_json)
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    validator: jsonschema.protocols.Validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
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


def check_schema(value: Any, schema: dict[str, Any] | None) -> Finding:
    """`value` matches `schema` (types, required, enums, formats); the first errors are named."""
    if schema is None:
        return Finding(SCHEMA, True, "no schema given")
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
