"""The same safety guarantees on every entry point: one contract matrix.

Entry points: the library verbs, ``dsshare run <runbook>`` (a subprocess, as an operator
runs it), and the console's service layer (:class:`LibraryServices`, what its buttons
call). Guarantees: the guardrails refuse what the policy says before any AWS call for that
account; accepting from an owner outside the organization needs an explicit allow; a
write-ahead audit line precedes each mutating call; every mutating entry point is a dry run
or needs the reviewed fingerprint; a timeout gives failed rows naming the pending accounts;
a call whose answer is lost after retries is recorded ``in_doubt`` and a rerun resolves it;
ShareNotes and credentials appear in no output. Every check reads what the sandbox served
(its request log), not what the library says it did.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from botocore.exceptions import (
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from dsshare import sharing
from dsshare.audit import AuditLog
from dsshare.connection import Connection
from dsshare.errors import (
    PlanMismatchError,
    PreflightError,
    WaitTimeoutError,
    from_client_error,
)
from dsshare.planning import plan
from dsshare.sandbox import Sandbox
from dsshare.widgets.services import Invitation, LibraryServices

REPO = Path(__file__).resolve().parents[1]
MUTATING = {
    "ShareDirectory", "UnshareDirectory", "AcceptSharedDirectory", "RejectSharedDirectory",
    "DeleteDirectory",
}  # fmt: skip
ENTRY_POINTS = ["library", "dsshare run", "console"]
PARTNER = "999900000001"


# -- helpers ---------------------------------------------------------------------------------


def mutating_calls(sb: Sandbox) -> list[dict[str, Any]]:
    """Mutating calls the sandbox served or answered, oldest first."""
    return [e for e in sb.request_log if e["service"] == "ds" and e["operation"] in MUTATING]


def dsshare_run(runbook: str, folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dsshare.cli", "run", runbook, *args, "--out", str(folder)],
        env=dict(os.environ), capture_output=True, text=True, timeout=300, cwd=REPO, check=False,
    )  # fmt: skip


def run_results(folder: Path) -> pd.DataFrame:
    return pd.DataFrame(json.loads((folder / "results.json").read_text()), dtype=object)


def policy_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **rules: Any) -> Path:
    path = tmp_path / "guardrails.yaml"
    path.write_text(json.dumps({"version": 1, **rules}))  # JSON is YAML; ids stay text
    monkeypatch.setenv("DSSHARE_GUARDRAILS", str(path))
    return path


def pending_invitation(sb: Sandbox, account: str, owner_directory: str) -> Invitation:
    services = LibraryServices(Connection())
    found = [i for i in services.invitations([account]) if i.owner_directory_id == owner_directory]
    assert found, f"no invitation of {owner_directory} in {account}"
    return found[0]


@pytest.fixture
def tmp_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in tmp_path, so a console audit folder lands there."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


# -- 1. guardrails refuse, with no AWS call for the account ----------------------------------

#: action -> (policy rule, account name, how the sandbox's demo world holds it)
GUARDED = {
    "share": ("denied_accounts", "network"),  # network holds no share of global.example.com
    "accept": ("denied_accounts", "dev-app2"),  # dev-app2: services.example.com pending
    "reject": ("protected_accounts", "dev-app2"),
    "leave": ("protected_accounts", "prod-data"),  # prod-data: services.example.com Shared
    "unshare": ("protected_accounts", "prod-app1"),  # prod-app1: corp.example.com Shared
}


def _guarded_library(sb: Sandbox, action: str, account: str) -> pd.DataFrame:
    conn = Connection()
    services_owner = sb.account_id("shared-services")
    services = sb.directory_id("services.example.com")
    if action == "share":
        return sharing.share(conn, sb.directory_id("global.example.com"), [account], progress=False)
    if action in ("accept", "reject"):
        return sharing.respond(conn, [account], action, owner_account_ids=[services_owner],
                               regions=["us-east-1"], progress=False)  # fmt: skip
    if action == "leave":
        return sharing.leave(conn, services, [account], owner_account_id=services_owner,
                             progress=False)  # fmt: skip
    return sharing.unshare(conn, sb.directory_id("corp.example.com"), [account], progress=False)


def _guarded_run(sb: Sandbox, action: str, account: str, folder: Path) -> pd.DataFrame:
    apply = ("-p", "dry_run", "false")
    if action == "share":
        args = ["share_directory", "-p", "directory_id", sb.directory_id("global.example.com"),
                "-p", "targets", f'["{account}"]', *apply]  # fmt: skip
    elif action in ("accept", "reject"):
        args = ["respond_to_invitations", "-p", "accounts", f'["{account}"]', "-p", "action",
                action, "-p", "regions", "[us-east-1]", *apply]  # fmt: skip
    elif action == "unshare":
        args = ["unshare_directory", "-p", "directory_id", sb.directory_id("corp.example.com"),
                "-p", "targets", f'["{account}"]', *apply]  # fmt: skip
    else:
        pytest.skip("no runbook leaves a share (leave is a library verb)")
    done = dsshare_run(args[0], folder, *args[1:])
    assert done.returncode == 1, done.stdout + done.stderr[-2000:]  # refused rows fail the run
    assert account in done.stdout + done.stderr
    return run_results(folder)


def _guarded_console(sb: Sandbox, action: str, account: str) -> pd.DataFrame:
    services = LibraryServices(Connection())
    if action == "share":
        the_plan = services.plan(sb.directory_id("global.example.com"), [account], "HANDSHAKE",
                                 "", False)  # fmt: skip
        return services.apply(the_plan, the_plan.fingerprint)
    if action in ("accept", "reject"):
        invitation = pending_invitation(sb, account, sb.directory_id("services.example.com"))
        with pytest.raises(PreflightError) as refused:
            services.respond(invitation, accept=action == "accept")
        (refusal,) = refused.value.refusals
        return pd.DataFrame([{"account_id": refusal[0], "outcome": "failed", "error_code": refusal[1]}])
    if action == "unshare":
        return services.unshare(sb.directory_id("corp.example.com"), [account])
    pytest.skip("the console has no leave button")


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("action", list(GUARDED))
def test_guardrails_refuse_an_account_as_the_policy_says_before_any_call(
    aws_env: Sandbox, tmp_path: Path, tmp_cwd: Path, monkeypatch: pytest.MonkeyPatch,
    entry: str, action: str,
) -> None:
    rule, name = GUARDED[action]
    account = aws_env.account_id(name)
    policy_file(tmp_path, monkeypatch, **{rule: [account]})
    aws_env.clear_request_log()
    if entry == "library":
        frame = _guarded_library(aws_env, action, account)
    elif entry == "dsshare run":
        frame = _guarded_run(aws_env, action, account, tmp_path / "run")
    else:
        frame = _guarded_console(aws_env, action, account)
    mine = frame[frame["account_id"] == account]
    check = {"denied_accounts": "GuardrailDeniedAccount", "protected_accounts": "GuardrailProtectedAccount"}[rule]
    assert list(mine["outcome"]) == ["failed"] and list(mine["error_code"]) == [check], mine.to_dict("records")
    assert mutating_calls(aws_env) == []


# -- 2. accepting from an owner outside the organization needs an explicit allow -------------


def _share_from_partner(sb: Sandbox, aws: Any, account: str) -> str:
    directory = sb.add_directory(PARTNER, "us-east-1", "partner.example.com", "Standard")
    aws("ds", account_id=PARTNER).share_directory(
        DirectoryId=directory, ShareTarget={"Id": account, "Type": "ACCOUNT"},
        ShareMethod="HANDSHAKE", ShareNotes="partner forest",
    )  # fmt: skip
    return directory


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_accepting_from_an_outside_owner_needs_the_explicit_allow(
    aws_env: Sandbox, aws: Any, tmp_path: Path, tmp_cwd: Path, entry: str
) -> None:
    network = aws_env.account_id("network")
    directory = _share_from_partner(aws_env, aws, network)
    aws_env.clear_request_log()
    for allow in (False, True):
        if entry == "library":
            frame = sharing.respond(Connection(), [network], "accept", regions=["us-east-1"],
                                    allow_external_owners=allow, progress=False, timeout=30)  # fmt: skip
            outcome, code = frame.iloc[0]["outcome"], frame.iloc[0]["error_code"]
        elif entry == "dsshare run":
            folder = tmp_path / f"run-{allow}"
            done = dsshare_run("respond_to_invitations", folder, "-p", "accounts", f'["{network}"]',
                               "-p", "action", "accept", "-p", "regions", "[us-east-1]",
                               "-p", "allow_external_owners", str(allow).lower(),
                               "-p", "dry_run", "false")  # fmt: skip
            assert done.returncode == (0 if allow else 1), done.stdout + done.stderr[-2000:]
            row = run_results(folder).iloc[0]
            outcome, code = row["outcome"], row["error_code"]
        else:
            services = LibraryServices(Connection(), allow_external_owners=allow)
            invitation = pending_invitation(aws_env, network, directory)
            try:
                after = services.respond(invitation, accept=True)
                outcome, code = ("done", None) if after.status == "Shared" else ("failed", after.status)
            except PreflightError as err:
                outcome, code = "failed", err.refusals[0][1]
        accepted = [c for c in mutating_calls(aws_env) if c["operation"] == "AcceptSharedDirectory"]
        if allow:
            assert (outcome, code) == ("done", None)
            assert [c["account_id"] for c in accepted] == [network]
        else:
            assert (outcome, code) == ("failed", "ExternalOwner")
            assert accepted == []


# -- 3. a write-ahead audit line precedes each mutating call ---------------------------------


def _parse(stamp: str) -> float:
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_a_write_ahead_audit_line_precedes_each_mutating_call(
    aws_env: Sandbox, tmp_path: Path, tmp_cwd: Path, entry: str
) -> None:
    glob = aws_env.directory_id("global.example.com")
    targets = [aws_env.account_id("network"), aws_env.account_id("log-archive")]
    dev_app2 = aws_env.account_id("dev-app2")
    audit_path = tmp_path / "audit" / "audit.jsonl"
    aws_env.clear_request_log()
    if entry == "library":
        with AuditLog(audit_path) as audit:
            sharing.share(Connection(), glob, targets, audit=audit, progress=False)
            sharing.respond(Connection(), [dev_app2], "accept", regions=["us-east-1"],
                            audit=audit, progress=False)  # fmt: skip
    elif entry == "dsshare run":
        done = dsshare_run("share_directory", tmp_path / "run", "-p", "directory_id", glob,
                           "-p", "targets", json.dumps(targets), "-p", "dry_run", "false")  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr[-2000:]
        done = dsshare_run("respond_to_invitations", tmp_path / "run2", "-p", "accounts",
                           f'["{dev_app2}"]', "-p", "action", "accept", "-p", "regions",
                           "[us-east-1]", "-p", "dry_run", "false")  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    else:
        services = LibraryServices(Connection(), audit=AuditLog(audit_path))
        the_plan = services.plan(glob, targets, "HANDSHAKE", "", False)
        services.apply(the_plan, the_plan.fingerprint)
        invitation = pending_invitation(aws_env, dev_app2, aws_env.directory_id("services.example.com"))
        services.respond(invitation, accept=True)
    _assert_an_intent_precedes_each_call(aws_env, tmp_path)


def test_the_library_writes_the_audit_even_when_the_caller_gives_no_log(
    aws_env: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSSHARE_RUNS_DIR", str(tmp_path / "runs"))
    glob = aws_env.directory_id("global.example.com")
    targets = [aws_env.account_id("network"), aws_env.account_id("log-archive")]
    aws_env.clear_request_log()
    sharing.share(Connection(), glob, targets, progress=False)
    sharing.respond(Connection(), [aws_env.account_id("dev-app2")], "accept",
                    regions=["us-east-1"], progress=False)  # fmt: skip
    assert len(list((tmp_path / "runs").glob("*-library/audit.jsonl"))) == 2
    _assert_an_intent_precedes_each_call(aws_env, tmp_path)


def _assert_an_intent_precedes_each_call(sb: Sandbox, root: Path) -> None:
    intents: list[dict[str, Any]] = []
    for path in sorted(root.rglob("audit.intents.jsonl")):
        intents += [json.loads(line) for line in path.read_text().splitlines()]
    calls = mutating_calls(sb)
    assert sorted(c["operation"] for c in calls) == sorted(
        ["ShareDirectory", "ShareDirectory", "AcceptSharedDirectory"]
    )
    assert len(intents) == len(calls)
    for call in calls:
        # The intent for this call (same operation and account) was written before it was served.
        matching = [i for i in intents if i["operation"] == call["operation"]
                    and i["account_id"] == call["account_id"] and _parse(i["time"]) <= call["time"]]  # fmt: skip
        assert matching, call


# -- 4. every mutating entry point is a dry run or needs the reviewed fingerprint -------------


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_nothing_changes_without_a_dry_run_review_or_the_fingerprint(
    aws_env: Sandbox, aws: Any, tmp_path: Path, tmp_cwd: Path, entry: str
) -> None:
    glob = aws_env.directory_id("global.example.com")
    network = aws_env.account_id("network")
    aws_env.clear_request_log()
    if entry == "dsshare run":
        # Every mutating runbook, run with its sandbox parameters and no dry_run override.
        for runbook in ("share_directory", "unshare_directory", "respond_to_invitations",
                        "reconcile_shares"):  # fmt: skip
            params = REPO / "parameters" / f"{runbook}.sandbox.yaml"
            done = dsshare_run(runbook, tmp_path / runbook, "-f", str(params), "-p", "dry_run", "true")
            assert done.returncode == 0, done.stdout + done.stderr[-2000:]
            assert set(run_results(tmp_path / runbook)["outcome"]) <= {"planned", "skipped"}
            # the runbooks' own default is a dry run too
            assert "dry_run: true" in params.read_text()
        assert mutating_calls(aws_env) == []
        return
    conn = Connection()
    reviewed = plan(conn, glob, [network])
    # Live state changes after the review: the reviewed fingerprint no longer matches.
    aws("ds").share_directory(DirectoryId=glob, ShareTarget={"Id": aws_env.account_id("log-archive"),
                              "Type": "ACCOUNT"}, ShareMethod="HANDSHAKE")  # fmt: skip
    reviewed = type(reviewed)(reviewed.requests, reviewed.rows, reviewed.fingerprint)
    other = plan(conn, glob, [network, aws_env.account_id("log-archive")])
    aws_env.clear_request_log()
    with pytest.raises(PlanMismatchError):
        if entry == "library":
            from dsshare.execution import apply

            apply(conn, other, expected_fingerprint=reviewed.fingerprint, progress=False)
        else:
            LibraryServices(conn).apply(other, reviewed.fingerprint)
    assert mutating_calls(aws_env) == []
    dry = sharing.share(conn, glob, [network], dry_run=True)
    assert list(dry["outcome"]) == ["planned"] and mutating_calls(aws_env) == []


# -- 5. a timeout gives failed rows naming the pending accounts ------------------------------


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_a_timeout_gives_failed_rows_naming_the_pending_accounts(
    aws_env: Sandbox, tmp_path: Path, tmp_cwd: Path, entry: str
) -> None:
    glob = aws_env.directory_id("global.example.com")
    targets = [aws_env.account_id("network"), aws_env.account_id("log-archive")]
    aws_env.set_transition_delay(30.0)  # shares stay Sharing well past the timeout
    if entry == "library":
        with pytest.raises(WaitTimeoutError) as caught:
            sharing.share(Connection(), glob, targets, timeout=1.0, progress=False)
        frame, text = caught.value.results, str(caught.value)
    elif entry == "dsshare run":
        done = dsshare_run("share_directory", tmp_path / "run", "-p", "directory_id", glob,
                           "-p", "targets", json.dumps(targets), "-p", "dry_run", "false",
                           "-p", "wait_timeout_minutes", "0.02")  # fmt: skip
        assert done.returncode == 1, done.stdout + done.stderr[-2000:]
        frame, text = run_results(tmp_path / "run"), done.stdout + done.stderr
    else:
        services = LibraryServices(Connection(), settle_timeout=1.0)
        the_plan = services.plan(glob, targets, "HANDSHAKE", "", False)
        with pytest.raises(WaitTimeoutError) as caught:
            from dsshare.execution import apply

            apply(services.conn, the_plan, expected_fingerprint=the_plan.fingerprint,
                  audit=services.audit, timeout=1.0, progress=False)  # fmt: skip
        frame, text = caught.value.results, str(caught.value)
    assert isinstance(frame, pd.DataFrame)
    assert set(frame["account_id"]) == set(targets)
    assert set(frame["outcome"]) == {"failed"} and set(frame["error_code"]) == {"WaitTimeout"}
    for account in targets:
        assert account in text


def test_a_consumer_side_timeout_has_the_same_contract(aws_env: Sandbox) -> None:
    aws_env.set_transition_delay(30.0)
    dev_app2 = aws_env.account_id("dev-app2")
    with pytest.raises(WaitTimeoutError) as caught:
        # (the sandbox accepts at once; a reject passes through Rejecting)
        sharing.respond(Connection(), [dev_app2], "reject", regions=["us-east-1"], timeout=1.0,
                        progress=False)  # fmt: skip
    frame = caught.value.results
    assert list(frame["outcome"]) == ["failed"] and list(frame["error_code"]) == ["WaitTimeout"]
    assert dev_app2 in str(caught.value)


def test_a_long_list_of_pending_accounts_is_cut_to_ten() -> None:
    err = WaitTimeoutError({f"2000000000{i:02d}": "Sharing" for i in range(25)}, 60.0)
    assert "and 15 more" in str(err) and str(err).count("(Sharing)") == 10
    refused = PreflightError([(f"2000000000{i:02d}", "X", "why") for i in range(12)])
    assert "and 2 more" in str(refused)


# -- 6. a call whose answer is lost is in doubt, and a rerun resolves it ---------------------


class DroppingProxy:
    """An HTTP proxy in front of the sandbox that forwards the first ShareDirectory and then
    closes the connection without an answer, for that request and its retries: the call
    landed, the caller cannot know."""

    def __init__(self, upstream: str) -> None:
        host_port = upstream.split("://", 1)[1].rstrip("/")
        self.host, port = host_port.rsplit(":", 1)
        self.port = int(port)
        self.forwarded = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                target = self.headers.get("X-Amz-Target", "")
                if target.endswith(".ShareDirectory"):
                    if proxy.forwarded == 0:
                        proxy.forwarded += 1
                        proxy.forward(self, body, answer=False)
                    self.close_connection = True
                    self.connection.close()
                    return
                proxy.forward(self, body, answer=True)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def forward(self, handler: BaseHTTPRequestHandler, body: bytes, *, answer: bool) -> None:
        upstream = http.client.HTTPConnection(self.host, self.port, timeout=30)
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in ("host", "connection")}
        upstream.request(handler.command, handler.path, body=body, headers=headers)
        response = upstream.getresponse()
        payload = response.read()
        upstream.close()
        if not answer:
            return
        handler.send_response(response.status)
        for key, value in response.getheaders():
            if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def __enter__(self) -> DroppingProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def one_retry(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Connection]:
    """Connections that give up after 2 attempts (botocore's retries, made quick)."""

    def make(endpoint_url: str | None = None) -> Connection:
        return Connection(max_attempts=2, endpoint_url=endpoint_url)

    return make


@pytest.mark.parametrize("entry", ["library", "console"])
def test_a_server_error_after_retries_is_in_doubt_and_a_rerun_completes_it(
    aws_env: Sandbox, tmp_path: Path, tmp_cwd: Path, one_retry: Callable[..., Connection], entry: str
) -> None:
    glob = aws_env.directory_id("global.example.com")
    network = aws_env.account_id("network")
    aws_env.add_fault("ShareDirectory", code="ServiceException")
    audit = AuditLog(tmp_path / "audit.jsonl")
    if entry == "library":
        first = sharing.share(one_retry(), glob, [network], audit=audit, progress=False)
    else:
        services = LibraryServices(one_retry(), audit=audit)
        the_plan = services.plan(glob, [network], "HANDSHAKE", "", False)
        first = services.apply(the_plan, the_plan.fingerprint)
    row = first.iloc[0]
    assert (row["outcome"], row["error_code"]) == ("in_doubt", "ServiceException")
    assert "run the same plan again" in row["message"]
    assert [line["outcome"] for line in audit.read()] == ["in_doubt"]
    aws_env.clear_faults()
    again = sharing.share(one_retry(), glob, [network], audit=audit, progress=False)
    assert (again.iloc[0]["outcome"], again.iloc[0]["share_status"]) == ("done", "PendingAcceptance")


def test_a_connection_dropped_after_the_call_landed_is_in_doubt_and_a_rerun_skips_it(
    aws_env: Sandbox, tmp_path: Path, one_retry: Callable[..., Connection]
) -> None:
    glob = aws_env.directory_id("global.example.com")
    network = aws_env.account_id("network")
    audit = AuditLog(tmp_path / "audit.jsonl")
    with DroppingProxy(aws_env.endpoint_url) as proxy:
        first = sharing.share(one_retry(proxy.url), glob, [network], audit=audit, progress=False)
    row = first.iloc[0]
    assert row["outcome"] == "in_doubt", row.to_dict()
    assert proxy.forwarded == 1  # it did land
    assert [line["outcome"] for line in audit.read()] == ["in_doubt"]
    again = sharing.share(one_retry(), glob, [network], progress=False)
    assert (again.iloc[0]["outcome"], again.iloc[0]["message"]) == ("skipped", "already PendingAcceptance")


def test_a_call_never_sent_stays_failed_and_a_lost_answer_is_in_doubt() -> None:
    never_sent = [EndpointConnectionError(endpoint_url="http://127.0.0.1:9"),
                  ConnectTimeoutError(endpoint_url="http://127.0.0.1:9")]  # fmt: skip
    assert [from_client_error(e, "ShareDirectory").in_doubt for e in never_sent] == [False, False]
    lost = from_client_error(ReadTimeoutError(endpoint_url="http://127.0.0.1:9"), "ShareDirectory")
    assert lost.in_doubt and "run the same plan again" in str(lost)


# -- 7. ShareNotes and credentials appear in no output ---------------------------------------


def _texts(folder: Path) -> Iterator[str]:
    for path in folder.rglob("*"):
        if path.is_file():
            yield path.read_text(errors="replace")


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_sharenotes_and_credentials_appear_in_no_output(
    aws_env: Sandbox, tmp_path: Path, tmp_cwd: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str], entry: str,
) -> None:
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + uuid.uuid4().hex[:10]
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    notes = f"notes-{uuid.uuid4().hex}"
    glob = aws_env.directory_id("global.example.com")
    network = aws_env.account_id("network")
    caplog.set_level("DEBUG", logger="dsshare")  # what dsshare logs (not botocore's wire dump)
    if entry == "library":
        with AuditLog(tmp_path / "out" / "audit.jsonl") as audit:
            frame = sharing.share(Connection(), glob, [network], notes=notes, audit=audit)
        shown = frame.to_string()
    elif entry == "dsshare run":
        done = dsshare_run("share_directory", tmp_path / "out", "-p", "directory_id", glob,
                           "-p", "targets", f'["{network}"]', "-p", "notes", notes,
                           "-p", "dry_run", "false")  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr[-2000:]
        shown = done.stdout + done.stderr
    else:
        services = LibraryServices(Connection(), audit=AuditLog(tmp_path / "out" / "audit.jsonl"))
        the_plan = services.plan(glob, [network], "HANDSHAKE", notes, False)
        shown = services.apply(the_plan, the_plan.fingerprint).to_string() + the_plan.to_frame().to_string()
    assert (tmp_path / "out" / "audit.jsonl").is_file()
    captured = capfd.readouterr()
    outputs = [shown, caplog.text, captured.out, captured.err, *_texts(tmp_path)]
    for text in outputs:
        assert notes not in text
        assert secret not in text
