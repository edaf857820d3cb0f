"""The label check: a classification answer is exactly one of the job's labels."""

from __future__ import annotations

from tierline.validation.base import Finding

LABEL = "label"
_WRAPPERS = " \t\r\n\"'`*_.!"


def normalize_label(text: str) -> str:
    """Case, surrounding whitespace, quotes, markdown emphasis and a final period removed."""
    return " ".join(text.strip(_WRAPPERS).split()).casefold()


def check_label(text: str, labels: list[str]) -> tuple[Finding, str | None]:
    """The finding, and the job's own spelling of the label when the answer is one of them."""
    if not labels:
        return Finding(LABEL, False, "the job has no labels to choose from"), None
    wanted = {normalize_label(label): label for label in labels}
    norm = normalize_label(text)
    label = wanted.get(norm)
    if label is None:
        shown = text.strip()[:60]
        return Finding(LABEL, False, f"{shown!r} is not one of {', '.join(labels)}"), None
    if text == label:
        return Finding(LABEL, True, f"label {label!r}"), label
    return Finding(LABEL, True, f"normalised {text.strip()[:60]!r} to {label!r}"), label
