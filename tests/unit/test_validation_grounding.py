"""Grounding and provenance: extracted values are in the document, and from the right place."""

from __future__ import annotations

from tierline.validation.base import Finding
from tierline.validation.grounding import check_free_text, check_grounding, exact_value_found
from tierline.validation.provenance import check_provenance

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


def rejects(findings: list[Finding]) -> bool:
    return any(not f.passed and f.strict for f in findings)


def recorded(findings: list[Finding]) -> set[str]:
    return {f.check for f in findings if not f.passed and not f.strict}


def test_provenance_accepts_values_from_their_own_lines() -> None:
    fields = [(k, v) for k, v in RIGHT.items() if k != "line_items"]
    found = check_provenance(fields, INVOICE)
    assert not rejects(found) and not recorded(found)


def test_provenance_rejects_values_only_given_as_another_field() -> None:
    for field, value in [("date", "2025-04-02"), ("total", 2218.01), ("total", 500.0),
                         ("vendor", "Riverside Clinic")]:
        finding = check_provenance([(field, value)], INVOICE)
        assert rejects(finding), (field, value)
        assert "calls it something else" in finding[0].message


def test_provenance_rejects_on_a_label_line_naming_the_field_and_can_only_record_it() -> None:
    # The subtotal given as the total: "Total due:" names the field; the subtotal's line does not.
    found = check_provenance([("total", 805.83)], INVOICE)
    assert rejects(found) and found[1].check == "provenance_label"
    assert "'Total due: EUR 958,94'" in found[1].message
    lenient = check_provenance([("total", 805.83)], INVOICE, strict_labels=False)
    assert not rejects(lenient) and recorded(lenient) == {"provenance_label"}


def test_provenance_only_records_a_sentence_that_names_a_short_field_better() -> None:
    # Real agreement wording (Kleister NDA): the clause heading names "term", the sentence that
    # states the term does not; the term is right.
    doc = ("4.1 Term.\nThis Agreement shall remain in effect for a period of five (5) years from "
           "the Effective Date.\nThe terms of Section 2 survive for 30 days.")
    found = check_provenance([("term", "five (5) years")], doc)
    assert not rejects(found)


def test_provenance_records_list_order_without_rejecting() -> None:
    doc = 'Agreement between Acme Ltd ("Supplier") and Globex SA ("Customer").'
    assert not check_provenance([("parties", ["Acme Ltd", "Globex SA"])], doc)[1:]
    swapped = check_provenance([("parties", ["Globex SA", "Acme Ltd"])], doc)
    assert not rejects(swapped) and recorded(swapped) == {"item_order"}


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
    assert not rejects(check_provenance(right, doc))
    for wrong in [("effective_date", "2021-05-01"), ("effective_date", "2025-03-01"),
                  ("governing_law", "Dublin")]:
        assert rejects(check_provenance([wrong], doc)), wrong
    # Payment days given as the notice period: a sentence naming all three words of the field
    # holds another number, the value's own names one of them.
    assert rejects(check_provenance([("termination_notice_days", 45)], doc))


COLUMNS = """LINDQVIST TIMBER INC.
INVOICE

Rechnungsempfänger:
Sofie Conti

C1ient:
Lucía Asante

Invoice date: July 25, 2026
Payment due: August 8, 2026
Échéance: 25 novembre 2026

Subtotal                                             5,033.41
Sales tax (8.25%)                                      415.26
Total                                               $5,448.67
I paid £54.35, of which £9.90 was shipping.
"""


def test_column_layout_lines_are_labelled_places() -> None:
    assert rejects(check_provenance([("total", "5,033.41")], COLUMNS))
    assert not rejects(check_provenance([("total", "$5,448.67")], COLUMNS))


def test_a_due_date_is_told_from_other_dates_by_due_not_by_date() -> None:
    assert rejects(check_provenance([("due_date", "July 25, 2026")], COLUMNS))
    assert not rejects(check_provenance([("due_date", "August 8, 2026")], COLUMNS))
    assert not rejects(check_provenance([("issue_date", "July 25, 2026")], COLUMNS))


def test_an_amount_followed_by_what_it_is_for_is_qualified() -> None:
    assert rejects(check_provenance([("amount_paid", "9.90")], COLUMNS))
    assert not rejects(check_provenance([("amount_paid", "54.35")], COLUMNS))


def test_role_labels_in_other_languages_and_through_ocr() -> None:
    from tierline.validation.roles import check_roles

    for vendor, customer in [("LINDQVIST TIMBER INC.", "Sofie Conti"),
                             ("LINDQVIST TIMBER INC.", "Lucía Asante")]:
        right = check_roles({"vendor": vendor, "customer": customer}, COLUMNS)
        wrong = check_roles({"vendor": customer, "customer": vendor}, COLUMNS)
        assert right is not None and right.passed
        assert wrong is not None and not wrong.passed
