"""What a check finds, and what the validate step concludes from all findings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Finding:
    check: str
    passed: bool
    message: str = ""
    # A failed strict finding rejects the output; a lenient one is only recorded.
    strict: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {"check": self.check, "passed": self.passed, "message": self.message,
                "strict": self.strict}


@dataclass(frozen=True)
class Verdict:
    passed: bool
    findings: tuple[Finding, ...]
    # The output as it will be stored: parsed JSON for structured tasks, else the text.
    output: Any

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if not f.passed and f.strict]

    @property
    def reasons(self) -> list[str]:
        return [f"{f.check}: {f.message}" for f in self.failures]
