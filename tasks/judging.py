"""The optional judge: a tier-1 model asked whether an output is supported by its input.

Sampled per feature (Settings.judge_fraction / judge_fraction_by_feature), only on outputs
below the top tier, through the same fallback chain a tier-1 attempt would use (so a
sensitive job's document reaches only allowed hosts). Every judge call is returned for the ledger.
"""

from __future__ import annotations

from tierline.config.tiers import TIER_COUNT
from tierline.jobs.models import JobSpec, Message
from tierline.prompts.completion import CompletionRequest
from tierline.tasks.calls import CallRecord, call_chain
from tierline.tasks.runtime import Runtime
from tierline.validation.judge import Ask

JUDGE_MAX_TOKENS = 200


def judge_for(
    rt: Runtime, job: JobSpec, tier: int, calls: list[CallRecord]
) -> tuple[Ask | None, float]:
    """The judge to hand the validator for this output, and its sampling fraction."""
    fraction = rt.settings.judge_fraction_for(job.feature)
    chain = rt.chain(1, job) if fraction > 0 and tier < TIER_COUNT else []
    if not chain:
        return None, 0.0

    def ask(system: str, user: str) -> str:
        request = CompletionRequest(system=system, messages=[Message(role="user", content=user)],
                                    max_tokens=JUDGE_MAX_TOKENS)
        records = call_chain(chain, request, rt.breakers, rt.limiter)
        calls.extend(records)
        last = records[-1]
        if last.completion is None:
            # The validator records an unreachable judge as a lenient finding.
            raise last.error or RuntimeError("the judge gave no answer")
        return last.completion.text

    return ask, fraction
