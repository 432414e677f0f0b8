"""Hostile input: malformed ids, huge lists, unicode and control characters, YAML tricks and
path traversal get a DsShareError naming the problem, or succeed; never a traceback from
deep inside. The sandbox's request log shows no AWS call was made for a refused input."""

from __future__ import annotations

import datetime as dt
import io
import string
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tools.reliability.hostile import (
    HOSTILE_TEXT,
    HOSTILE_TYPED,
    HOSTILE_YAML,
    classify,
    reader_trials,
    run_corpus,
)

import dsshare
from dsshare import validation
from dsshare.cli import main
from dsshare.errors import DsShareError, ParameterError
from dsshare.runbooks.catalog import runbooks
from dsshare.runbooks.parameters import parse_cli_value, resolve_parameters
from dsshare.sandbox import Sandbox

REPO = Path(__file__).resolve().parents[1]
SHARE_PARAMETERS = REPO / "parameters" / "share_directory.sandbox.yaml"
MEMBER = "200000000004"
HYPOTHESIS = settings(max_examples=60, deadline=None,
                      suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip

#: Text with every kind of character: control, surrogates, right-to-left marks, emoji.
any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
#: Lookalikes of valid ids: the right shape with one character off.
near_ids = st.one_of(
    st.from_regex(r"\Ad-[0-9a-fA-Z]{9,11}\Z"),
    st.from_regex(r"\A[0-9０-９]{11,13}\Z"),
    st.from_regex(r"\Aou-[0-9a-zA-Z]{3,5}-[a-z0-9]{7,9}\Z"),
)
yaml_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), any_text, near_ids,
    st.dates(), st.datetimes(),
)  # fmt: skip
yaml_values = st.recursive(
    yaml_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.one_of(any_text, st.integers()), inner, max_size=4)),
    max_leaves=12,
)  # fmt: skip


def assert_handled(verdict: Any) -> None:
    """ok, or a DsShareError whose message says what went wrong (not a bare repr)."""
    assert verdict.verdict in ("ok", "refused"), repr(verdict.error)
    if verdict.verdict == "refused" and isinstance(verdict.error, DsShareError):
        assert len(verdict.message) > 20


@pytest.fixture
def conn(aws_env: Sandbox) -> dsshare.Connection:
    return dsshare.Connection()


def test_the_hostile_corpus_is_refused_clearly_and_before_any_aws_call(
    aws_env: Sandbox, conn: dsshare.Connection, tmp_path: Path
) -> None:
    trials = run_corpus(conn, aws_env, aws_env.directory_id("global.example.com"), MEMBER, tmp_path)
    assert len(trials) > 400
    crashes = [(t.entry_point, t.value, repr(t.verdict.error)) for t in trials
               if t.verdict.verdict == "crash"]  # fmt: skip
    assert crashes == []
    assert [t for t in trials if t.called_aws_when_refused] == []
    assert sum(t.verdict.verdict == "refused" for t in trials) > 300  # the corpus is hostile


@HYPOTHESIS
@given(value=st.one_of(any_text, near_ids, yaml_scalars))
def test_validators_accept_or_raise_parameter_error(value: object) -> None:
    for check in (validation.validate_directory_id, validation.validate_account_id,
                  validation.validate_target, validation.validate_region,
                  validation.validate_method, validation.validate_notes,
                  validation.validate_ou_id):  # fmt: skip
        verdict = classify(check, value)
        assert_handled(verdict)
        if verdict.error is not None:
            assert isinstance(verdict.error, ParameterError)


@HYPOTHESIS
@given(notes=st.text(st.characters(codec=None), max_size=1100))
def test_share_notes_are_accepted_or_refused_without_echoing_them(notes: str) -> None:
    verdict = classify(validation.validate_notes, notes)
    assert_handled(verdict)
    if verdict.error is not None and len(notes) > 3:
        assert notes not in verdict.message


@HYPOTHESIS
@given(directory_id=st.one_of(near_ids, any_text), target=st.one_of(near_ids, any_text),
       notes=st.one_of(st.just(""), any_text))  # fmt: skip
def test_plan_refuses_malformed_input_without_calling_aws(
    aws_env: Sandbox, conn: dsshare.Connection, directory_id: str, target: str, notes: str
) -> None:
    aws_env.clear_request_log()
    verdict = classify(dsshare.plan, conn, directory_id, [target], notes=notes)
    assert_handled(verdict)
    if isinstance(verdict.error, ParameterError):
        assert aws_env.request_log == []


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(size=st.integers(1, 50_000))
def test_huge_target_lists_are_refused_or_planned(
    aws_env: Sandbox, conn: dsshare.Connection, size: int
) -> None:
    targets = [f"5{i:011d}" for i in range(size)] + ["not-an-id"]
    aws_env.clear_request_log()
    verdict = classify(dsshare.plan, conn, aws_env.directory_id("global.example.com"), targets)
    assert isinstance(verdict.error, ParameterError)
    assert f"targets[{size}]" in verdict.message
    assert aws_env.request_log == []


@HYPOTHESIS
@given(document=st.dictionaries(
    st.sampled_from(["version", "defaults", "prune", "directories", "extra"]), yaml_values,
    max_size=4))  # fmt: skip
def test_desired_state_documents_parse_or_name_the_bad_place(document: dict[str, Any]) -> None:
    try:
        text = yaml.safe_dump(document, allow_unicode=True)
    except yaml.YAMLError:
        return  # not representable as YAML: nothing an operator could write
    verdict = classify(dsshare.parse_desired_state, yaml.safe_load(text))
    assert_handled(verdict)


@pytest.mark.parametrize("text", HOSTILE_YAML)
def test_desired_state_yaml_tricks_are_refused_or_parsed_faithfully(
    text: str, tmp_path: Path
) -> None:
    path = tmp_path / "desired.yaml"
    path.write_text(text)
    verdict = classify(dsshare.load_desired_state, path)
    assert_handled(verdict)
    if verdict.verdict == "ok":
        state = dsshare.load_desired_state(path)
        for entry in state.directories:
            for target in entry.targets:
                assert validation.validate_target(target) == target
    if "2_0000" in text or "1:20:30" in text:
        assert verdict.verdict == "refused"  # YAML 1.1 numbers, read as text: not ids
    if "000000000017" in text:  # kept exactly as typed, never read as octal 15
        assert dsshare.load_desired_state(path).directories[0].targets == ("000000000017",)


def test_a_missing_or_binary_desired_state_file_is_a_clear_error(tmp_path: Path) -> None:
    assert_handled(classify(dsshare.load_desired_state, tmp_path / "missing.yaml"))
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00directories")
    assert_handled(classify(dsshare.load_desired_state, binary))
    assert_handled(classify(dsshare.load_desired_state, tmp_path))


@HYPOTHESIS
@given(data=st.data())
def test_runbook_parameters_are_checked_or_refused(data: st.DataObject) -> None:
    spec = data.draw(st.sampled_from(runbooks()))
    names = st.one_of(st.sampled_from(spec.names), any_text)
    given_params = data.draw(st.dictionaries(names, yaml_values, max_size=5))
    assert_handled(classify(resolve_parameters, spec, [given_params]))
    param = data.draw(st.sampled_from(spec.params))
    assert_handled(classify(parse_cli_value, param, data.draw(any_text)))


# -- the command line ------------------------------------------------------------------


@pytest.fixture
def no_kernel(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """``dsshare run`` up to the kernel: accepted parameters are recorded, not executed."""
    from dsshare.runbooks import execute as execute_module

    accepted: list[dict[str, Any]] = []

    def execute(spec: Any, params: Any, out: Any = None, **_: Any) -> Any:
        accepted.append(dict(params))
        folder = Path(out or "runs/x")
        return execute_module.RunResult(spec.name, folder, folder / "nb.ipynb", 0)

    monkeypatch.setattr(execute_module, "execute", execute)
    yield accepted


def run_cli(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
    return code, err.getvalue()


cli_values = st.one_of(any_text.filter(lambda t: "\x00" not in t), near_ids,
                       st.sampled_from(["", "-", "--", "[", "[a,", "../../..", "/etc/passwd",
                                        "yes", "NaN", "1e309", "{a: 1}", "env:", "file:/dev/zero"]))


@HYPOTHESIS
@given(key=st.sampled_from(["directory_id", "targets", "notes", "method", "region", "dry_run",
                            "wait_timeout_minutes", "expected_plan", "output_dir", "bogus"]),
       value=cli_values)  # fmt: skip
def test_dsshare_run_arguments_exit_2_with_a_message_or_reach_the_kernel_checked(
    aws_env: Sandbox, no_kernel: list[dict[str, Any]], key: str, value: str
) -> None:
    aws_env.clear_request_log()
    before = len(no_kernel)
    code, stderr = run_cli(["run", "share_directory", "-f", str(SHARE_PARAMETERS), "-p", key, value])
    assert code in (0, 2), stderr
    if code == 2:
        assert stderr.strip() and "Traceback" not in stderr
        assert len(no_kernel) == before
    assert aws_env.request_log == []


def test_path_traversal_cannot_overwrite_an_existing_folder(
    aws_env: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("precious")
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    for out in ["../../victim", str(victim / "keep.txt")]:
        aws_env.clear_request_log()
        code, stderr = run_cli(["run", "share_directory", "-f", str(SHARE_PARAMETERS), "--out", out])
        assert code == 2 and "new or empty folder" in stderr and "Traceback" not in stderr
        assert aws_env.request_log == []
    assert (victim / "keep.txt").read_text() == "precious"


@pytest.mark.parametrize("argv", [
    ["inventory", "--accounts", "12345"],
    ["inventory", "--accounts", "200000000004,../../x"],
    ["inventory", "--ous", "ou-bad"],
    ["inventory", "--regions", "mars-north-1x"],
    ["inventory", "--regions", "us-east-1\x1b[31m"],
    ["inventory", "--concurrency", "0"],
    ["inventory", "--concurrency", "many"],
    ["inventory", "--accounts", "200000000004", "--all"],
    ["inventory", "--bogus"],
])  # fmt: skip
def test_dsshare_inventory_refuses_bad_arguments_before_any_aws_call(
    aws_env: Sandbox, tmp_path: Path, argv: list[str]
) -> None:
    aws_env.clear_request_log()
    code, stderr = run_cli([*argv, "--out", str(tmp_path / "inv"), "--no-progress"])
    assert code in (1, 2) and stderr.strip() and "Traceback" not in stderr
    assert aws_env.request_log == []
    assert not (tmp_path / "inv").exists()


def test_dsshare_inventory_into_an_existing_file_is_a_clear_error(
    aws_env: Sandbox, tmp_path: Path
) -> None:
    target = tmp_path / "report.html"
    target.write_text("not a folder")
    verdict = classify(main, ["inventory", "--accounts", MEMBER, "--out", str(target),
                              "--no-progress"])  # fmt: skip
    assert_handled(verdict)
    assert target.read_text() == "not a folder"


def test_control_characters_in_notes_reach_aws_verbatim_and_never_the_audit(
    aws_env: Sandbox, conn: dsshare.Connection, tmp_path: Path
) -> None:
    notes = "Join\x00 the\x1b[31m domain\u202e ✓ " + "".join(string.printable)
    audit = dsshare.AuditLog(tmp_path / "audit.jsonl")
    partner = "430000000001"
    frame = dsshare.share(conn, aws_env.directory_id("global.example.com"), [partner],
                          notes=notes, audit=audit, allow_external=True, progress=False)
    assert frame["outcome"].tolist() == ["done"]
    record = next(r for r in dsshare.iter_shared_directories(
        conn, aws_env.directory_id("global.example.com"))
        if r["SharedAccountId"] == partner)  # fmt: skip
    assert record["ShareNotes"] == notes
    text = (tmp_path / "audit.jsonl").read_text() + (tmp_path / "audit.intents.jsonl").read_text()
    assert "domain" not in text and "\\u001b" not in text


def test_dates_and_booleans_in_runbook_parameters_are_refused_not_coerced() -> None:
    spec = next(s for s in runbooks() if s.name == "share_directory")
    base = {"directory_id": "d-1234567890", "targets": [MEMBER]}
    for key, value in [("notes", dt.date(2026, 11, 27)), ("dry_run", "no"), ("dry_run", 0),
                       ("targets", [True]), ("directory_id", 1234567890)]:  # fmt: skip
        with pytest.raises(ParameterError) as caught:
            resolve_parameters(spec, [{**base, key: value}])
        assert key in str(caught.value)


def test_unencodable_notes_in_a_parameters_file_exit_2_before_any_file_is_written(
    aws_env: Sandbox, no_kernel: list[dict[str, Any]], tmp_path: Path
) -> None:
    """YAML's "\\ud800" escape gives a lone surrogate: it used to crash writing the run
    folder's parameters.yaml with UnicodeEncodeError."""
    extra = tmp_path / "notes.yaml"
    extra.write_text('notes: "bad \\ud800 text"\n')
    code, stderr = run_cli(["run", "share_directory", "-f", str(SHARE_PARAMETERS), "-f",
                            str(extra), "--out", str(tmp_path / "run")])  # fmt: skip
    assert code == 2 and "Invalid notes" in stderr and "Traceback" not in stderr
    assert no_kernel == [] and not (tmp_path / "run").exists()


# -- the input reader: every reader, every slot ----------------------------------------------


def test_every_reader_refuses_or_reads_exactly_what_was_typed(tmp_path: Path) -> None:
    trials = reader_trials(tmp_path)
    readers = {t.reader for t in trials}
    assert readers == {"runbook file", "-p override", "desired state", "guardrails", "console"}
    unfaithful = [(t.reader, t.slot, t.typed, t.verdict.verdict, t.read, t.verdict.message[:120])
                  for t in trials if not t.faithful]  # fmt: skip
    assert unfaithful == []
    read = {(t.reader, t.slot, t.typed): t.read for t in trials if t.verdict.verdict == "ok"}
    for reader in ("runbook file", "-p override", "desired state", "guardrails", "console"):
        assert read[(reader, "id", "012345670123")] == "012345670123"
        assert read[(reader, "id", "000000000017")] == "000000000017"
    assert all(t.verdict.verdict == "refused" for t in trials if t.slot == "document")
    assert all(t.verdict.verdict == "refused" for t in trials
               if t.slot == "text" and t.typed != "fine text")  # fmt: skip


@pytest.mark.parametrize(("key", "typed"), [
    # (argparse takes "-.inf" for an option: a usage error, exit 2 too, tested elsewhere)
    *(("dry_run", t) for t in HOSTILE_TYPED if t.lower() not in ("true", "false", "-.inf")),
    *(("wait_timeout_minutes", t) for t in ("1e11", "0x1F", "0o17", "1_000", "1:30", ".nan",
                                            ".inf", "1e309", "0777", "no")),
    *(("targets", t) for t in ("1e11", "0x1F", "0o17", "1_000", "1:30", "no", ".nan")),
    *(("notes", t) for t in HOSTILE_TEXT if t != "fine text"),
])  # fmt: skip
def test_dsshare_run_refuses_hostile_typed_values_with_exit_2_and_no_run_folder(
    aws_env: Sandbox, tmp_path: Path, key: str, typed: str
) -> None:
    aws_env.clear_request_log()
    out = tmp_path / "run"
    code, stderr = run_cli(["run", "share_directory", "-f", str(SHARE_PARAMETERS), "-p", key, typed,
                            "--out", str(out)])  # fmt: skip
    assert code == 2 and f"Invalid {key}" in stderr and "Traceback" not in stderr
    assert not out.exists() and aws_env.request_log == []
    if key == "notes":
        assert typed not in stderr
