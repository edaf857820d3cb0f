"""Queue and task names, defined once for the tasks, the workers and the docs."""

from __future__ import annotations

from tierline.config.tiers import TIER_NUMBERS

ROUTE = "route"
VALIDATE = "validate"
TIER_QUEUES = {tier: f"tier{tier}" for tier in TIER_NUMBERS}
# Shadow tests of candidate model versions: off the job's path, on their own workers.
SHADOW = "shadow"
ALL_QUEUES = (ROUTE, *TIER_QUEUES.values(), VALIDATE, SHADOW)

ROUTE_TASK = "tierline.route"
# One message per job and tier, run alone: what fleets published before every tier was drained
# in flushes; still run, so that messages queued by them are not lost.
INFER_TASK = "tierline.infer"
# Every tier's queue is drained in flushes by this task type (see workers.tier1).
INFER_BATCH_TASK = "tierline.infer_batch"
VALIDATE_TASK = "tierline.validate"
SHADOW_TASK = "tierline.shadow"


def tier_queue(tier: int) -> str:
    return TIER_QUEUES[tier]
