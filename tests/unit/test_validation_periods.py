"""Amounts of another period: the one-off fee given as the monthly fee beside it."""

from __future__ import annotations

import pytest

from tierline.validation.periods import PERIODS, check_periods

FEES = ("3. Fees. The Licensee pays a one-off onboarding fee of £1,400.00 and a monthly fee of "
        "£11,780.00, excluding VAT, within 30 days of each invoice.\n"
        "4. Liability. Each party's liability is capped at £141,360.00 per contract year.\n")
AFTER = "Fees: CHF 2'500.00 one-time, then CHF 980.00 per month and CHF 9'000.00 a year.\n"
PLAIN = "The Client pays 4.200,00 € for the project.\n"


@pytest.mark.parametrize("document, field, value", [
    (FEES, "monthly_fee", "11,780.00"),
    (FEES, "monthly_fee", "£11,780.00"),
    (FEES, "onboarding_fee", 1400),
    (FEES, "setup_fee", "1,400.00"),
    (FEES, "annual_liability_cap", "141,360.00"),
    (AFTER, "monthlyFee", "980.00"),
    (AFTER, "setup_fee", "2'500.00"),
    (AFTER, "annual_fee", "9'000.00"),
    (PLAIN, "monthly_fee", "4.200,00"),  # no period qualifies it: not judged
    (FEES, "fee", "1,400.00"),  # the field names no period
])
def test_an_amount_of_the_fields_period_or_of_none_passes(document: str, field: str,
                                                         value: str | int) -> None:
    assert check_periods([(field, value)], document) == []


@pytest.mark.parametrize("document, field, value", [
    (FEES, "monthly_fee", "1,400.00"),
    (FEES, "monthly_fee", 141360),
    (FEES, "setup_fee", "11,780.00"),
    (AFTER, "monthly_fee", "2'500.00"),
    (AFTER, "annual_fee", "980.00"),
])
def test_an_amount_only_another_period_qualifies_fails(document: str, field: str,
                                                      value: str | int) -> None:
    findings = check_periods([(field, value)], document)
    assert [(f.check, f.passed, f.strict) for f in findings] == [(PERIODS, False, True)]
