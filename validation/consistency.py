"""Consistency of extracted values with each other: sums that must add up, dates that must fit.

Only relations the field names make unambiguous are checked, and only when every field involved
is present: a schema without subtotal, tax and total gets no sum check.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from tierline.validation.base import Finding
from tierline.validation.dates import date_readings
from tierline.validation.normalize import value_readings

CONSISTENCY = "consistency"

SUBTOTAL_KEYS = ("subtotal", "sub_total", "net_amount", "net_total", "net")
TAX_KEYS = ("tax", "vat", "tax_amount", "vat_amount", "sales_tax", "tax_total")
TOTAL_KEYS = ("total", "total_amount", "grand_total", "amount_due", "total_due", "gross_amount",
              "gross")
_TOLERANCE = Decimal("0.011")
_EARLIEST, _LATEST = dt.date(1900, 1, 1), dt.date(2100, 12, 31)


def _number(obj: dict[str, Any], keys: tuple[str, ...]) -> Decimal | None:
    for key in keys:
        readings = value_readings(obj.get(key)) if key in obj else set()
        if len(readings) == 1:
            return next(iter(readings))
    return None


def _sum_check(obj: dict[str, Any]) -> str | None:
    subtotal, tax, total = (_number(obj, k) for k in (SUBTOTAL_KEYS, TAX_KEYS, TOTAL_KEYS))
    if subtotal is None or tax is None or total is None:
        return None
    if abs(subtotal + tax - total) > _TOLERANCE:
        return f"subtotal {subtotal} + tax {tax} = {subtotal + tax}, not total {total}"
    return None


def _date_of(value: Any) -> list[dt.date] | str | None:
    """The plausible readings of the date `value` holds ("07.11.2026" is 7 November or 11 July),
    None if it is not date-like, or an error message."""
    if not isinstance(value, str):
        return None
    readings = date_readings(value)
    if not readings:
        return None
    plausible = sorted(d for d in readings if _EARLIEST <= d <= _LATEST)
    return plausible if plausible else f"implausible date {value!r}"


def _date_checks(obj: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    dates: dict[str, list[dt.date]] = {}
    for key, value in obj.items():
        if "date" not in str(key).lower() and not str(key).lower().endswith(("_on", "_at")):
            continue
        found = _date_of(value)
        if isinstance(found, str):
            problems.append(f"{key}: {found}")
        elif found is not None:
            dates[str(key).lower()] = found
    due = next((d for k, d in dates.items() if "due" in k), None)
    issued = next((d for k, d in dates.items() if "due" not in k and ("issue" in k or
                   "invoice" in k or k == "date")), None)
    # Out of order only if it is under every reading of both dates.
    if due is not None and issued is not None and max(due) < min(issued):
        problems.append(f"due date {max(due)} is before issue date {min(issued)}")
    return problems


def _objects(value: Any, depth: int = 0) -> list[dict[str, Any]]:
    if depth > 20:
        return []
    if isinstance(value, dict):
        return [value, *(o for v in value.values() for o in _objects(v, depth + 1))]
    if isinstance(value, list):
        return [o for v in value for o in _objects(v, depth + 1)]
    return []


def check_consistency(value: Any) -> Finding:
    """Sums add up (subtotal + tax = total) and dates are plausible and in order."""
    problems: list[str] = []
    for obj in _objects(value):
        sum_problem = _sum_check(obj)
        if sum_problem:
            problems.append(sum_problem)
        problems += _date_checks(obj)
    if problems:
        return Finding(CONSISTENCY, False, "; ".join(problems[:3]))
    return Finding(CONSISTENCY, True, "values consistent")
