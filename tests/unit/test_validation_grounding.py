"""Grounding and provenance: extracted values are in the document, and from the right place."""

from __future__ import annotations

from validation.grounding import check_free_text, check_grounding, exact_value_found
from validation.provenance import check_provenance

INVOICE = """Acme Supplies GmbH
12 Market Street

INVOICE
Invoice number: INV-2025-0042
Invoice date: 3 March 2025
Due date: 2 April 2025
Customer PO: PO-33219
Bill to: Riverside Clinic

Description | Qty | Unit price | Amount
Toner cartridge | 2 | 392,94 | 785,88
=== ##### ===
Label roll | 7 | 2,85 | 19,95

Subtota1: 805,83
VAT 19%: 153,11
Previous balance: 2.218,01
Total due: EUR 958,94
Amount paid: 500,00
See Section 4.2 for terms; notice of ninety (90) days applies.
"""
SCHEMA = {"type": "object", "properties": {
    "vendor": {"type": "string"}, "invoice_number": {"type": "string"},
    "date": {"type": "string", "format": "date"}, "currency": {"type": "string"},
    "subtotal": {"type": "number"}, "tax": {"type": "number"}, "total": {"type": "number"},
    "line_items": {"type": "integer"},
    "payment": {"type": "string", "enum": ["cash", "card", "transfer"]}}}
RIGHT = {"vendor": "Acme Supplies GmbH", "invoice_number": "INV-2025-0042", "date": "2025-03-03",
         "currency": "EUR", "subtotal": 805.83, "tax": 153.11, "total": 958.94, "line_items": 2}


def test_right_extraction_is_grounded() -> None:
    findings = check_grounding(RIGHT, INVOICE, SCHEMA)
    assert all(f.passed for f in findings), findings


def test_values_in_other_formats_are_found() -> None:
    values: list[str | int] = ["958.94", "EUR 958,94", "March 3, 2025", "03/03/2025",
                               "Section 4.2", 90, "Riverside Clinic", "riverside  clinic",
                               "2218.01", "€"]
    for value in values:
        assert exact_value_found(value, INVOICE), value


def test_null_and_boolean_values_are_skipped() -> None:
    findings = check_grounding({"vendor": None, "paid": True, "po": None}, INVOICE, SCHEMA)
    assert findings[0].passed and "0 values" in findings[0].message


def test_invented_values_fail() -> None:
    for field, value in [("vendor", "Globex Corporation"), ("invoice_number", "INV-2025-0043"),
                         ("date", "2025-03-05"), ("total", 959.94), ("currency", "USD"),
                         ("clause", "Section 9.1")]:
        findings = check_grounding({field: value}, INVOICE, SCHEMA)
        assert not findings[0].passed, (field, value)
        assert field in findings[0].message


def test_a_partial_id_is_not_the_id() -> None:
    assert not exact_value_found("INV-2025", INVOICE)


def test_a_count_must_be_the_number_of_table_rows() -> None:
    assert check_grounding({"line_items": 2}, INVOICE, SCHEMA)[0].passed
    assert not check_grounding({"line_items": 5}, INVOICE, SCHEMA)[0].passed


def test_an_enum_value_must_be_the_one_the_document_names() -> None:
    doc = "CORNER CAFE\nTOTAL 12.00\nCARD **** 1234"
    assert check_grounding({"payment": "card"}, doc, SCHEMA)[0].passed
    assert not check_grounding({"payment": "cash"}, doc, SCHEMA)[0].passed


def test_free_text_with_invented_numbers_and_names_fails() -> None:
    good = check_free_text("Acme Supplies invoiced Riverside Clinic EUR 958,94.", INVOICE)
    assert all(f.passed for f in good)
    bad = check_free_text("It was sent by Globex to Riverside Clinic for EUR 1,999.00.", INVOICE)
    assert not bad[0].passed and "1,999.00" in bad[0].message
    assert not bad[1].passed and "Globex" in bad[1].message


def test_free_text_field_strictness_is_configurable() -> None:
    value = {"note": "Globex Logistics sent this invoice to the clinic for the toner cartridge."}
    lenient = check_grounding(value, INVOICE, None, strict_free_text=False)
    names = next(f for f in lenient if f.check == "grounding_free_text")
    assert not names.passed and not names.strict


def test_provenance_accepts_values_from_their_own_lines() -> None:
    fields = [(k, v) for k, v in RIGHT.items() if k != "line_items"]
    assert check_provenance(fields, INVOICE).passed


def test_provenance_catches_values_from_the_wrong_place() -> None:
    for field, value in [("date", "2025-04-02"), ("total", 2218.01), ("total", 500.0),
                         ("total", 805.83), ("vendor", "Riverside Clinic"),
                         ("invoice_number", "PO-33219")]:
        finding = check_provenance([(field, value)], INVOICE)
        assert not finding.passed, (field, value)


def test_provenance_checks_list_order() -> None:
    doc = 'Agreement between Acme Ltd ("Supplier") and Globex SA ("Customer").'
    assert check_provenance([("parties", ["Acme Ltd", "Globex SA"])], doc).passed
    assert not check_provenance([("parties", ["Globex SA", "Acme Ltd"])], doc).passed


def test_provenance_of_contract_terms() -> None:
    doc = ("This Agreement is entered into as of 3 March 2025 (the \"Effective Date\").\n"
           "This Agreement supersedes the agreement between the parties dated 1 May 2021.\n"
           "2.1 Customer shall pay each invoice within forty-five days of receipt.\n"
           "3.1 Either party may terminate this Agreement for convenience upon ninety (90) days' "
           "prior written notice.\n"
           "4.1 This Agreement is governed by the laws of Ireland.\n"
           "4.2 The courts of Dublin shall have exclusive jurisdiction.\n"
           "Signed on 1 March 2025 by the authorised representatives.")
    right = [("effective_date", "2025-03-03"), ("termination_notice_days", 90),
             ("governing_law", "Ireland")]
    assert check_provenance(right, doc).passed
    for wrong in [("effective_date", "2021-05-01"), ("effective_date", "2025-03-01"),
                  ("termination_notice_days", 45), ("governing_law", "Dublin")]:
        assert not check_provenance([wrong], doc).passed, wrong
