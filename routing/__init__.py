"""Which tier a job goes to: features, classifier, policy. Pure logic: no Celery, Redis or SQL.

- `routing.base`: `Decision` and the `Router` protocol (`decide(job, tiers) -> Decision`).
- `routing.factory.build_router(settings, tiers, complete=None)`: the router the settings name.
- `routing.router.ClassifierRouter`, `routing.llm.LLMRouter`, `routing.rules.RulesRouter`.
- `routing.features`, `routing.classifier` (the model), `routing.policy` (bar, band, business
  rules, windows, sensitivity), `routing.training`, `routing.metrics`, `routing.evaluation`.
"""
