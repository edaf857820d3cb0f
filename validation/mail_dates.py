"""Dates of the mail itself given for a date the message's body states.

An e-mail's header ("Date: Fri, 24 Apr 2026", "Sent: ...") and a quoted message's attribution
("On 23 Apr 2026, Oskar <support@...> wrote:") date the messages, not what they are about. A
field such as the order date whose value the document holds only on such lines, while the body
dates something else, has been read from the wrong line. Strict only where that is decisive:
the field does not ask for the message's own date, and the body says nothing relative ("today",
"yesterday") that could make the sending day the right answer.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from tierline.validation.base import Finding
from tierline.validation.dates import date_readings, date_spans

MAIL_DATES = "mail_dates"

_DATE_LINE = re.compile(
    r"^[ \t>]*(?:date|sent|datum|gesendet|envoyé|envoye|fecha|enviado)[ \t]*:.*$",
    re.IGNORECASE | re.MULTILINE)
_ATTRIBUTION = re.compile(
    r"^[ \t>]*(?:on|am|le|el)\b[^\n]{0,160}\b(?:wrote|schrieb|a écrit|escribió)[ \t]*:[ \t]*$",
    re.IGNORECASE | re.MULTILINE)
# A "Date:" line is a message's only among the other header lines; alone it may be where an
# agreement's signature block dates the agreement ("Date: 8/11/08").
_HEADER_FIELD = re.compile(r"^[ \t>]*(?:from|to|subject|cc|von|an|betreff|de|à|objet|para"
                           r"|asunto)[ \t]*:", re.IGNORECASE)
_HEADER_REACH = 3  # lines either side
# Field names that ask for a message's own date: its header is then the right place.
_MAIL_FIELD = re.compile(r"sent|mail|message|letter|reply|received|written|wrote|header|posted",
                         re.IGNORECASE)
_RELATIVE_DAY = re.compile(r"\b(?:today|yesterday|this morning|tonight|heute|gestern"
                           r"|aujourd'hui|aujourd’hui|hier|hoy|ayer)\b", re.IGNORECASE)


def _among_headers(document: str, start: int, end: int) -> bool:
    before = document[:start].split("\n")[-_HEADER_REACH - 1:-1]
    after = document[end:].split("\n")[1:_HEADER_REACH + 1]
    return any(_HEADER_FIELD.match(line) for line in before + after)


@lru_cache(maxsize=256)  # a document's, read again for every answer to it
def _header_spans(document: str) -> tuple[tuple[int, int], ...]:
    spans = [m.span() for m in _DATE_LINE.finditer(document)
             if _among_headers(document, *m.span())]
    return tuple(spans + [m.span() for m in _ATTRIBUTION.finditer(document)])


def check_mail_dates(fields: list[tuple[str, Any]], document: str) -> list[Finding]:
    """A finding per date field whose value is only a mail header's or attribution's date."""
    headers = _header_spans(document)
    if not headers:
        return []
    spans = date_spans(document)

    def in_header(at: int) -> bool:
        return any(start <= at < end for start, end in headers)

    body_dates = [dates for at, dates in spans if not in_header(at)]
    findings = []
    for name, value in fields:
        if not isinstance(value, str) or _MAIL_FIELD.search(name):
            continue
        wanted = date_readings(value)
        if not wanted:
            continue
        where = [in_header(at) for at, dates in spans if dates & wanted]
        others = [dates for dates in body_dates if not dates & wanted]
        if not where or not all(where) or not others:
            continue
        strict = _RELATIVE_DAY.search(document) is None
        findings.append(Finding(
            MAIL_DATES, False,
            f"{name}: {value!r} is written only as a message's own date (a header or a quoted "
            f"message's 'On ... wrote:' line), while the body states {len(others)} other "
            f"date(s)", strict=strict))
    return findings
