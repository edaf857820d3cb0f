"""E-mails: the service desk is not the customer, and a message's own date is not the order's."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tierline.jobs.models import JobSpec
from tierline.validation.mail_dates import MAIL_DATES, check_mail_dates
from tierline.validation.roles import ROLES, check_roles
from tierline.validation.runner import validate

REPLY = """From: Fatima Sato <fatima@mailbox.example>
To: Moreau Landscaping KG Support <help@moreau.example>
Date: Sun, 18 Oct 2026 14:45:20 +0000
Subject: Re: order MO-95666 - set of ceramic bowls arrived damaged

Hi Amara,

thanks for getting back to me. As I wrote, I ordered the set of ceramic bowls on 12.10.2026 \
(order MO-95666) and paid 206,20 €, of which 5,90 € was shipping.
Could you send me a replacement?

Best regards,
Fatima Sato

> On 17 Oct 2026, Amara Conti <support@moreau.example> wrote:
> Dear customer, we are sorry to hear about the problem. Could you tell us
> your order number and what you would like us to do?
> Amara Conti, Customer Care, Moreau Landscaping KG
"""

# The desk writes first, to the customer: the customer's name is the addressee's.
FROM_DESK = """From: Kundenservice Halvorsen Tools <kundenservice@halvorsen.example>
To: Ngozi Berg <ngozi@mailbox.example>
Date: Thu, 19 Nov 2026 17:57:55 +0200
Subject: Ihre Bestellung HA-86857

Sehr geehrte Frau Berg,

Ihre Bestellung vom 7. November 2026 ist unterwegs.

Yuki Carvalho - Kundenservice
"""

# A real agreement's signature block dates it on a "Date:" line of its own (EDGAR NDA).
SIGNED = """IN WITNESS WHEREOF, the parties have executed this Agreement as of the day and year \
set forth below.
[Signature page follows.]
Date: July 24, 2014
ACTUATE CORPORATION
By: /s/ Thomas McKeever
Name: Thomas McKeever
Title: SVP, GC, Corp. Dev. & Sec.
The standstill ends on May 31, 2015.
"""

SCHEMA = {"type": "object", "properties": {
    "customer_name": {"type": "string"}, "order_date": {"type": "string"},
    "amount_paid": {"type": ["number", "string"]}}}


def _verdict(document: str, output: dict[str, Any]) -> Any:
    job = JobSpec.model_validate({"task": "extract", "document": document, "schema": SCHEMA})
    return validate(job, json.dumps(output, ensure_ascii=False))


@pytest.mark.parametrize("name", ["Amara Conti", "Moreau Landscaping KG"])
def test_the_service_desk_given_as_the_customer_fails(name: str) -> None:
    finding = check_roles({"customer_name": name}, REPLY)
    assert finding is not None and not finding.passed and finding.strict
    assert "service desk" in finding.message


@pytest.mark.parametrize("document, name", [(REPLY, "Fatima Sato"), (FROM_DESK, "Ngozi Berg")])
def test_the_customer_who_writes_or_is_written_to_passes(document: str, name: str) -> None:
    finding = check_roles({"customer_name": name}, document)
    assert finding is not None and finding.passed


def test_the_desk_signature_after_a_dash_counts_too() -> None:
    finding = check_roles({"customer_name": "Yuki Carvalho"}, FROM_DESK)
    assert finding is not None and not finding.passed


def test_a_support_agent_field_is_not_a_customer_field() -> None:
    assert check_roles({"agent": "Amara Conti"}, REPLY) is None


@pytest.mark.parametrize("date", ["18.10.2026", "17 Oct 2026", "2026-10-17"])
def test_a_header_or_quoted_date_given_as_the_order_date_fails(date: str) -> None:
    findings = check_mail_dates([("order_date", date)], REPLY)
    assert [(f.check, f.passed, f.strict) for f in findings] == [(MAIL_DATES, False, True)]


@pytest.mark.parametrize("field, date", [("order_date", "12.10.2026"),
                                         ("order_date", "2026-10-12"),
                                         ("sent_date", "18.10.2026"),
                                         ("email_date", "Sun, 18 Oct 2026")])
def test_the_body_date_or_a_field_asking_for_the_mail_date_passes(field: str, date: str) -> None:
    assert check_mail_dates([(field, date)], REPLY) == []


def test_a_relative_day_in_the_body_keeps_the_finding_recorded_only() -> None:
    document = REPLY.replace("As I wrote, I ordered", "I ordered it today; the old one I ordered")
    findings = check_mail_dates([("order_date", "18.10.2026")], document)
    assert [(f.passed, f.strict) for f in findings] == [(False, False)]


def test_a_signature_block_date_line_is_not_a_mail_header() -> None:
    assert check_mail_dates([("effective_date", "July 24, 2014")], SIGNED) == []


def test_the_validate_step_accepts_the_right_answer_and_rejects_both_mistakes() -> None:
    right = {"customer_name": "Fatima Sato", "order_date": "12.10.2026", "amount_paid": "206,20"}
    assert _verdict(REPLY, right).passed
    agent = _verdict(REPLY, right | {"customer_name": "Amara Conti"})
    assert not agent.passed and any(f.check == ROLES for f in agent.failures)
    header = _verdict(REPLY, right | {"order_date": "18.10.2026"})
    assert not header.passed and any(f.check == MAIL_DATES for f in header.failures)
