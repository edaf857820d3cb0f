"""Output that fits: tables sized for an 80-column terminal, JSON documents, decimal money.

Tables never break a word: a column either fits its longest word or truncates its values
with an ellipsis, and headers are chosen short enough to fit on their own.
"""

from __future__ import annotations

import json
import os
from decimal import Decimal
from typing import TYPE_CHECKING, Any

# rich is imported where a table is drawn: `--json` output never needs it (45 ms at start-up).
if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.table import Table

WIDTH = 80
TERMINAL_STATUSES = ("done", "needs_review", "failed")
STATUSES = ("queued", "routed", "running", "validating", *TERMINAL_STATUSES)


def console(stderr: bool = False) -> Console:
    """A console as wide as the terminal (or `$COLUMNS`); 80 columns when output goes to a pipe
    or a file."""
    from rich.console import Console

    out = Console(stderr=stderr)
    if out.is_terminal or os.environ.get("COLUMNS"):
        return out
    return Console(stderr=stderr, width=WIDTH)


def table(title: str | None = None, caption: str | None = None) -> Table:
    from rich import box
    from rich.table import Table

    return Table(title=title, caption=caption, box=box.SIMPLE_HEAD, pad_edge=False,
                 title_justify="left", caption_justify="left", highlight=False)


def decimal_text(value: Any, places: int | None = None) -> str:
    """A number in plain decimal notation (never `5.16e-06`); None as an empty string."""
    if value is None:
        return ""
    number = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    if places is not None:
        number = round(number, places)
    text = format(number, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def usd(value: Any) -> str:
    return f"${Decimal(repr(float(value))) if not isinstance(value, Decimal) else value:,.4f}"


def json_document(document: dict[str, Any]) -> str:
    """One JSON document: what `--json` prints, whole, so `jq` and `json.tool` read it."""
    return json.dumps(document, default=_plain, indent=None)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    return str(value)


def status_tables(status: dict[str, Any]) -> list[RenderableType]:
    """A batch's status (`BatchStatus.as_dict()`): a heading, jobs per status beside jobs per
    tier, and a line with the cost so far."""
    from rich.table import Table
    from rich.text import Text

    jobs = status["jobs"] or 1
    heading = f"batch {status['batch_id']}" if status.get("batch_id") else "every batch"
    counts = table()
    counts.add_column("status", no_wrap=True)
    counts.add_column("jobs", justify="right", no_wrap=True)
    counts.add_column("share", justify="right", no_wrap=True)
    for name in STATUSES:
        n = status.get(name, 0)
        counts.add_row(name, f"{n:,}", f"{n / jobs:.0%}")
    counts.add_row("total", f"{status['jobs']:,}", "", style="bold")
    tiers = table()
    tiers.add_column("tier", no_wrap=True)
    tiers.add_column("finished here", justify="right", no_wrap=True)
    tiers.add_column("in flight", justify="right", no_wrap=True)
    for tier in sorted(set(status["per_tier"]) | set(status["active_per_tier"])):
        tiers.add_row(tier, f"{status['per_tier'].get(tier, 0):,}",
                      f"{status['active_per_tier'].get(tier, 0):,}")
    side_by_side = Table.grid(padding=(0, 4))
    side_by_side.add_row(counts, tiers)
    summary = (f"cost so far {usd(status['cost_usd'])}; {status['escalations']:,} job(s) "
               f"escalated; {status['validation_failures']:,} output(s) failed validation")
    return [Text(heading, style="bold"), side_by_side, Text(summary)]
