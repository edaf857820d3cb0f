"""Each validation check on answers that must pass and answers that must fail."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tierline.validation.classify import check_label, normalize_label
from tierline.validation.code import check_code
from tierline.validation.consistency import check_consistency
from tierline.validation.dates import date_readings
from tierline.validation.normalize import document_numbers, number_readings
from tierline.validation.refusal import check_empty, check_language, check_refusal, check_truncated
from tierline.validation.repair import parse_json
from tierline.validation.schema import check_schema, parse_output

INVOICE_SCHEMA = {
    "type": "object",
    "properties": {
        "vendor": {"type": "string"},
        "date": {"type": "string", "format": "date"},
        "currency": {"type": "string", "enum": ["EUR", "USD"]},
        "total": {"type": "number"},
    },
    "required": ["vendor", "date", "total"],
    "additionalProperties": False,
}


# --- normalisation ---------------------------------------------------------------------------

@pytest.mark.parametrize("written", ["1,234.56", "1.234,56", "1234.56", "1 234,56", "1'234.56"])
def test_number_formats_read_as_the_same_number(written: str) -> None:
    assert Decimal("1234.56") in number_readings(written)


def test_ambiguous_thousands_keep_both_readings() -> None:
    assert number_readings("1,234") == {Decimal("1234"), Decimal("1.234")}


@pytest.mark.parametrize("written", ["2025-03-03", "3 March 2025", "03/03/2025", "March 3, 2025",
                                     "3rd of March 2025", "Mar. 3 2025", "03.03.2025"])
def test_date_formats_read_as_the_same_day(written: str) -> None:
    assert dt.date(2025, 3, 3) in date_readings(written)


def test_numbers_written_in_words_are_document_numbers() -> None:
    numbers = document_numbers("notice of ninety days, or one hundred twenty, or forty-five")
    assert {Decimal(90), Decimal(120), Decimal(45)} <= numbers


# --- repair and schema -----------------------------------------------------------------------

@pytest.mark.parametrize(("text", "repair"), [
    ('```json\n{"a": 1}\n```', "code fence removed"),
    ('Sure! Here it is: {"a": 1} Anything else?', "prose around the JSON removed"),
    ('{"a": 1,}', "trailing commas removed"),
    ("{'a': 1}", "single quotes replaced"),
    ('{"a": {"b": 1}', "missing closing bracket added"),
])
def test_trivially_broken_json_is_repaired_and_says_how(text: str, repair: str) -> None:
    parsed = parse_json(text)
    assert parsed.ok and repair in parsed.repairs


@pytest.mark.parametrize("text", ['{"a": "unterminated', '{"a": {"b": {"c": 1}', "no json", ""])
def test_json_broken_beyond_trivial_repair_fails(text: str) -> None:
    assert not parse_json(text).ok


def test_repair_is_a_passing_lenient_finding() -> None:
    parsed, findings = parse_output("```json\n{\"a\": 1}\n```")
    assert parsed.value == {"a": 1}
    assert [(f.check, f.passed, f.strict) for f in findings] == [("repair", True, False)]
    assert findings[0].message.startswith("repaired: ")


def test_schema_accepts_a_matching_object() -> None:
    value = {"vendor": "Acme", "date": "2025-03-03", "currency": "EUR", "total": 1.5}
    assert check_schema(value, INVOICE_SCHEMA).passed


@pytest.mark.parametrize(("value", "why"), [
    ({"vendor": "Acme", "date": "2025-03-03"}, "'total' is a required property"),
    ({"vendor": "Acme", "date": "3 March 2025", "total": 1}, "is not a 'date'"),
    ({"vendor": "Acme", "date": "2025-03-03", "total": "12"}, "is not of type 'number'"),
    ({"vendor": "Acme", "date": "2025-03-03", "total": 1, "currency": "GBP"}, "is not one of"),
    ({"vendor": "Acme", "date": "2025-03-03", "total": 1, "extra": 1}, "Additional properties"),
])
def test_schema_rejects_types_required_enums_formats(value: object, why: str) -> None:
    finding = check_schema(value, INVOICE_SCHEMA)
    assert not finding.passed and why in finding.message


# --- refusals and give-ups -------------------------------------------------------------------

@pytest.mark.parametrize("text", ["I don't know.", "As an AI language model, I cannot help.",
                                  "I cannot determine that from the document.",
                                  "I'm sorry, but I am unable to answer.", "I'm not sure."])
def test_refusals_fail(text: str) -> None:
    assert not check_refusal(text).passed


def test_an_ordinary_answer_is_not_a_refusal() -> None:
    assert check_refusal("The customer paid 288.57 USD on 3 March 2025.").passed


def test_a_refusal_phrase_quoted_from_the_document_is_not_a_refusal() -> None:
    email = "Hi, I cannot log in since Monday. Please help."
    assert check_refusal("The customer says: I cannot log in since Monday.", document=email).passed
    assert not check_refusal("I cannot answer that.", document="Invoice 12, total 9.00").passed


def test_not_stated_is_a_refusal_unless_the_task_allows_it() -> None:
    assert not check_refusal("The document does not say.").passed
    assert check_refusal("The document does not say.", allow_not_stated=True).passed


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_empty_answers_fail(text: str) -> None:
    assert not check_empty(text).passed


@pytest.mark.parametrize(("reason", "passed"), [("stop", True), ("length", False),
                                                ("max_tokens", False), ("end_turn", True)])
def test_truncated_answers_fail(reason: str, passed: bool) -> None:
    assert check_truncated(reason).passed is passed


ENGLISH_DOC = ("The supplier shall deliver the goods to the customer within thirty days of the "
               "order, and the customer shall pay each invoice on receipt of the goods.")


def test_answer_in_the_documents_language_passes() -> None:
    assert check_language("The supplier must deliver the goods within thirty days of the order.",
                          ENGLISH_DOC).passed


@pytest.mark.parametrize("answer", [
    "Der Lieferant muss die Waren innerhalb von dreißig Tagen nach Bestellung liefern.",
    "Поставщик должен доставить товар в течение тридцати дней после заказа клиента.",
    "供应商应在订单后三十天内将货物交付给客户，客户应在收到货物时支付每张发票。",
])
def test_answer_in_another_language_fails(answer: str) -> None:
    assert not check_language(answer, ENGLISH_DOC).passed


# --- classification --------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["billing", "Billing", "  billing.\n", "**billing**", '"billing"'])
def test_label_is_normalised_to_the_jobs_spelling(text: str) -> None:
    finding, label = check_label(text, ["billing", "technical"])
    assert finding.passed and label == "billing"


def test_normalisation_is_recorded() -> None:
    finding, _ = check_label("Billing.", ["billing", "technical"])
    assert "normalised" in finding.message


@pytest.mark.parametrize("text", ["refund", "billing or technical",
                                  "This is about billing, so I would label it billing."])
def test_label_not_exactly_one_of_the_allowed_fails(text: str) -> None:
    finding, label = check_label(text, ["billing", "technical"])
    assert not finding.passed and label is None


def test_normalize_label_folds_case_and_punctuation() -> None:
    assert normalize_label("  Technical. ") == "technical"


# --- consistency -----------------------------------------------------------------------------

def test_amounts_that_add_up_pass() -> None:
    assert check_consistency({"subtotal": 100.0, "tax": 19.0, "total": "119.00"}).passed


def test_amounts_that_do_not_add_up_fail() -> None:
    finding = check_consistency({"subtotal": 100.0, "tax": 19.0, "total": 129.0})
    assert not finding.passed and "not total" in finding.message


def test_sum_is_only_checked_when_all_three_exist() -> None:
    assert check_consistency({"subtotal": 100.0, "total": 129.0}).passed


@pytest.mark.parametrize("value", [{"date": "1850-01-01"}, {"invoice_date": "2025-03-10",
                                                             "due_date": "2025-03-01"}])
def test_implausible_or_disordered_dates_fail(value: dict[str, str]) -> None:
    assert not check_consistency(value).passed


# --- code ------------------------------------------------------------------------------------

def test_code_block_that_compiles_passes() -> None:
    assert check_code("Here:\n```python\ndef f(x):\n    return x + 1\n```").passed


@pytest.mark.parametrize("text", ["def f(x): return x", "```python\ndef f(:\n```", "```\n\n```"])
def test_missing_or_broken_code_fails(text: str) -> None:
    assert not check_code(text).passed
