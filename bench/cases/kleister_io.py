"""Agreements in either Kleister layout, as rows of the JSONL one.

- JSONL (`../shared/data/kleister-nda/train.jsonl`): `id`, `keys`, `document`, `expected`.
- The dataset's own split folder (`dev-0/`, `test-A/`, `train/`): `in.tsv` or `in.tsv.xz` (file
  name, keys, then four text layers with `\\n`, `\\t`, `\\f` and `\\\\` escaped; the last is the
  best of pdf2djvu and tesseract) and `expected.tsv` (`key=value` pairs, spaces and colons
  written as underscores, a key repeated for each party).
"""

from __future__ import annotations

import json
import lzma
import re
from pathlib import Path
from typing import Any

_ESCAPES = {"n": "\n", "t": "\t", "f": "\f", "\\": "\\"}
FIELDS = ("effective_date", "jurisdiction", "party", "term")


def _unescape(text: str) -> str:
    return re.sub(r"\\([ntf\\])", lambda m: _ESCAPES[m.group(1)], text)


def _expected(line: str) -> dict[str, Any]:
    expected: dict[str, Any] = {"effective_date": None, "jurisdiction": None, "party": [],
                                "term": None}
    for pair in line.split():
        key, _, value = pair.partition("=")
        value = value.replace("_", " ")
        if key == "party":
            expected["party"].append(value)
        elif key in expected:
            expected[key] = value
    return expected


def _read_split(folder: Path) -> list[dict[str, Any]]:
    source = folder / "in.tsv"
    if source.exists():
        raw = source.read_text(encoding="utf-8")
    else:
        with lzma.open(folder / "in.tsv.xz", "rt", encoding="utf-8") as fh:
            raw = fh.read()
    expected_path = folder / "expected.tsv"
    if not expected_path.exists():
        raise FileNotFoundError(f"{expected_path}: the answers are needed to build cases")
    answers = expected_path.read_text(encoding="utf-8").splitlines()
    rows = []
    for line, answer in zip(raw.splitlines(), answers, strict=True):
        columns = line.split("\t")
        rows.append({"id": columns[0].removesuffix(".pdf"), "keys": columns[1].split(),
                     "document": _unescape(columns[-1]), "expected": _expected(answer)})
    return rows


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Rows of the JSONL layout from a JSONL file or a split folder of the original layout."""
    if path.is_dir():
        return _read_split(path)
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]
