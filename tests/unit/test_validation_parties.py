"""Omitted parties, on openings of real EDGAR agreements (Kleister NDA)."""

from __future__ import annotations

import pytest

from tierline.validation.parties import PARTIES, check_parties, opening_parties

KITE = ("This Mutual Confidentiality Agreement (“Agreement”) is effective as of February 10, 2017 "
        "(“Effective Date”), between Kite Pharma,\nInc., a Delaware corporation having a place of "
        "business at 2225 Colorado Avenue, Santa Monica, CA 90404 (“Kite”) and Gilead Sciences, "
        "Inc.,\na Delaware corporation having a place of business at 333 Lakeside Drive, Foster "
        "City, CA 94404 (“Company”). Kite and Company may be\nreferred to herein individually as "
        "a “Party” and collectively as the “Parties.”")
LYDALL = ("INDEMNIFICATION AGREEMENT\nThis Agreement, made and entered into (“Agreement”), by and "
          "between Lydall, Inc., a Delaware corporation (“Company”), and David\nFreeman "
          "(“Indemnitee”):\nWHEREAS, highly competent persons are becoming more reluctant")
SEIFERT = ("This Non-Circumvention and Non-Disclosure\nAgreement (hereinafter referred to as the "
           "\"Agreement\" is made this 6th of February, 1999 by and between High Speed\nNet "
           "Solutions and R. J. Seifert Enterprises. Collectively, all the parties hereto may be "
           "referred to hereinafter as the\n\"Parties\"")
# Templates leave the other party blank: nobody is named there.
TEMPLATE = ("This Agreement is made between Legacy Housing Corporation, a Delaware corporation (the "
            "“Company”), and\n(the\n“Employee”).\nIn consideration of the employment")
UNDERSIGNED = ("RESTRICTIVE COVENANT AGREEMENT (the “Agreement”) is entered into as of\n, 2009 (the "
               "“Effective Date”), between The Hershey Company, a Delaware corporation together "
               "with its subsidiaries (“Employer” or “Company”), and the undersigned officer of "
               "Employer (“Executive”).\nWHEREAS, Executive currently serves")
LILLY = ("This Confidentiality Agreement (the “Agreement”) is entered into as of May 1, 2018 by and "
         "between ARMO BioSciences, Inc. (“ARMO”) and Eli Lilly and Company (“Lilly”).")
THREE = ("This Agreement is made and entered into by and between API Nanotronics Corp., a Delaware "
         "corporation (“API”), API ELECTRONICS, INC., a New York corporation (“Electronics”), and "
         "THOMAS W. MILLS, SR. (“Executive”).")


@pytest.mark.parametrize("document, parties", [
    (KITE, ["Kite Pharma, Inc.", "Gilead Sciences, Inc."]),
    (KITE, ["KITE PHARMA, INC.", "GILEAD SCIENCES, INC."]),
    (LYDALL, ["Lydall, Inc.", "David Freeman"]),
    (SEIFERT, ["High Speed Net Solutions", "R. J. Seifert Enterprises"]),
    (TEMPLATE, ["Legacy Housing Corporation"]),
    (UNDERSIGNED, ["The Hershey Company"]),
    (LILLY, ["ARMO BioSciences, Inc.", "Eli Lilly and Company"]),
])
def test_every_named_party_listed_passes(document: str, parties: list[str]) -> None:
    assert check_parties({"parties": parties}, document) == []


@pytest.mark.parametrize("document, parties", [
    (KITE, ["KITE PHARMA, INC."]),
    (LYDALL, ["Lydall, Inc."]),
    (LYDALL, ["David Freeman"]),
    (SEIFERT, ["High Speed Net Solutions"]),
    (LILLY, ["Eli Lilly and Company"]),
])
def test_one_of_two_named_parties_left_out_fails(document: str, parties: list[str]) -> None:
    findings = check_parties({"parties": parties}, document)
    assert [(f.check, f.passed, f.strict) for f in findings] == [(PARTIES, False, True)]
    assert "the opening names 2 parties" in findings[0].message


def test_a_party_left_out_of_three_is_only_recorded() -> None:
    assert len(opening_parties(THREE)) == 3
    findings = check_parties({"parties": ["API Nanotronics Corp.", "THOMAS W. MILLS, SR."]}, THREE)
    assert [(f.passed, f.strict) for f in findings] == [(False, False)]


def test_a_between_outside_the_opening_names_no_parties() -> None:
    document = ("I understand that my employment with USANA creates a relationship of trust and "
                "confidence between me and USANA with respect to the Confidential Information.")
    assert opening_parties(document) == ()
    assert check_parties({"parties": ["USANA HEALTH SCIENCES, INC."]}, document) == []


def test_only_party_fields_are_read() -> None:
    assert check_parties({"signers": ["Lydall, Inc."]}, LYDALL) == []
