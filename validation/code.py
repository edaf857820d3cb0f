"""The code check: one fenced code block, and Python that at least compiles."""

from __future__ import annotations

import re
import warnings

from tierline.validation.base import Finding

CODE = "code"
_FENCE = re.compile(r"```([A-Za-z0-9_+#-]*)[ \t]*\n(.*?)```", re.DOTALL)
_PYTHON = {"python", "py", "python3"}


def check_code(text: str) -> Finding:
    blocks = _FENCE.findall(text)
    if not blocks:
        return Finding(CODE, False, "no fenced code block")
    lang, body = blocks[0]
    if not body.strip():
        return Finding(CODE, False, "the code block is empty")
    if lang.lower() in _PYTHON:
        try:
            with warnings.catch_warnings():
                # Compiling warns about odd escapes in string literals; that is not an error.
                warnings.simplefilter("ignore")
                compile(body, "<answer>", "exec", dont_inherit=True)
        except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
            return Finding(CODE, False, f"python does not compile: {exc}"[:200])
    return Finding(CODE, True, f"{len(blocks)} code block(s)" + (f" ({lang})" if lang else ""))
