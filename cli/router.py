"""`tierline router train` and `tierline router eval`: fit the classifier, measure a router."""

from __future__ import annotations

import json
from pathlib import Path

import click

from tierline.config.settings import Settings
from tierline.config.tiers import load_tiers
from tierline.jobs.models import JobSpec
from tierline.persistence.db import Database
from tierline.persistence.ledger import training_outcomes
from tierline.routing.classifier import ModelFileError
from tierline.routing.evaluation import evaluate_rows, plot
from tierline.routing.replay import ReplayFormatError, read_ledger_file, read_replay, row_example
from tierline.routing.router import DEFAULT_MODEL_VERSION, MODELS_DIR, load_model
from tierline.routing.training import train as train_model
from tierline.validation.math_exact import finding_kinds


@click.group()
def router() -> None:
    """The router's model: train it, evaluate it on recorded outcomes."""


@router.command()
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--version", "version", default=DEFAULT_MODEL_VERSION, show_default=True,
              help="model version; the file is named after it")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help=f"model file (default: {MODELS_DIR}/VERSION.json)")
@click.option("--score-threshold", type=float, default=None,
              help="for graded files: a score at or above it counts as good (default 7)")
@click.option("--ledger", "ledger_files", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help='ledger outcomes, one {"job": ..., "lowest_good_tier": n} a line')
@click.option("--from-db", is_flag=True,
              help="also learn from the fleet's own ledger (TIERLINE_DATABASE_URL)")
def train(files: tuple[Path, ...], version: str, out: Path | None,
          score_threshold: float | None, ledger_files: tuple[Path, ...], from_db: bool) -> None:
    """Fit the classifier on labelled FILES (replay format) and/or ledger outcomes, and write a
    versioned model file. From Python: routing.training.train(files, ledger=outcomes)."""
    if not files and not ledger_files and not from_db:
        raise click.UsageError("give at least one labelled file, --ledger file or --from-db")
    try:
        ledger = [o for path in ledger_files for o in read_ledger_file(path)]
        if from_db:
            ledger.extend(_ledger_from_database())
        model = train_model(files, ledger=ledger, version=version,
                            score_threshold=score_threshold, check=finding_kinds)
    except ReplayFormatError as exc:
        raise click.ClickException(str(exc)) from None
    target = model.save(out or MODELS_DIR / f"{version}.json")
    click.echo(f"wrote {target} ({target.stat().st_size / 1e6:.2f} MB, "
               f"{len(model.categories)} categories, trained on {model.metadata['trained_on']})")


def _ledger_from_database() -> list[tuple[JobSpec, int | None]]:
    settings = Settings()
    db = Database(settings.effective_database_url)
    try:
        with db.session() as session:
            outcomes = list(training_outcomes(session, top=load_tiers(settings.tiers_file).top))
    finally:
        db.dispose()
    click.echo(f"{len(outcomes)} labelled jobs from the ledger", err=True)
    return outcomes


@router.command(name="eval")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False),
              help="draw the quality-versus-strong-calls curve to this PNG")
@click.option("--scores-out", type=click.Path(dir_okay=False, path_type=Path),
              help="write each prompt's id and router score, one JSON object a line")
@click.option("--model", "model_name", default=None,
              help="model file or shipped version (default: the shipped router-v1)")
@click.option("--cv", "cv_folds", type=int, default=0,
              help="score by K-fold cross-validation on FILE instead of the model")
@click.option("--cv-extra", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              multiple=True, help="with --cv: more labelled files in every training fold")
@click.option("--text-only", is_flag=True, help="ignore the rows' subject field")
def evaluate(file: Path, as_json: bool, plot_path: str | None, scores_out: Path | None,
             model_name: str | None, cv_folds: int, cv_extra: tuple[Path, ...],
             text_only: bool) -> None:
    """Measure the router on FILE (replay format): APGR, CPT(50%), CPT(80%), the strong-call
    share reaching 95% of the strong model's quality, random's figures, and the cascade's when
    rows carry the weak model's answer."""
    try:
        rows = read_replay(file)
        extra = [row_example(r) for path in cv_extra for r in read_replay(path)]
        model = None if cv_folds > 1 else load_model(model_name)
    except (ReplayFormatError, ModelFileError) as exc:
        raise click.ClickException(str(exc)) from None
    if not rows:
        raise click.ClickException(f"{file} has no rows")
    result = evaluate_rows(rows, model=model, cv_folds=cv_folds, extra=extra,
                           text_only=text_only, check=finding_kinds)
    figures = {k: _round(v) for k, v in result.figures.items()}
    if scores_out:
        with scores_out.open("w", encoding="utf-8") as handle:
            for row, score in zip(rows, result.scores, strict=True):
                handle.write(json.dumps({"id": row.id, "score": round(float(score), 6)}) + "\n")
    if plot_path:
        try:
            plot(result, f"{file.name} ({figures['scored_by']})", plot_path)
        except RuntimeError as exc:
            raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(figures))
        return
    for key, value in figures.items():
        click.echo(f"{key:>32}  {value}")


def _round(value: object) -> object:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    return value
