"""The schema check is jsonschema's, formats included: `date-time` is RFC 3339."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tierline.validation.schema import check_schema

EVENT = {"type": "object", "properties": {"at": {"type": "string", "format": "date-time"}},
         "required": ["at"]}


@pytest.mark.parametrize("at", ["2026-03-03T10:15:00Z", "2026-03-03T10:15:00.5+01:00",
                                "2026-03-03t10:15:00z"])
def test_a_full_rfc3339_date_time_passes(at: str) -> None:
    assert check_schema({"at": at}, EVENT).passed


@pytest.mark.parametrize("at", ["2026-03-03", "2026-03-03T10:15:00", "2026-03-03 10:15",
                                "3 March 2026, 10:15", "2026-02-30T10:15:00Z"])
def test_a_bare_date_or_a_time_without_its_offset_is_not_a_date_time(at: str) -> None:
    finding = check_schema({"at": at}, EVENT)
    assert not finding.passed and "is not a 'date-time'" in finding.message


def test_integral_floats_are_integers_as_in_draft_2020_12() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    assert check_schema({"n": 3.0}, schema).passed
    assert not check_schema({"n": 3.5}, schema).passed
    assert not check_schema({"n": True}, schema).passed


def test_every_error_is_named_with_its_path() -> None:
    schema = {"type": "object", "properties": {"lines": {"type": "array", "maxItems": 1,
                                                         "items": {"type": "number"}}}}
    finding = check_schema({"lines": [1, "x"]}, schema)
    assert not finding.passed
    assert "at /lines/1: 'x' is not of type 'number'" in finding.message
    assert "at /lines: " in finding.message


# A match is proven by a quick walk of the schema's common keywords, anything else is left to
# jsonschema: the verdict is jsonschema's either way. Schemas of the walk's keywords (and one it
# leaves to jsonschema), and values near them.
_SCHEMAS = [
    {"type": "object", "additionalProperties": False, "required": ["a", "d"],
     "properties": {"a": {"type": "string"}, "d": {"type": "string", "format": "date"},
                    "n": {"type": "integer"}, "x": {"type": ["number", "null"]},
                    "k": {"enum": ["a", "b", 1]}, "l": {"type": "array",
                                                        "items": {"type": "string"}}}},
    {"type": "object", "additionalProperties": {"type": "number"},
     "properties": {"t": {"type": "string", "format": "date-time", "description": "when"}}},
    {"type": "array", "items": {"type": "object", "required": ["name"],
                                "properties": {"name": {"type": "string"}}}},
    {"type": "object", "properties": {"a": {"type": "string", "maxLength": 3}}},
]
_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False)
    | st.sampled_from([1.0, "a", "b", "2025-03-04", "2025-02-30", "2026-03-03T10:15:00Z", "x"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["a", "d", "n", "x", "k", "l", "t", "name", "z"]), inner, max_size=6),
    max_leaves=12)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(_SCHEMAS), _values)
def test_the_quick_walk_agrees_with_jsonschema(schema: dict[str, Any], value: Any) -> None:
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    expected = not list(validator.iter_errors(value))
    assert check_schema(value, schema).passed is expected
