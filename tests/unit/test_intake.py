"""Reading jobs from files: every bad line is named, and a bad file yields no jobs at all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tierline.jobs.intake import InvalidInput, read_jobs

INVOICE_SCHEMA = {
    "type": "object",
    "properties": {"total": {"type": "number"}},
    "required": ["total"],
}


def _write_jsonl(path: Path, rows: list[object]) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


def test_reads_valid_jsonl(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "jobs.jsonl", [
        {"task": "extract", "document": "Total: 12.50", "schema": INVOICE_SCHEMA},
        {"task": "classify", "document": "My card was charged twice", "labels": ["billing", "other"]},
    ])
    jobs = read_jobs(path)
    assert [j.task.value for j in jobs] == ["extract", "classify"]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('{"task": "translate", "document": "x"}', "task"),
        ('{"task": "extract", "document": "x", "schema": {"type": "nonsense"}}', "invalid JSON Schema"),
        ('{"task": "summarize", "document": "   "}', "no input"),
        ('{"task": "summarize", "document": "x"', "malformed JSON"),
        ('{"task": "extract", "document": "x"}', "needs a schema"),
        ('{"task": "classify", "document": "x"}', "needs labels"),
        ('["not", "an", "object"]', "expected a JSON object"),
    ],
)
def test_rejects_bad_line_naming_it(tmp_path: Path, line: str, expected: str) -> None:
    path = _write_jsonl(tmp_path / "jobs.jsonl", [{"task": "summarize", "document": "fine"}, line])
    with pytest.raises(InvalidInput) as info:
        read_jobs(path)
    message = str(info.value)
    assert "jobs.jsonl line 2" in message
    assert expected in message
    assert "nothing submitted" in message


def test_rejects_non_utf8_line(tmp_path: Path) -> None:
    path = tmp_path / "jobs.jsonl"
    path.write_bytes(b'{"task": "summarize", "document": "ok"}\n{"task": "summarize", "document": "\xff\xfe"}\n')
    with pytest.raises(InvalidInput, match=r"line 2: not valid UTF-8"):
        read_jobs(path)


def test_reports_every_problem_at_once(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "jobs.jsonl", ["{oops", '{"task": "nope"}', "{}"])
    with pytest.raises(InvalidInput) as info:
        read_jobs(path)
    assert len(info.value.problems) == 3


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("\n\n")
    with pytest.raises(InvalidInput, match="no jobs found"):
        read_jobs(path)


def test_reads_csv_with_context_and_labels(tmp_path: Path) -> None:
    path = tmp_path / "jobs.csv"
    path.write_text(
        "task,document,labels,business_impact,sensitive\n"
        'classify,"Refund please",billing|other,high,true\n'
    )
    (job,) = read_jobs(path)
    assert job.labels == ["billing", "other"]
    assert job.context.business_impact.value == "high"
    assert job.context.sensitive is True


def test_csv_bad_json_column_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "jobs.csv"
    path.write_text('task,document,schema\nsummarize,ok,\nextract,"x","{bad"\n')
    with pytest.raises(InvalidInput, match=r"jobs.csv line 3: column schema is not valid JSON"):
        read_jobs(path)


def test_reads_folder_of_documents(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("Total: 5")
    (folder / "b.txt").write_text("Total: 7")
    jobs = read_jobs(folder, task="extract", schema=INVOICE_SCHEMA)
    assert [j.document for j in jobs] == ["Total: 5", "Total: 7"]


def test_folder_needs_a_task(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="needs --task"):
        read_jobs(tmp_path)


def test_folder_names_the_undecodable_file(tmp_path: Path) -> None:
    (tmp_path / "bad.txt").write_bytes(b"\xff")
    with pytest.raises(InvalidInput, match=r"bad\.txt: not valid UTF-8"):
        read_jobs(tmp_path, task="summarize")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('{"task": "summarize", "document": "x", "schema": NaN}', "NaN is not a JSON number"),
        ('{"task": "summarize", "document": "x", "schema": -Infinity}', "-Infinity is not"),
        ('{"task": "summarize", "document": "x", "task": "math"}', "key 'task' appears twice"),
        ('{"task": "summarize", "document": "x\\u0000y"}', "NUL character"),
        ('{"task": "summarize", "document": "x", "schema": {"a\\u0000": 1}}', "NUL character in a key"),
        ('{"task": "summarize", "document": "x", "schema": ' + "[" * 10_000 + "]" * 10_000 + "}",
         "nested deeper than"),
        ('{"task": "summarize", "document": "x", "schema": ' + "[" * 70 + "]" * 70 + "}",
         "nested deeper than 64 levels"),
        ('{"task": "summarize", "document": "x", "tenant": "' + "t" * 101 + '"}', "tenant"),
        ('{"task": "summarize", "document": "x", "key": "' + "k" * 201 + '"}', "key"),
        ('{"task": "summarize", "document": "x", "feature": ""}', "feature"),
    ],
)
def test_refuses_json_a_job_must_not_carry(tmp_path: Path, line: str, expected: str) -> None:
    path = _write_jsonl(tmp_path / "jobs.jsonl", [{"task": "summarize", "document": "fine"}, line])
    with pytest.raises(InvalidInput) as info:
        read_jobs(path)
    assert [p.where for p in info.value.problems] == ["jobs.jsonl line 2"]
    assert expected in str(info.value)


def test_moderate_nesting_and_escaped_backslashes_are_fine(tmp_path: Path) -> None:
    nested = {"task": "summarize", "document": "a \\u0000 in prose", "schema": {"examples": [[[[1]]]]}}
    (job,) = read_jobs(_write_jsonl(tmp_path / "jobs.jsonl", [nested]))
    assert job.document == "a \\u0000 in prose"


def test_a_line_carrying_a_reference_answer_is_refused_with_why(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "jobs.jsonl", [
        {"task": "summarize", "document": "fine"},
        {"task": "classify", "document": "x", "labels": ["a"], "reference": "a"}])
    with pytest.raises(InvalidInput) as info:
        read_jobs(path)
    assert [str(p) for p in info.value.problems] == [
        "jobs.jsonl line 2: 'reference' is no longer part of a job: a workload's right answers "
        "are kept in a file of their own, apart from its jobs (`tierline sample --answers FILE`); "
        "remove the field"]


def test_a_csv_reference_column_is_refused_with_why(tmp_path: Path) -> None:
    path = tmp_path / "jobs.csv"
    path.write_text('task,document,reference\nsummarize,ok,\nsummarize,ok,"[""7""]"\n')
    with pytest.raises(InvalidInput) as info:
        read_jobs(path)
    assert [p.where for p in info.value.problems] == ["jobs.csv line 3"]
    assert "'reference' is no longer part of a job" in str(info.value)


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "jobs.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"task": "summarize", "document": "ok"}).encode())
    assert [j.document for j in read_jobs(path)] == ["ok"]
    csv_path = tmp_path / "jobs.csv"
    csv_path.write_bytes(b"\xef\xbb\xbftask,document\nsummarize,ok\n")
    assert [j.document for j in read_jobs(csv_path)] == ["ok"]


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("summarize,ok,extra", "3 values in a file whose header has 2 columns"),
        ("summarize", "1 values in a file whose header has 2 columns"),
    ],
)
def test_csv_row_with_extra_or_missing_values_is_refused(tmp_path: Path, row: str,
                                                         expected: str) -> None:
    path = tmp_path / "jobs.csv"
    path.write_text(f"task,document\nsummarize,fine\n{row}\nsummarize,fine too\n")
    with pytest.raises(InvalidInput) as info:
        read_jobs(path)
    assert [str(p) for p in info.value.problems] == [f"jobs.csv line 3: {expected}"]


def test_csv_nul_and_bad_bytes_are_named_by_line(tmp_path: Path) -> None:
    path = tmp_path / "jobs.csv"
    path.write_bytes(b"task,document\nsummarize,ok\nsummarize,a\x00b\nsummarize,\xff\n")
    with pytest.raises(InvalidInput) as info:
        read_jobs(path)
    assert [str(p) for p in info.value.problems] == [
        "jobs.csv line 3: contains a NUL character", "jobs.csv line 4: not valid UTF-8 (byte 10)"]


def test_csv_header_naming_a_column_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "jobs.csv"
    path.write_text("task,document,document\nsummarize,a,b\n")
    with pytest.raises(InvalidInput, match="document named twice"):
        read_jobs(path)


def test_csv_quoted_field_spanning_lines_keeps_its_last_line(tmp_path: Path) -> None:
    path = tmp_path / "jobs.csv"
    path.write_text('task,document\nsummarize,"one\ntwo"\nnope,x\n')
    with pytest.raises(InvalidInput, match=r"jobs.csv line 4: task"):
        read_jobs(path)
