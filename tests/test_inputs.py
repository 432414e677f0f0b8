"""The one input reader: what an operator wrote is the value used, or a ParameterError that
names the parameter, what was given and what is allowed, before any AWS call. Through the
command line, a refusal is exit 2 with no run folder and nothing sent."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from dsshare import inputs
from dsshare.cli import main
from dsshare.errors import ParameterError
from dsshare.inputs import InputFileError
from dsshare.runbooks.parameters import resolve_notes
from dsshare.sandbox import Sandbox

REPO = Path(__file__).resolve().parents[1]
SHARE_PARAMETERS = REPO / "parameters" / "share_directory.sandbox.yaml"
MUTATING = {"ShareDirectory", "UnshareDirectory", "AcceptSharedDirectory", "RejectSharedDirectory"}


def ou_id(sb: Sandbox, name: str) -> str:
    return str(next(ou["id"] for ou in sb.manifest["ous"] if ou["name"] == name))


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
    return code, out.getvalue(), err.getvalue()


# -- YAML is read as text ----------------------------------------------------------------


@pytest.mark.parametrize("typed", ["012345670123", "000000000017", "0777", "1e11", "0x1F",
                                   "1_000", "1:30", "2026-11-27", "no", ".nan"])  # fmt: skip
def test_an_unquoted_value_is_the_text_that_was_written(typed: str) -> None:
    assert inputs.parse_yaml(f"targets: [{typed}]\nvalue: {typed}") == {
        "targets": [typed], "value": typed
    }  # fmt: skip


def test_empty_and_null_words_mean_no_value_unless_quoted() -> None:
    data = inputs.parse_yaml("a:\nb: ~\nc: null\nd: 'null'\ne: \"\"")
    assert data == {"a": None, "b": None, "c": None, "d": "null", "e": ""}


@pytest.mark.parametrize("word", ["no", "off", "yes", "on", "y", "n", "0", "1", "", "True!"])
def test_booleans_other_than_true_or_false_are_refused(word: str) -> None:
    with pytest.raises(ParameterError) as caught:
        inputs.boolean(word, "dry_run")
    assert caught.value.parameter == "dry_run"
    assert "true or false" in caught.value.allowed and "yes/no, on/off and 0/1" in caught.value.allowed


@pytest.mark.parametrize(("word", "value"), [("true", True), ("FALSE", False), ("False", False)])
def test_true_and_false_are_read_in_any_letter_case(word: str, value: bool) -> None:
    assert inputs.boolean(word, "dry_run") is value


@pytest.mark.parametrize("text", ["1e11", "0x1F", "0o17", "1_000", "1:30", ".nan", ".inf",
                                  "-.inf", "NaN", "inf", "010", "1.0", "", "true"])  # fmt: skip
def test_whole_numbers_are_decimal_digits_only(text: str) -> None:
    with pytest.raises(ParameterError) as caught:
        inputs.integer(text, "max_targets_per_run", minimum=1)
    assert caught.value.parameter == "max_targets_per_run"


@pytest.mark.parametrize("text", ["0x1F", "0o17", "1_000", "1:30", ".nan", ".inf", "-.inf",
                                  "1e309", "1e11", "010", "0", "-5"])  # fmt: skip
def test_wait_minutes_are_finite_and_in_range(text: str) -> None:
    with pytest.raises(ParameterError) as caught:
        inputs.number(text, "wait_timeout_minutes", minimum=0, maximum=1440, above_minimum=True)
    assert "greater than 0 and at most 1440" in caught.value.allowed


def test_decimal_numbers_are_read_exactly() -> None:
    assert [inputs.number(t, "n") for t in ("15", "0.5", "2e1", "+3", ".25")] == [15, 0.5, 20, 3, 0.25]
    assert inputs.integer("  42 ", "n") == 42


@pytest.mark.parametrize(("document", "problem", "line"), [
    ("a: 1\ndirectories: !!python/object/apply:os.system [echo pwned]", "a YAML tag", 2),
    ("a: !!binary aGVsbG8=", "a YAML tag", 1),
    ("a: !custom x", "a YAML tag", 1),
    ("a: &a [x, x]\nb: &b [*a, *a]\nc: *b", "an anchor (&a)", 1),
    ("a: 1\nb: 2\na: 3", "the key 'a' a second time", 3),
    ("? [a, b]\n: c", "a key that is a list or mapping", 1),
    ("a: [" * 40, "nesting deeper than 32 levels", 1),
    ("a: [unclosed\n", "expected ',' or ']'", 2),
    ("ok: 1\nbad: \x00", "the character U+0000", 2),
    ("---\na: 1\n---\nb: 2", "another document", 3),
])  # fmt: skip
def test_yaml_that_is_not_plain_data_is_refused_with_file_and_line(
    tmp_path: Path, document: str, problem: str, line: int
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(document, encoding="utf-8")
    with pytest.raises(InputFileError) as caught:
        inputs.read_yaml_file(path, "-f")
    assert caught.value.line == line and problem in caught.value.problem
    assert f"{path}, line {line}" in str(caught.value)


def test_a_billion_laughs_document_is_refused_without_expanding(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines))
    with pytest.raises(InputFileError, match="anchor"):
        inputs.read_yaml_file(path, "desired_state")


def test_oversized_and_non_utf8_files_are_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("a: " + "x" * inputs.MAX_FILE_BYTES)
    with pytest.raises(InputFileError, match="larger than"):
        inputs.read_yaml_file(big, "-f")
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"a: \xff\xfe")
    with pytest.raises(InputFileError, match="not UTF-8"):
        inputs.read_yaml_file(binary, "-f")


# -- text --------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["a\x00b", "\x1b[31mred", "bell\x07", "del\x7f", "c1\x85",
                                  "\u202eevil", "cr\rhidden", "\ud800"])  # fmt: skip
def test_control_characters_in_notes_are_refused_without_echoing_the_text(text: str) -> None:
    with pytest.raises(ParameterError) as caught:
        inputs.notes_text(text, "notes")
    assert caught.value.parameter == "notes"
    assert text not in str(caught.value) and "control characters" in caught.value.allowed


def test_notes_may_span_lines_and_hold_tabs_but_one_line_text_may_not() -> None:
    assert inputs.notes_text("Line one\n\tline two ✓") == "Line one\n\tline two ✓"
    with pytest.raises(ParameterError):
        inputs.text("d-1234567890\n", "directory_id")


def test_ids_given_as_numbers_are_refused_never_converted() -> None:
    with pytest.raises(ParameterError, match="quote ids"):
        inputs.text_list([200000000004], "targets")
    assert inputs.text_list("012345670123, ou-ab12-cd34ef56;200000000004", "targets") == [
        "012345670123", "ou-ab12-cd34ef56", "200000000004"
    ]  # fmt: skip


# -- notes: env:VAR and file:PATH read only from the allow-list ---------------------------------


def test_notes_from_the_environment_only_from_dsshare_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    with pytest.raises(ParameterError) as caught:
        resolve_notes("env:AWS_SECRET_ACCESS_KEY")
    assert "DSSHARE_" in caught.value.allowed and "wJalr" not in str(caught.value)
    monkeypatch.setenv("DSSHARE_TICKET_NOTES", "Join for CHG-1234")
    assert resolve_notes("env:DSSHARE_TICKET_NOTES") == "Join for CHG-1234"
    monkeypatch.setenv("DSSHARE_TICKET_NOTES", "bad\x1b[2Jnotes")
    with pytest.raises(ParameterError, match="control characters"):
        resolve_notes("env:DSSHARE_TICKET_NOTES")


def test_notes_from_a_file_only_inside_the_allowed_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(inputs.NOTES_DIR_ENV, raising=False)
    params = tmp_path / "params"
    params.mkdir()
    (params / "notes.txt").write_text("Join for CHG-1234\n")
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    (params / "link.txt").symlink_to(outside)
    assert resolve_notes(f"file:{params / 'notes.txt'}", folders=[params]) == "Join for CHG-1234"
    for reference in ("file:/etc/shadow", f"file:{outside}", f"file:{params / 'link.txt'}",
                      f"file:{params}/../outside.txt", f"file:{params / 'notes.txt'}"):  # fmt: skip
        allowed_folders = [] if reference.endswith("notes.txt") else [params]
        with pytest.raises(ParameterError) as caught:
            resolve_notes(reference, folders=allowed_folders)
        assert inputs.NOTES_DIR_ENV in caught.value.allowed, reference
        assert "secret" not in str(caught.value)
    monkeypatch.setenv(inputs.NOTES_DIR_ENV, str(tmp_path))
    assert resolve_notes(f"file:{outside}") == "secret"


# -- dsshare run: exit 2, nothing sent, no run folder -----------------------------------------


@pytest.mark.parametrize(("extra", "pairs", "parameter"), [
    ('notes: "bad \\0 text"\n', [], "notes"),
    ("", [["notes", "bad \x00 text"]], "notes"),
    ("", [["notes", "red \x1b[31m"]], "notes"),
    ("", [["notes", "env:AWS_SECRET_ACCESS_KEY"]], "notes"),
    ("", [["notes", "file:/etc/shadow"]], "notes"),
    ("dry_run: off\n", [], "dry_run"),
    ("", [["dry_run", "off"]], "dry_run"),
    ("", [["dry_run", "0"]], "dry_run"),
    ("wait_timeout_minutes: .nan\n", [], "wait_timeout_minutes"),
    ("", [["wait_timeout_minutes", ".inf"]], "wait_timeout_minutes"),
    ("", [["wait_timeout_minutes", "1:30"]], "wait_timeout_minutes"),
    ("targets: [0o17]\n", [], "targets[0]"),
    ("", [["targets", "1e11"]], "targets[0]"),
    ("notes: !!python/object/apply:os.system [echo pwned]\n", [], "-f"),
    ("dry_run: false\ndry_run: true\n", [], "-f"),
    ("targets: &t [200000000004]\n", [], "-f"),
])  # fmt: skip
def test_bad_input_exits_2_before_any_run_folder_or_aws_call(
    aws_env: Sandbox, tmp_path: Path, extra: str, pairs: list[list[str]], parameter: str
) -> None:
    extra_file = tmp_path / "extra.yaml"
    extra_file.write_text(extra)
    argv = ["run", "share_directory", "-f", str(SHARE_PARAMETERS), "-f", str(extra_file)]
    argv += [item for pair in pairs for item in ("-p", *pair)]
    aws_env.clear_request_log()
    code, _, stderr = run_cli([*argv, "--out", str(tmp_path / "run")])
    assert code == 2, stderr
    assert f"Invalid {parameter}" in stderr and "Traceback" not in stderr
    assert not (tmp_path / "run").exists()
    assert aws_env.request_log == []


def test_an_ou_of_another_organization_exits_2_before_the_kernel(
    aws_env: Sandbox, tmp_path: Path
) -> None:
    aws_env.clear_request_log()
    code, _, stderr = run_cli([
        "run", "share_directory", "-f", str(SHARE_PARAMETERS),
        "-p", "targets", f"{ou_id(aws_env, 'Dev')},ou-zzzz-zzzzzzzz",
        "--out", str(tmp_path / "run"),
    ])  # fmt: skip
    assert code == 2 and "Invalid targets[1]: 'ou-zzzz-zzzzzzzz'" in stderr
    assert "another organization" in stderr and not (tmp_path / "run").exists()
    assert [e["operation"] for e in aws_env.request_log if e["operation"] in MUTATING] == []


def test_an_ou_of_the_organization_passes_the_check(aws_env: Sandbox) -> None:
    from dsshare.runbooks.execute import _check_organization

    dev = ou_id(aws_env, "Dev")
    _check_organization({"targets": [dev, aws_env.manifest["root_id"], "200000000004"],
                         "profile": "", "region": "us-east-1", "endpoint_url": "",
                         "role_name": "OrganizationAccountAccessRole"})  # fmt: skip


@pytest.mark.slow
def test_the_dry_run_shows_the_notes_on_the_terminal_and_writes_them_nowhere(
    aws_env: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notes = "Join for CHG-4711: the identity team\n\tcall 555-0100"
    folder = tmp_path / "change"
    folder.mkdir()
    (folder / "notes.txt").write_text(notes + "\n")
    params = folder / "share.yaml"
    params.write_text(SHARE_PARAMETERS.read_text().replace(
        'notes: "Domain join', 'notes: file:notes.txt\n# was: "Domain join'))
    monkeypatch.chdir(folder)  # file:notes.txt is read from the working folder, allowed as
    # the folder of the -f file
    code, stdout, stderr = run_cli(["run", "share_directory", "-f", str(params),
                                    "--out", str(tmp_path / "run")])  # fmt: skip
    assert code == 0, stderr
    assert f"notes to be sent ({len(notes)} characters; shown here for your review only" in stdout
    assert "  | Join for CHG-4711: the identity team\n  | \tcall 555-0100" in stdout
    assert [e["operation"] for e in aws_env.request_log if e["operation"] in MUTATING] == []
    written = [p for p in (tmp_path / "run").rglob("*") if p.is_file()]
    assert {p.name for p in written} >= {"run.json", "parameters.yaml", "share_directory.ipynb"}
    for path in written:
        text = path.read_text(errors="replace")
        assert "CHG-4711" not in text and "555-0100" not in text, path.name
    assert "file:notes.txt" in (tmp_path / "run" / "parameters.yaml").read_text()
    assert "notes" not in json.loads((tmp_path / "run" / "run.json").read_text())


# -- dsshare inventory --out --------------------------------------------------------------


def test_inventory_refuses_a_folder_holding_other_files_before_any_aws_call(
    aws_env: Sandbox, tmp_path: Path
) -> None:
    (tmp_path / "keep.txt").write_text("precious")
    aws_env.clear_request_log()
    for extra in ([], ["--force"]):
        code, _, stderr = run_cli(["inventory", "--out", str(tmp_path), "--no-progress", *extra])
        assert code == 2 and "holds other files" in stderr
    assert aws_env.request_log == []
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_inventory_replaces_an_earlier_snapshot_only_with_force(aws_env: Sandbox, tmp_path: Path) -> None:
    out = tmp_path / "new" / "inventory"
    code, _, stderr = run_cli(["inventory", "--out", str(out), "--no-progress"])
    assert code == 0, stderr
    first = json.loads((out / "manifest.json").read_text())["collected_at"]
    aws_env.clear_request_log()
    code, _, stderr = run_cli(["inventory", "--out", str(out), "--no-progress"])
    assert code == 2 and "--force" in stderr and aws_env.request_log == []
    (out / "stale.txt").write_text("left by hand")
    code, _, stderr = run_cli(["inventory", "--out", str(out), "--force", "--compare", str(out),
                               "--no-progress"])  # fmt: skip
    assert code == 0, stderr
    assert json.loads((out / "manifest.json").read_text())["collected_at"] != first
    assert not (out / "stale.txt").exists() and (out / "drift.csv").is_file()
    assert [p.name for p in out.parent.iterdir()] == ["inventory"]
