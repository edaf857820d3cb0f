"""Parse a model's JSON, repairing only what is trivially broken, and say what was repaired.

Cheap models wrap JSON in code fences or prose, leave trailing commas, use Python's single quotes
or drop the last closing brace. Those are formatting slips, not wrong answers, so they are mended
and recorded; anything more broken is left to fail the schema check.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_FENCE = re.compile(r"```[a-zA-Z0-9_+-]*[ \t]*\n?(.*?)(?:```|$)", re.DOTALL)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_PY_LITERALS = {"True": "true", "False": "false", "None": "null"}


@dataclass(frozen=True)
class Parsed:
    ok: bool
    value: Any = None
    repairs: tuple[str, ...] = ()
    error: str = ""
    text: str = field(default="", repr=False)


def _loads(text: str) -> tuple[bool, Any, str]:
    try:
        return True, json.loads(text), ""
    except (ValueError, RecursionError) as exc:
        return False, None, str(exc)[:200]


def _strip_fences(text: str) -> str:
    match = _FENCE.search(text)
    return match.group(1).strip() if match else text


def _slice_object(text: str) -> str:
    starts = [i for i in (text.find("{"), text.find("[")) if i >= 0]
    if not starts:
        return text
    start = min(starts)
    closer = "}" if text[start] == "{" else "]"
    end = text.rfind(closer)
    return text[start:end + 1] if end > start else text[start:]


def _drop_trailing_commas(text: str) -> str:
    return _TRAILING_COMMA.sub(r"\1", text)


def _single_to_double_quotes(text: str) -> str:
    """Rewrite '...' strings as "..." and Python literals as JSON ones, outside double quotes."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "\"'":
            j = i + 1
            body: list[str] = []
            while j < n and text[j] != c:
                if text[j] == "\\" and j + 1 < n:
                    body.append(text[j:j + 2])
                    j += 2
                    continue
                body.append('\\"' if text[j] == '"' and c == "'" else text[j])
                j += 1
            if j >= n:  # an unterminated string is truncation, not a quoting slip
                return text
            inner = "".join(body)
            if c == "'":
                inner = inner.replace("\\'", "'")
            out.append('"' + inner + '"')
            i = j + 1
            continue
        if c.isalpha():
            j = i
            while j < n and (text[j].isalnum() or text[j] == "_"):
                j += 1
            word = text[i:j]
            out.append(_PY_LITERALS.get(word, word))
            i = j
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _close_one(text: str) -> str:
    """Append the one closing bracket that is missing, if exactly one is."""
    stack: list[str] = []
    in_string = escaped = False
    for c in text:
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "{[":
            stack.append("}" if c == "{" else "]")
        elif c in "}]" and (not stack or stack.pop() != c):
            return text
    if in_string or len(stack) != 1:
        return text
    return text.rstrip().rstrip(",") + stack[0]


_REPAIRS: list[tuple[str, Callable[[str], str]]] = [
    ("code fence removed", _strip_fences),
    ("prose around the JSON removed", _slice_object),
    ("trailing commas removed", _drop_trailing_commas),
    ("single quotes replaced", _single_to_double_quotes),
    ("missing closing bracket added", _close_one),
]


def parse_json(text: str) -> Parsed:
    """The JSON value in `text`, with the repairs it needed; never raises."""
    if not isinstance(text, str):
        return Parsed(ok=False, error="output is not text")
    current = text.strip()
    ok, value, error = _loads(current)
    if ok:
        return Parsed(ok=True, value=value, text=current)
    first_error = error
    repairs: list[str] = []
    for name, repair in _REPAIRS:
        try:
            mended = repair(current)
        except RecursionError:  # pragma: no cover - regexes are not recursive
            continue
        if mended == current:
            continue
        current = mended
        repairs.append(name)
        ok, value, _ = _loads(current)
        if ok:
            return Parsed(ok=True, value=value, repairs=tuple(repairs), text=current)
    return Parsed(ok=False, repairs=tuple(repairs), error=first_error, text=current)
