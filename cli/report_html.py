"""`tierline report --out`: one self-contained HTML page of a batch, pictures first.

The page holds its styles and its charts (inline SVG, see cli.svg); it loads nothing, so it can
be mailed, archived or opened offline.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from html import escape

from tierline.cli.svg import PALETTE, Bar, Segment, bar_chart, legend
from tierline.reports.page import JobLine, ReportData

TIER_COLORS = {1: PALETTE[2], 2: PALETTE[0], 3: PALETTE[5]}
ESCALATED = PALETTE[1]
REVIEW = PALETTE[3]

STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;
margin:0;background:#f4f5f7}
main{max-width:960px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:0 0 4px}
.sub{color:#5b6475;margin:0 0 16px}
section{background:#fff;border-radius:8px;padding:16px 20px;margin:0 0 16px;
box-shadow:0 1px 2px rgba(0,0,0,.08)}
.kpis{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.kpi{background:#fff;border-radius:8px;padding:12px 14px;min-width:110px;flex:1;
box-shadow:0 1px 2px rgba(0,0,0,.08)}
.kpi b{display:block;font-size:22px}.kpi span{color:#5b6475;font-size:13px}
.chart{max-width:100%;height:auto}.chart .label{font-size:13px;fill:#1d2330}
.chart .value{font-size:12px;fill:#5b6475}
.legend{display:flex;gap:16px;font-size:13px;color:#5b6475;margin:4px 0 0}
.legend i{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:5px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #e6e8ec}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
code{font-size:12px}.empty{color:#5b6475;font-style:italic}
"""


def _usd(value: Decimal | float) -> str:
    amount = float(value)
    return f"${amount:,.4f}" if amount < 100 else f"${amount:,.2f}"


def _ms(value: float) -> str:
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.0f} ms"


def _kpis(data: ReportData) -> str:
    finished = sum(data.by_status[s] for s in ("done", "needs_review", "failed"))
    saving = data.saving
    items = [
        (f"{data.jobs:,}", f"jobs, {finished:,} finished"),
        (f"{data.by_status['done']:,}", "done (validated)"),
        (f"{data.by_status['needs_review']:,}", "need review"),
        (f"{data.by_status['failed']:,}", "failed"),
        (_usd(data.total_cost_usd), "spent"),
        ("-" if saving is None else f"{saving:.0%}",
         f"saved against all tier {data.top_tier}"),
    ]
    return '<div class="kpis">' + "".join(
        f'<div class="kpi"><b>{escape(v)}</b><span>{escape(k)}</span></div>'
        for v, k in items) + "</div>"


def _funnel(data: ReportData) -> str:
    bars = []
    for stage in data.funnel:
        direct = stage.jobs - stage.escalated_in
        if stage.label == "review":
            segments = [Segment(stage.jobs, REVIEW, f"{stage.jobs} job(s) failed validation "
                                                     "on their top tier")]
        else:
            tier = int(stage.label.split()[-1])
            segments = [Segment(direct, TIER_COLORS.get(tier, PALETTE[4]),
                                f"{direct} routed to {stage.label} directly"),
                        Segment(stage.escalated_in, ESCALATED,
                                f"{stage.escalated_in} escalated from a lower tier")]
        bars.append(Bar(stage.label, segments,
                        f"{stage.jobs:,} job" + ("" if stage.jobs == 1 else "s")))
    chart = bar_chart(bars, lambda v: f"{v:,.0f}", title="escalation funnel")
    return (f"<section><h2>Escalation funnel</h2><p class='sub'>Jobs that got an answer from "
            f"each tier, and how many of them came up from a tier below; review is where the "
            f"top tier allowed for a job failed validation.</p>{chart}"
            + legend([*((f"routed to tier {t}", c) for t, c in TIER_COLORS.items()
                        if t <= data.top_tier),
                      ("escalated from below", ESCALATED), ("to review", REVIEW)])
            + "</section>")


def _costs(data: ReportData) -> str:
    bars = [Bar(f"tier {t}", [Segment(float(c), TIER_COLORS.get(t, PALETTE[4]),
                                      f"tier {t}: {_usd(c)}")], _usd(c))
            for t, c in data.cost_by_tier.items()]
    bars.append(Bar("this batch", [Segment(float(c), TIER_COLORS.get(t, PALETTE[4]),
                                           f"tier {t}: {_usd(c)}")
                                   for t, c in data.cost_by_tier.items()],
                    _usd(data.total_cost_usd)))
    bars.append(Bar(f"all at tier {data.top_tier}",
                    [Segment(float(data.all_top_tier_cost_usd), "#9aa3b2",
                             f"every job's first answer priced at {data.top_model}")],
                    _usd(data.all_top_tier_cost_usd)))
    saving = data.saving
    said = "" if saving is None else f" Routing saved {saving:.0%}."
    return (f"<section><h2>Cost by tier, and against all tier {data.top_tier}</h2>"
            f"<p class='sub'>Every provider call of the ledger, by the tier it ran on; the last "
            f"bar prices each job's first answer at {escape(data.top_model)}.{said}</p>"
            f"{bar_chart(bars, lambda v: _usd(v), title='cost by tier')}</section>")


def _failures(data: ReportData) -> str:
    if not data.failures_by_check:
        return ("<section><h2>Validation failures by check</h2><p class='empty'>No output "
                "failed a strict check.</p></section>")
    tiers = sorted({t for counts in data.failures_by_check.values() for t in counts})
    bars = [Bar(check, [Segment(counts[t], TIER_COLORS.get(t, PALETTE[4]),
                                f"{counts[t]} on tier {t}") for t in tiers])
            for check, counts in data.failures_by_check.items()]
    return ("<section><h2>Validation failures by check</h2><p class='sub'>Outputs a strict "
            "check rejected (each sent its job a tier up, or to review), by the tier that "
            f"wrote them.</p>{bar_chart(bars, lambda v: f'{v:,.0f}', title='failures')}"
            + legend([(f"tier {t}", TIER_COLORS.get(t, PALETTE[4])) for t in tiers])
            + "</section>")


def _disagreements(data: ReportData) -> str:
    head = "<section><h2>Disagreement rate of the checks</h2>"
    if not data.disagreements:
        return (head + "<p class='empty'>No disagreement records yet. A disagreement is a "
                "check that fires again on the same answer from a higher tier; this section "
                "fills in from the findings of the ledger (<code>attempts.findings</code>) "
                "once the validate step records them. Until then, the rejections per check "
                "are above.</p></section>")
    rows = "".join(
        f"<tr><td>{escape(check)}</td><td class='n'>{d:,}</td><td class='n'>{f:,}</td>"
        f"<td class='n'>{(d / f if f else 0):.1%}</td></tr>"
        for check, (d, f) in data.disagreements.items())
    return (head + "<p class='sub'>Rejections where a higher tier gave the same answer and "
            "the check fired again: how often each check is likely the one that is wrong."
            "</p><table><tr><th>check</th><th class='n'>disagreements</th>"
            f"<th class='n'>rejections</th><th class='n'>rate</th></tr>{rows}</table>"
            "</section>")


def _latency(data: ReportData) -> str:
    if not data.latency:
        return ""
    bars = [Bar(f"tier {t.tier}", [Segment(t.p50_ms, TIER_COLORS.get(t.tier, PALETTE[4]),
                                           f"median {_ms(t.p50_ms)}"),
                                   Segment(t.p90_ms - t.p50_ms, "#c9ced8",
                                           f"90th percentile {_ms(t.p90_ms)}")],
                f"p50 {_ms(t.p50_ms)}, p90 {_ms(t.p90_ms)}") for t in data.latency]
    calls = ", ".join(f"tier {t.tier}: {t.calls:,} calls, slowest {_ms(t.max_ms)}"
                      for t in data.latency)
    return ("<section><h2>Latency per tier</h2><p class='sub'>Answered provider calls: the "
            f"median (coloured) and the 90th percentile (grey). {escape(calls)}.</p>"
            f"{bar_chart(bars, _ms, title='latency per tier')}</section>")


def _job_table(title: str, explain: str, lines: list[JobLine]) -> str:
    if not lines:
        return f"<section><h2>{title}</h2><p class='empty'>No finished jobs.</p></section>"
    rows = "".join(
        f"<tr><td><code>{escape(j.job_id)}</code></td><td>{escape(j.status)}</td>"
        f"<td>{escape(j.tiers)}</td><td class='n'>"
        f"{'-' if j.seconds is None else f'{j.seconds:,.1f} s'}</td>"
        f"<td class='n'>{_ms(j.calls_ms)}</td><td class='n'>{_usd(j.cost_usd)}</td></tr>"
        for j in lines)
    return (f"<section><h2>{title}</h2><p class='sub'>{explain}</p><table><tr><th>job</th>"
            "<th>status</th><th>tiers</th><th class='n'>submit to end</th>"
            f"<th class='n'>in calls</th><th class='n'>cost</th></tr>{rows}</table></section>")


def render(data: ReportData, generated_at: datetime | None = None) -> str:
    """The whole page, as one string of HTML."""
    when = (generated_at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    body = "".join([
        f"<h1>tierline report: {escape(data.scope)}</h1>",
        f"<p class='sub'>generated {when}</p>",
        _kpis(data), _funnel(data), _costs(data), _failures(data), _disagreements(data),
        _latency(data),
        _job_table("Slowest jobs", "From submission to the end state.", data.slowest),
        _job_table("Most expensive jobs", "Every call of the job, escalations and judges "
                   "included.", data.most_expensive),
    ])
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>tierline report: {escape(data.scope)}</title><style>{STYLE}</style>"
            f"</head><body><main>{body}</main></body></html>")
