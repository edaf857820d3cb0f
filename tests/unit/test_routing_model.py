"""Features, the classifier, train -> save -> load, the shipped model and the factory."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from tierline.config.settings import Settings
from tierline.config.tiers import load_tiers
from tierline.jobs.models import JobContext, JobSpec, Message, TaskType
from tierline.routing.classifier import (
    Example,
    ModelFileError,
    RouterModel,
    fill_tiers,
    fit,
    shrink_to_prior,
    with_residual,
)
from tierline.routing.factory import build_router
from tierline.routing.features import extract, schema_size
from tierline.routing.replay import (
    ledger_examples,
    parse_row,
    read_replay,
    row_example,
    row_job,
)
from tierline.routing.router import ClassifierRouter, load_model, model_path
from tierline.routing.rules import RulesRouter
from tierline.routing.tokens import count_tokens
from tierline.routing.training import cross_validated_scores, train
from tierline.validation.math_exact import finding_kinds

SCHEMA = {"type": "object", "properties": {
    "total": {"type": "number"},
    "lines": {"type": "array", "items": {"type": "object", "properties": {"sku": {}, "qty": {}}}}}}


def _replay_file(tmp_path: Path) -> Path:
    rows = []
    for i in range(40):
        hard = i % 2 == 0
        rows.append({
            "id": f"r{i}", "dataset": "mmlu", "subject": "physics" if hard else "marketing",
            "prompt": (f"A ball of mass {i} kg falls; find its momentum." if hard
                       else f"Which slogan sells product {i} best?"),
            "weak_correct": not hard, "strong_correct": True,
        })
    path = tmp_path / "replay.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_features_count_what_the_issue_names() -> None:
    job = JobSpec(task=TaskType.EXTRACT, document="Invoice: total $1,200 due under the contract.",
                  schema=SCHEMA, messages=[Message(role="user", content="and the lines?")],
                  context=JobContext(role="CFO"))
    features = extract(job)
    assert features.task == "extract"
    assert features.schema_size == 4
    assert features.turns == 1
    assert {"financial", "legal"} <= features.signals
    assert features.role == "cfo"
    assert features.input_tokens == count_tokens(job.input_text())
    assert features.total_tokens > features.input_tokens
    assert "__task_extract" in features.terms


def test_token_count_is_close_to_bpe_for_prose() -> None:
    text = "The quick brown fox jumps over the lazy dog. " * 100
    assert 900 <= count_tokens(text) <= 1200  # tiktoken says 1,000 for this text
    assert count_tokens("x" * 200_000) > 30_000  # sampled, still proportional


def test_schema_size_counts_nested_properties() -> None:
    assert schema_size(SCHEMA) == 4
    assert schema_size({"type": "string"}) == 0


def test_fill_tiers_interpolates_and_keeps_order() -> None:
    assert fill_tiers({1: 0.4, 3: 0.8}, 3) == pytest.approx({1: 0.4, 2: 0.6, 3: 0.8})
    assert fill_tiers({1: 0.9, 3: 0.7}, 3) == {1: 0.9, 2: 0.9, 3: 0.9}


def test_train_save_load_round_trip(tmp_path: Path) -> None:
    model = train([_replay_file(tmp_path)], version="router-test", dim=1 << 10)
    path = model.save(tmp_path / "router-test.json")
    loaded = RouterModel.load(path)
    assert loaded.version == "router-test"
    assert loaded.categories == ["marketing", "physics"]
    job = JobSpec(task=TaskType.ANSWER, document="A ball of mass 3 kg falls; its momentum?")
    features = extract(job)
    assert loaded.probabilities(features) == pytest.approx(model.probabilities(features))
    # The text alone says physics: the weak tier is unlikely to be enough there.
    probabilities = loaded.probabilities(features)
    assert probabilities[1] < 0.5 < probabilities[3]
    slogan = extract(JobSpec(task=TaskType.ANSWER, document="Which slogan sells shoes best?"))
    assert loaded.score(slogan) < loaded.score(features)


def test_known_query_type_is_used_directly(tmp_path: Path) -> None:
    model = train([_replay_file(tmp_path)], dim=1 << 10)
    typed = JobSpec(task=TaskType.ANSWER, document="Which slogan?", query_type="physics")
    assert model.category_posterior(extract(typed)).tolist() == [0.0, 1.0]


def test_ledger_outcomes_label_tiers_at_and_above_the_lowest_good_one() -> None:
    job = JobSpec(task=TaskType.ANSWER, document="hello")
    (example,) = ledger_examples([(job, 2)])
    assert example.good == {1: False, 2: True, 3: True}
    (none,) = ledger_examples([(job, None)])
    assert none.good == {1: False, 2: False, 3: False}


def test_train_from_ledger_learns_tier_two() -> None:
    easy = JobSpec(task=TaskType.CLASSIFY, document="spam or not: WIN A PRIZE", labels=["a"],
                   query_type="spam")
    hard = JobSpec(task=TaskType.SUMMARIZE, document="a long merger agreement",
                   query_type="merger")
    model = train(ledger=[(easy, 1)] * 30 + [(hard, 2)] * 30, version="ledger-test")
    assert model.metadata["trained_on"] == ["ledger:60"]
    p_hard = model.probabilities(extract(hard))
    assert p_hard[1] < 0.5 < p_hard[2]
    assert model.probabilities(extract(easy))[1] > 0.8


def test_load_rejects_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "other"}', encoding="utf-8")
    with pytest.raises(ModelFileError):
        RouterModel.load(bad)
    with pytest.raises(ModelFileError):
        RouterModel.load(tmp_path / "missing.json")


def test_fit_needs_examples() -> None:
    with pytest.raises(ValueError):
        fit([], version="x")


def test_replay_rows_become_jobs() -> None:
    row = parse_row({"id": "a", "dataset": "gsm8k", "prompt": "2+2?", "weak_correct": True,
                     "strong_correct": True, "weak_response": "2 + 2 = 4\n#### 4"})
    assert row_job(row).task is TaskType.MATH
    graded = parse_row({"prompt": "hi", "weak_score": 6, "strong_score": 9,
                        "turns": ["hi", "more"]})
    assert graded.graded
    assert row_example(graded).good == {1: False, 3: True}
    assert len(row_job(graded).messages) == 1


def test_cross_validation_never_scores_a_row_with_a_model_that_saw_it(tmp_path: Path) -> None:
    from tierline.routing.replay import read_replay

    rows = read_replay(_replay_file(tmp_path))
    scores = cross_validated_scores(rows, folds=5, dim=1 << 10)
    assert scores.shape == (40,)
    hard = np.array([r.subject == "physics" for r in rows])
    assert scores[hard].mean() > scores[~hard].mean()


def test_shipped_default_model_is_small_and_decides() -> None:
    path = model_path()
    assert path.stat().st_size < 5_000_000
    router = ClassifierRouter(load_model())
    tiers = load_tiers()
    job = JobSpec(task=TaskType.ANSWER, document="Find the degree of Q(sqrt(2)) over Q.\n"
                  "A. 0\nB. 2\nC. 4\nD. 6\nAnswer:", query_type="abstract_algebra")
    decision = router.decide(job, tiers)
    assert decision.router_version == "classifier:router-v1"
    assert set(decision.probabilities) == {1, 2, 3}
    assert decision.reasons


def test_factory_builds_each_strategy(tmp_path: Path) -> None:
    tiers = load_tiers()
    assert isinstance(build_router(Settings(router="rules"), tiers), RulesRouter)
    assert isinstance(build_router(Settings(router="classifier"), tiers), ClassifierRouter)
    with pytest.raises(ValueError, match="complete"):
        build_router(Settings(router="llm"), tiers)
    saved = train([_replay_file(tmp_path)], version="router-x", dim=1 << 10).save(
        tmp_path / "router-x.json")
    named = build_router(Settings(router_model=saved), tiers)
    assert named.version == "classifier:router-x"


def test_examples_are_plain_data() -> None:
    example = Example(extract(JobSpec(task=TaskType.ANSWER, document="x")), {1: True})
    assert example.good[1]


def test_a_task_the_model_never_saw_uses_the_policys_prior(tmp_path: Path) -> None:
    from tierline.routing.policy import load_policy

    model = train([_replay_file(tmp_path)], dim=1 << 10)
    assert model.tasks == ("answer",)
    assert RouterModel.load(model.save(tmp_path / "m.json")).tasks == ("answer",)
    router = ClassifierRouter(model, load_policy())
    job = JobSpec(task=TaskType.EXTRACT, document="Total: 12.50", schema=SCHEMA)
    decision = router.decide(job, load_tiers())
    assert decision.probabilities[1] == 0.8
    assert decision.reasons[0] == "model router-v1 has no extract jobs: task prior"
    assert decision.tier == 1


def test_a_new_category_starts_from_its_task_s_rate_not_the_overall_one() -> None:
    def example(task: TaskType, query_type: str, ok: bool) -> Example:
        schema = SCHEMA if task is TaskType.EXTRACT else None
        return Example(extract(JobSpec(task=task, document="text", query_type=query_type,
                                       schema=schema)),
                       {1: ok, 3: True})
    rows = ([example(TaskType.ANSWER, "physics", False)] * 200
            + [example(TaskType.EXTRACT, "invoice", True)] * 50
            + [example(TaskType.EXTRACT, "contract", True)])
    model = fit(rows, version="t", residual_l2=None)
    contract = model.categories.index("contract")
    # One contract seen: its tier-1 rate leans on extraction's (all good), not on the overall
    # rate that the failing physics questions drag down.
    assert model.category_rates(1)[contract] > 0.9
    loaded = RouterModel.from_json(json.loads(json.dumps(model.to_json())))
    assert loaded.category_tasks == model.category_tasks
    assert loaded.category_rates(1)[contract] == pytest.approx(model.category_rates(1)[contract])


def test_train_chooses_its_setting_inside_the_rows_and_ships_the_cascade_levels(
        tmp_path: Path) -> None:
    replay = Path(__file__).resolve().parents[2] / "data" / "replay" / "gsm8k.jsonl"
    sample = tmp_path / "gsm8k-sample.jsonl"
    sample.write_text("\n".join(replay.read_text(encoding="utf-8").splitlines()[:200]) + "\n",
                      encoding="utf-8")
    model = train([sample], version="router-t", check=finding_kinds)
    assert model.metadata["setting"] in model.metadata["setting_scores"]
    assert len(model.metadata["setting_scores"]) >= 2
    levels = model.metadata["cascade_levels"]
    assert levels["wrong_claim"] == 2  # a wrong computation almost always means a wrong answer
    assert set(levels.values()) <= {0, 1, 2}
    few = train([sample], version="router-few", choose_setting=False, check=finding_kinds)
    assert few.metadata["setting_scores"] == {}
    assert "cascade_levels" in few.metadata
    # Routing does not import the validator: without its check, no cascade levels.
    assert "cascade_levels" not in train([sample], version="router-unchecked",
                                         choose_setting=False).metadata


def test_a_softer_posterior_mixes_the_categories_the_text_resembles(tmp_path: Path) -> None:
    examples = [row_example(r) for r in read_replay(_replay_file(tmp_path))]
    model = fit(examples, version="bayes", dim=1 << 10, temperature=4.0)
    assert not model.subject_weights.size  # naive Bayes: no logistic posterior
    features = extract(JobSpec(task=TaskType.ANSWER, document="A ball of mass 3 kg falls."))
    sharp = dataclasses.replace(model, temperature=1.0).category_posterior(features)
    soft = model
    softened = soft.category_posterior(features)
    assert softened.argmax() == sharp.argmax()
    assert 0.5 < softened.max() < sharp.max()
    loaded = RouterModel.from_json(json.loads(json.dumps(soft.to_json())))
    assert loaded.category_posterior(features) == pytest.approx(softened)
    # A setting apart only in its temperature and correction shares the fit: the copy that
    # carries them gives the posterior a fit with them would.
    refitted = with_residual(model, examples, None, temperature=1.0)
    assert refitted.category_posterior(features) == pytest.approx(sharp)
    assert not refitted.residual and model.residual and model.temperature == 4.0


def test_shrink_to_prior_weighs_the_labels_against_the_prior_s_pseudo_count() -> None:
    prior = {1: 0.8, 2: 0.9, 3: 0.95}
    shrunk = shrink_to_prior({1: 0.2, 3: 0.9}, {1: 50.0, 3: 50.0}, prior, 50.0)
    assert shrunk[1] == pytest.approx(0.5)
    assert shrunk[2] == pytest.approx(0.9)  # only the prior knows tier 2
    assert shrunk[3] == pytest.approx(0.925)
    assert shrink_to_prior({1: 0.2}, {1: 1e6}, prior, 50.0)[1] == pytest.approx(0.2, abs=1e-3)


def test_a_task_learned_from_a_few_ledger_labels_stays_near_the_policy_s_prior() -> None:
    from tierline.routing.policy import load_policy

    contract = JobSpec(task=TaskType.EXTRACT, document="Parties to the lease: A and B",
                       schema=SCHEMA, query_type="contract")
    model = train(ledger=[(contract, 2)] * 10, version="few-labels")
    router = ClassifierRouter(model, load_policy())
    own = model.probabilities(extract(contract))
    assert own[1] < 0.2  # ten failures at tier 1 alone say tier 1 never does
    shrunk = router.decide(contract, load_tiers()).probabilities
    assert shrunk[1] > 0.6  # against the prior's 0.8 with a pseudo-count of 50
    without = dataclasses.replace(model, task_prior_strength=0.0)
    assert ClassifierRouter(without, load_policy()).decide(
        contract, load_tiers()).probabilities[1] == pytest.approx(own[1], abs=1e-4)
    loaded = RouterModel.from_json(json.loads(json.dumps(model.to_json())))
    assert loaded.task_prior_strength == model.task_prior_strength > 0
    assert loaded.task_labels("extract") == {1: 10.0, 2: 10.0, 3: 10.0}


def test_a_tier_only_a_few_ledger_jobs_label_leans_on_the_well_labelled_tiers(
        tmp_path: Path) -> None:
    question = JobSpec(task=TaskType.ANSWER, document="Which slogan sells shoes best?")
    trained = train([_replay_file(tmp_path)], ledger=[(question, 1)] * 5, dim=1 << 10,
                    choose_setting=False)
    assert trained.task_labels("answer") == {1: 45.0, 2: 5.0, 3: 45.0}
    features = extract(question)
    alone = dataclasses.replace(trained, task_prior_strength=0.0).probabilities(features)
    assert alone[2] > 0.9  # five jobs good at tier 2 and nothing else known of it
    model = dataclasses.replace(trained, task_prior_strength=20.0)
    shrunk = model.probabilities(features)
    between = (alone[1] + alone[3]) / 2
    assert shrunk[1] == pytest.approx(alone[1]) and shrunk[3] == pytest.approx(alone[3])
    assert shrunk[2] == pytest.approx((5 * alone[2] + 20 * between) / 25)


def test_the_shipped_setting_fits_a_logistic_posterior_that_the_file_keeps(tmp_path: Path) -> None:
    model = train([_replay_file(tmp_path)], dim=1 << 10, choose_setting=False)
    assert model.subject_weights.shape == (1 << 10, len(model.categories))
    physics = extract(JobSpec(task=TaskType.ANSWER, document="A ball of mass 3 kg falls."))
    marketing = extract(JobSpec(task=TaskType.ANSWER, document="Which slogan sells best?"))
    index = {c: i for i, c in enumerate(model.categories)}
    assert model.category_posterior(physics).argmax() == index["physics"]
    assert model.category_posterior(marketing).argmax() == index["marketing"]
    # The logistic posterior is the model's own: naive Bayes's temperature does not touch it.
    hot = dataclasses.replace(model, temperature=50.0)
    assert hot.category_posterior(physics) == pytest.approx(model.category_posterior(physics))
    loaded = RouterModel.from_json(json.loads(json.dumps(model.to_json())))
    assert np.array_equal(loaded.subject_weights, model.subject_weights)
    assert loaded.category_posterior(physics) == pytest.approx(model.category_posterior(physics),
                                                               abs=1e-12)
    assert loaded.score(physics) == pytest.approx(model.score(physics))
