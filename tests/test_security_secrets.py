"""Secrets: with distinctive fake credentials planted in the environment, no access key,
secret key or session token (planted, or assumed-role keys) appears in executed notebooks,
run folders, logs, inventory snapshots and reports, or exception messages; and ShareNotes
text never appears in logs or audit files."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tools.reliability.leaks import PLANTED, planted_environment, scan_paths, scan_text

import dsshare
from dsshare.sandbox import Sandbox

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
NOTES = "Canary-ShareNotes-7f3a: PIN 4242, call identity on 555-0100"
NEEDLE = {"ShareNotes text": NOTES}


def cli(env: dict[str, str], logs: Path, *argv: str) -> int:
    done = subprocess.run([sys.executable, "-m", "dsshare.cli", *argv], env=env, cwd=logs.parent,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    with logs.open("a") as handle:
        handle.write(f"$ dsshare {argv[0]} ...\n{done.stdout}\n{done.stderr}\n")
    return done.returncode


@pytest.fixture(scope="module")
def leftovers(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Everything a set of runs with planted credentials leaves: folders, logs, messages."""
    work = tmp_path_factory.mktemp("secrets")
    logs = work / "console.log"
    with pytest.MonkeyPatch.context() as mp:
        sandbox.reset()
        for name in ("AWS_PROFILE", "DSSHARE_GUARDRAILS"):
            mp.delenv(name, raising=False)
        for name, value in planted_environment().items():
            mp.setenv(name, value)
        mp.setenv("AWS_ENDPOINT_URL", sandbox.endpoint_url)
        mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
        mp.setenv("AWS_CONFIG_FILE", "/dev/null")
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        env = dict(os.environ)
        params = str(REPO / "parameters" / "share_directory.sandbox.yaml")
        codes = {
            "share": cli(env, logs, "run", "share_directory", "-f", params, "-p", "dry_run",
                         "false", "-p", "notes", NOTES, "--out", str(work / "share")),
        }
        # A failing run: the executed notebook keeps the traceback of the failed cell.
        sandbox.add_fault("ShareDirectory", code="AccessDeniedException")
        codes["denied"] = cli(env, logs, "run", "share_directory", "-f", params, "-p", "dry_run",
                              "false", "-p", "targets", sandbox.ou_id("Prod"), "-p", "notes",
                              NOTES, "--out", str(work / "denied"))
        sandbox.clear_faults()
        codes["inventory"] = cli(env, logs, "inventory", "--all", "--regions", "us-east-1,eu-west-1",
                                 "--out", str(work / "inventory"), "--no-progress")
        codes["dry"] = cli(env, logs, "run", "inventory_report", "-f",
                           str(REPO / "parameters" / "inventory_report.sandbox.yaml"),
                           "--out", str(work / "inventory_report"))
        # In this process: every dsshare log record at DEBUG, and every error message.
        messages: list[str] = []
        handler = logging.FileHandler(work / "dsshare-debug.log")
        handler.setLevel(logging.DEBUG)
        root = logging.getLogger("dsshare")
        root.addHandler(handler)
        old_level = root.level
        root.setLevel(logging.DEBUG)
        try:
            conn = dsshare.Connection()
            messages.append(repr(conn))
            glob = sandbox.directory_id("global.example.com")
            with dsshare.AuditLog(work / "lib" / "audit.jsonl") as audit:
                frame = dsshare.share(conn, glob, [sandbox.account_id("sandbox-carol")],
                                      notes=NOTES, auto_accept=True, audit=audit, progress=False)
                messages.extend(str(m) for m in frame["message"])
                sandbox.add_fault("ShareDirectory", code="AccessDeniedException")
                try:
                    dsshare.share_directory(conn, glob, sandbox.account_id("sandbox-bob"),
                                            notes=NOTES, audit=audit)
                except dsshare.DsShareError as err:
                    messages.append(str(err))
                    messages.append(repr(err))
                sandbox.clear_faults()
            for bad in ({"notes": "x" * 2000 + NOTES}, {"region": PLANTED["aws_secret_access_key"]}):
                try:
                    dsshare.plan(conn, glob, ["200000000004"], **bad)
                except dsshare.DsShareError as err:
                    messages.append(str(err))
        finally:
            root.removeHandler(handler)
            root.setLevel(old_level)
            handler.close()
        (work / "messages.txt").write_text("\n".join(messages))
        yield {"work": work, "codes": codes, "messages": messages}


def test_the_runs_did_what_they_were_asked(leftovers: dict[str, Any]) -> None:
    assert leftovers["codes"] == {"share": 0, "denied": 1, "inventory": 0, "dry": 0}
    work: Path = leftovers["work"]
    assert (work / "denied" / "share_directory.ipynb").read_text().count("AccessDenied") > 0
    assert (work / "share" / "audit.jsonl").read_text().count("ShareDirectory") == 3


def test_no_credential_appears_anywhere_a_run_leaves_something(leftovers: dict[str, Any]) -> None:
    scanned, leaks = scan_paths([leftovers["work"]])
    assert scanned >= 25
    assert leaks == []


def test_the_scanner_finds_what_it_looks_for(tmp_path: Path) -> None:
    """The scan can fail: planted values and assumed-role style keys are found."""
    (tmp_path / "a.txt").write_text(f"key={PLANTED['aws_access_key_id']}")
    (tmp_path / "b.json").write_text('{"SecretAccessKey": "' + "A" * 40 + '"}')
    (tmp_path / "c.log").write_text("creds ASIAQWERTYUIOPASDFGH used")
    scanned, leaks = scan_paths([tmp_path])
    assert scanned == 3 and {leak.what for leak in leaks} >= {
        "planted aws_access_key_id", "access key id pattern", "secret access key pattern"}


def test_exception_messages_hold_no_secret_and_no_notes(leftovers: dict[str, Any]) -> None:
    messages = "\n".join(leftovers["messages"])
    assert "AccessDenied" in messages  # the failure was captured
    assert scan_text(messages, "messages", NEEDLE) == []


def test_share_notes_never_reach_logs_or_audit_files(leftovers: dict[str, Any]) -> None:
    work: Path = leftovers["work"]
    places = [work / "console.log", work / "dsshare-debug.log",
              *work.rglob("audit.jsonl"), *work.rglob("audit.intents.jsonl")]  # fmt: skip
    assert len(places) >= 6
    debug = (work / "dsshare-debug.log").read_text()
    assert "ShareDirectory" in debug  # the library did log at DEBUG
    for place in places:
        assert NOTES not in place.read_text(), place
    assert "4242" not in debug


def test_share_notes_stay_out_of_every_run_folder_and_report(leftovers: dict[str, Any]) -> None:
    _, leaks = scan_paths([leftovers["work"]], NEEDLE)
    assert [leak for leak in leaks if leak.what == "ShareNotes text"] == []


def test_a_credential_pasted_into_a_parameter_is_not_echoed_back() -> None:
    from dsshare.errors import ParameterError

    for value in (PLANTED["aws_access_key_id"], PLANTED["aws_secret_access_key"],
                  PLANTED["aws_session_token"], "ASIAQWERTYUIOPASDFGH"):  # fmt: skip
        err = ParameterError("region", value, "a Region")
        assert value not in str(err) and "looks like an AWS credential" in str(err)
        assert err.value == value  # kept whole for the caller
    long = ParameterError("notes", "y" * 5000, "short text")
    assert len(str(long)) < 400 and "5002 characters" in str(long)
