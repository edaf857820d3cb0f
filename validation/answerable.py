"""A "the document does not say" answer is only right when the document indeed lacks the kind of
value the question asks for (a date, an amount, an id, a phone number, an email address)."""

from __future__ import annotations

import re

from tierline.validation.base import Finding
from tierline.validation.dates import document_dates

NOT_STATED = "not_stated"

_AMOUNT = re.compile(r"(?<![\d.,])\d[\d,.]*[.,]\d{2}(?!\d)|[$€£]\s?\d")
_ID = re.compile(r"(?<![\w/-])(?=[\w/-]*\d)(?=[\w/-]*[A-Za-z])\w[\w/-]*\w(?![\w/-])")
_PHONE = re.compile(r"(?:\+\d{1,3}[ .-]?)?\(?\b\d{3}\)?[ .-]\d{3}[ .-]\d{4}\b|\+\d{2}[\d ]{8,}\d")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")

# What the question asks for, most specific first: (question pattern, kind, finder).
_KINDS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\b(?:phone|telephone|mobile)\b", re.I), "phone number"),
    (re.compile(r"\be-?mail\b", re.I), "email address"),
    (re.compile(r"\b(?:how much|amount|price|cost|paid|pay|fee|total)\b", re.I), "amount"),
    (re.compile(r"\b(?:date|when|what day)\b", re.I), "date"),
    (re.compile(r"\b(?:number|id|reference|code)\b", re.I), "id"),
]


def asked_kind(question: str) -> str | None:
    return next((kind for pattern, kind in _KINDS if pattern.search(question)), None)


def _has(kind: str, document: str) -> bool:
    if kind == "date":
        return bool(document_dates(document))
    finder = {"phone number": _PHONE, "email address": _EMAIL, "amount": _AMOUNT, "id": _ID}[kind]
    return finder.search(document) is not None


def check_not_stated(question: str, document: str) -> Finding:
    """For an answer that says the document does not give the answer: is that plausible?"""
    kind = asked_kind(question)
    if kind is not None and _has(kind, document):
        return Finding(NOT_STATED, False, f"says the document does not say, but it gives a {kind}")
    return Finding(NOT_STATED, True, "the document gives nothing of the kind asked for")
