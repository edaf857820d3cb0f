"""The schema check is jsonschema's, formats included: `date-time` is RFC 3339."""

from __future__ import annotations

import pytest

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
