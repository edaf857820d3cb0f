"""The checks on excerpts of real agreements (EDGAR filings in Kleister NDA, quoted as filed):
for each check, answers that must pass and answers that must fail."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tierline.jobs.models import JobSpec
from tierline.validation.durations import duration_of, duration_stated
from tierline.validation.grounding import exact_value_found
from tierline.validation.names import name_found
from tierline.validation.provenance import check_provenance
from tierline.validation.roles import check_roles
from tierline.validation.runner import validate

# 2464daf5ceb9add8 (DigiPath / W-Net nondisclosure agreement).
DIGIPATH = (
    "EX-10 .3 4 ex10-3 .htm\nNONDISCLOSURE AGREEMENT\nTHIS NONDISCLOSURE AGREEMENT (this “NDA”) "
    "is made as of December 9th, 2014 (the “Effective Date”) by and between DigiPath,\nInc., "
    "located at 6450 Cameron Street, Suite 113, Las Vegas, Nevada 89118 (“Discloser”), and W-Net, "
    "Inc. (“Recipient”).\n1. Scope of NDA. This NDA governs all disclosures of Confidential "
    "Information by Discloser in the course of exploring one or more strategic\nbusiness "
    "transactions or relationships with Recipient (“Strategic Discussions”).\n"
    "This NDA shall be governed by the laws of the State of California.")
# 2b72f7fc (Shire US / New River Pharmaceuticals).
SHIRE = (
    "THIS NON-DISCLOSURE AND CONFIDENTIALITY AGREEMENT (hereinafter the “Agreement”) is made and "
    "entered into as of the 16th day of July,\n2002 (hereinafter “Effective Date”), by and between "
    "Shire US Inc. (hereinafter “SHIRE”), and New River Pharmaceuticals Inc. (formerly, Lotus\n"
    "Biochemical Corporation), a Virginia corporation with offices in Radford, Virginia.")
# 03147043 (Kite Pharma / Gilead Sciences), section 4.
KITE = (
    "4.1 Term. This Agreement shall commence on the Effective Date and continue until terminated "
    "by mutual agreement.\n4.2 Survival. The Receiving Party’s obligations with respect to "
    "Confidential Information under Section 2 shall survive termination or\nexpiration of this "
    "Agreement, and shall expire seven (7) years from the Effective Date.\n3of5\nConfidential\n"
    "5. Miscellaneous.")
# 1a22349a (Intel / Cloudera).
INTEL = (
    "CONFIDENTIALITY AGREEMENT\nThis Confidentiality Agreement (the “Agreement”) is entered into "
    "as of March 21, 2014 (the “Effective Date”)\nby and between Intel Corporation (“Intel”) and "
    "Cloudera, Inc. (“Cloudera,” and, together with Intel, each a “Party” or\ntogether the "
    "“Parties”).")
# 00a1d238 (Nike covenant not to compete), the parties block.
NIKE = ("COVENANT NOT TO COMPETE\nAND NON-DISCLOSURE AGREEMENT\nPARTIES:\nEric Dean Sprunk "
        "(“EMPLOYEE”)\nand\nNIKE, Inc., divisions, subsidiaries\nand affiliates. (“NIKE”):")
# 2ab67f26 (Pier 1 retirement agreement): two defined terms in one bracket.
PIER1 = ("Partial Retirement Agreement and General Release (“Agreement”), entered into by and "
         "between Charles H. Turner (“you” or the\n“Employee”), Pier 1 Services Company "
         "(“Company”) and Pier 1 Imports, Inc. (“Parent”)")
# 724a6c9e (Scholar Rock): OCR that split the text letter by letter.
SCHOLAR = ("t\ni\nonandasacond\ni\nt\ni\nonofmyemp\nl\noymen\nt\nbyScho\nl\narRockLLC\n,\naDe\nl"
           "\naware\nl\ni\nm\ni\nt\ned\nl\ni\nab\ni\nl\ni\nt\nycompany")


@pytest.mark.parametrize(("value", "document"), [
    ("December 9th, 2014", DIGIPATH), ("2014-12-09", DIGIPATH), ("12/9/2014", DIGIPATH),
    ("16th day of July,\n2002", SHIRE), ("the 16th day of July, 2002", SHIRE),
    ("2002-07-16", SHIRE), ("July 16, 2002", SHIRE), ("March 21, 2014", INTEL),
])
def test_dates_as_agreements_state_them_are_grounded(value: str, document: str) -> None:
    assert exact_value_found(value, document)


@pytest.mark.parametrize(("value", "document"), [
    ("2014-12-10", DIGIPATH), ("December 19th, 2014", DIGIPATH), ("17th day of July, 2002", SHIRE),
    ("2003-07-16", SHIRE), ("March 12, 2014", INTEL),
])
def test_shifted_dates_are_not(value: str, document: str) -> None:
    assert not exact_value_found(value, document)


@pytest.mark.parametrize("value", ["seven (7) years", "7 years", "seven years", "seven-year",
                                   "84 months", "seven\n(7) years"])
def test_a_term_in_any_wording_of_the_stated_duration_is_grounded(value: str) -> None:
    duration = duration_of(value)
    assert duration is not None and duration_stated(duration, KITE)
    assert exact_value_found(value, KITE)


@pytest.mark.parametrize("value", ["5 years", "seven (7) months", "eight (8) years", "2 years",
                                   "5 days"])
def test_an_altered_or_invented_term_is_not(value: str) -> None:
    # "5" is in the document ("5. Miscellaneous", "3of5") and so is "years": not together.
    assert not exact_value_found(value, KITE)


@pytest.mark.parametrize(("value", "document"), [
    ("NIKE, Inc.", NIKE), ("Nike Inc.", NIKE), ("NIKE,\nINC.", NIKE), ("Eric Dean Sprunk", NIKE),
    ("ERIC DEAN SPRUNK", NIKE), ("Intel Corp", INTEL), ("Intel Corporation", INTEL),
    ("Cloudera Inc.", INTEL), ("DigiPath, Inc.", DIGIPATH), ("Digipath Inc", DIGIPATH),
    ("W-Net Inc.", DIGIPATH), ("Shire US Inc.", SHIRE), ("Scholar Rock LLC", SCHOLAR),
])
def test_party_names_as_printed_or_normalised_are_grounded(value: str, document: str) -> None:
    assert exact_value_found(value, document)


@pytest.mark.parametrize(("value", "document"), [
    ("Nike Golf LLC", NIKE), ("Intel Capital Corp", INTEL), ("Cloudera Systems Inc.", INTEL),
    ("Lotus Pharmaceuticals Inc.", SHIRE), ("Gilead Sciences, Inc.", DIGIPATH),
    ("Scholar Rock Holding", SCHOLAR),
])
def test_parties_the_agreement_does_not_name_are_not(value: str, document: str) -> None:
    assert not exact_value_found(value, document) and not name_found(value, document)


def test_a_state_the_agreement_never_names_is_rejected_and_its_own_is_accepted() -> None:
    assert exact_value_found("California", DIGIPATH) and exact_value_found("Virginia", SHIRE)
    assert not exact_value_found("Delaware", DIGIPATH) and not exact_value_found("Oregon", SHIRE)


@pytest.mark.parametrize(("output", "passes"), [
    ({"disclosing_party": "DigiPath, Inc.", "receiving_party": "W-Net, Inc."}, True),
    ({"disclosing_party": "W-Net, Inc.", "receiving_party": "DigiPath, Inc."}, False),
    ({"employee": "Eric Dean Sprunk", "employer": "NIKE, Inc."}, True),
    ({"employee": "NIKE, Inc.", "employer": "Eric Dean Sprunk"}, False),
    ({"employee": "Charles H. Turner"}, True),
    ({"employer": "Charles H. Turner", "employee": "Pier 1 Services Company"}, False),
    ({"parties": [{"name": "W-Net, Inc.", "role": "Recipient"}]}, True),
    ({"parties": [{"name": "W-Net, Inc.", "role": "Disclosing Party"}]}, False),
])
def test_roles_follow_the_agreements_defined_terms(output: dict[str, Any], passes: bool) -> None:
    document = {"disclosing_party": DIGIPATH, "receiving_party": DIGIPATH, "employee": NIKE,
                "employer": NIKE, "parties": DIGIPATH}[next(iter(output))]
    if "Charles H. Turner" in json.dumps(output):
        document = PIER1
    finding = check_roles(output, document)
    assert finding is not None and finding.passed is passes, finding
    assert passes or "the document gives it the other side's role" in finding.message


def test_roles_judge_nothing_where_the_agreement_assigns_none() -> None:
    # Intel and Cloudera are defined by their own names, not by roles.
    assert check_roles({"disclosing_party": "Cloudera, Inc."}, INTEL) is None


def test_parties_in_another_order_than_the_agreement_are_only_recorded() -> None:
    found = check_provenance([("parties", ["W-Net, Inc.", "DigiPath, Inc."])], DIGIPATH)
    assert all(f.passed or not f.strict for f in found)
    assert any(f.check == "item_order" and not f.passed for f in found)


SCHEMA = {"type": "object", "properties": {
    "parties": {"type": "array", "items": {"type": "string"}},
    "effective_date": {"type": ["string", "null"]}, "jurisdiction": {"type": ["string", "null"]},
    "term": {"type": ["string", "null"]}}}


def test_whole_answers_on_an_agreement_through_validate() -> None:
    job = JobSpec.model_validate({"task": "extract", "document": DIGIPATH + "\n" + KITE,
                                  "schema": SCHEMA})
    right = {"parties": ["DigiPath,\nInc.", "W-NET, INC."], "effective_date": "December 9th, 2014",
             "jurisdiction": "California", "term": "seven (7) years"}
    assert validate(job, json.dumps(right)).passed
    for field, wrong in [("effective_date", "December 19th, 2014"), ("jurisdiction", "Nevada "
                         "and Delaware"), ("term", "ten (10) years"),
                         ("parties", ["DigiPath, Inc.", "Acme Corp."])]:
        verdict = validate(job, json.dumps({**right, field: wrong}))
        assert not verdict.passed, field
