"""JSON as a job file may hold it, and nothing more: what `json.loads` lets through but a job
must not carry is refused here, with the reason.

- NaN and Infinity (not JSON; PostgreSQL's JSON types refuse them);
- an object with the same key twice (which one would count is a guess);
- nesting deeper than `MAX_DEPTH` (a hostile line 10,000 levels deep would otherwise blow the
  stack of every step that walks it);
- NUL characters, in keys or strings (PostgreSQL text cannot store them).
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 64


class StrictJSONError(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise StrictJSONError(f"{name} is not a JSON number")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise StrictJSONError(f"key {key!r} appears twice in one object")
            seen.add(key)
    return result


def check_tree(value: Any, max_depth: int = MAX_DEPTH) -> None:
    """Raise StrictJSONError for nesting deeper than `max_depth` or a NUL anywhere. Iterative,
    so it cannot itself run out of stack."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if "\x00" in node:
                raise StrictJSONError("contains a NUL character")
            continue
        if isinstance(node, dict):
            if any("\x00" in key for key in node):
                raise StrictJSONError("contains a NUL character in a key")
            items: Any = node.values()
        elif isinstance(node, list):
            items = node
        else:
            continue
        if depth > max_depth:
            raise StrictJSONError(f"nested deeper than {max_depth} levels")
        stack.extend((item, depth + 1) for item in items)


def loads(text: str, max_depth: int = MAX_DEPTH) -> Any:
    """Parse one JSON document strictly; StrictJSONError says what is wrong, and
    json.JSONDecodeError (a ValueError too) where the syntax is."""
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_refuse_constant)
    except RecursionError:
        raise StrictJSONError(f"nested deeper than {max_depth} levels") from None
    # The parser refuses raw control characters in strings, so a NUL can only come escaped; and
    # a document with fewer brackets than the depth limit cannot be nested deeper. Only the rare
    # document that might break a rule is walked.
    if "\\u0000" in text or text.count("[") + text.count("{") > max_depth:
        check_tree(value, max_depth)
    return value
