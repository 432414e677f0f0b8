"""The AWS CLI driving ``dsshare sandbox`` as a user would: only the printed exports.

One ``dsshare sandbox --port 0 --seed demo --manifest m.json`` process serves the
module; every ``aws`` call is a subprocess whose environment holds nothing but
PATH, a scratch HOME and the export lines the sandbox printed (plus the assumed-role
credentials where the consumer acts).
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dsshare.cli import main
from dsshare.sandbox import Sandbox
from dsshare.sandbox.control import ControlClient

BIN = Path(sys.executable).parent
DSSHARE = str(BIN / "dsshare")
AWS = str(BIN / "aws")
EXPORT = re.compile(r"^\s*export (AWS_[A-Z_]+)=(\S+)$")


@dataclass
class Running:
    process: subprocess.Popen[str]
    lines: list[str]
    exports: dict[str, str]
    manifest: dict[str, Any]
    home: Path
    queue: queue.Queue[str | None]


def launch(tmp: Path, *args: str) -> tuple[subprocess.Popen[str], queue.Queue[str | None], Path]:
    """Start ``dsshare sandbox`` with a scratch HOME; its stdout lines go to a queue."""
    manifest_path = tmp / "m.json"
    process = subprocess.Popen(
        [DSSHARE, "sandbox", "--port", "0", "--manifest", str(manifest_path), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"PATH": os.environ["PATH"], "HOME": str(tmp)},
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return process, lines, manifest_path


def ready(
    process: subprocess.Popen[str], lines: queue.Queue[str | None], manifest_path: Path
) -> Running:
    """Read stdout up to 'Stop with Ctrl-C.' and parse the export lines."""
    seen: list[str] = []
    deadline = time.monotonic() + 60
    while not seen or seen[-1] != "Stop with Ctrl-C.":
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            process.kill()
            raise AssertionError(
                f"dsshare sandbox printed no 'Stop with Ctrl-C.' in 60 s: {seen}"
            ) from None
        if line is None:
            raise AssertionError(
                f"dsshare sandbox exited early ({process.wait()}): {seen}\n"
                f"{process.stderr.read() if process.stderr else ''}"
            )
        seen.append(line)
    exports = dict(m.groups() for m in map(EXPORT.match, seen) if m)
    return Running(
        process, seen, exports, json.loads(manifest_path.read_text()), manifest_path.parent, lines
    )


def start(tmp: Path, *args: str) -> Running:
    return ready(*launch(tmp, *args))


def stop(running: Running, sig: int = signal.SIGTERM) -> tuple[int, list[str]]:
    running.process.send_signal(sig)
    code = running.process.wait(timeout=30)
    rest: list[str] = []
    while (line := running.queue.get(timeout=10)) is not None:
        rest.append(line)
    return code, rest


@pytest.fixture(scope="module")
def cli_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = start(tmp_path_factory.mktemp("cli-sandbox"), "--seed", "demo")
    yield running
    if running.process.poll() is None:
        running.process.terminate()
        running.process.wait(timeout=30)


@pytest.fixture
def cli(cli_sandbox: Running) -> Running:
    """The CLI-started sandbox, reset to its demo world through the control endpoint."""
    control = ControlClient(cli_sandbox.exports["AWS_ENDPOINT_URL"], timeout=10)
    assert control.post("reset") == {"reset": True}
    return cli_sandbox


def aws(
    running: Running, *args: str, credentials: dict[str, str] | None = None, ok: bool = True
) -> Any:
    """Run ``aws <args> --output json`` with only the printed exports; return parsed JSON or stderr."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(running.home),
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
        **running.exports,
    }
    if credentials:
        env.update(
            AWS_ACCESS_KEY_ID=credentials["AccessKeyId"],
            AWS_SECRET_ACCESS_KEY=credentials["SecretAccessKey"],
            AWS_SESSION_TOKEN=credentials["SessionToken"],
        )
    done = subprocess.run(
        [AWS, *args, "--output", "json"], env=env, capture_output=True, text=True, timeout=60
    )
    if ok:
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else {}
    assert done.returncode != 0, done.stdout
    return done.stderr


def account(running: Running, name: str) -> str:
    everyone = running.manifest["accounts"] + running.manifest["external_accounts"]
    return str(next(a["id"] for a in everyone if a["name"].split(" ")[0] == name))


def directory(running: Running, name: str) -> str:
    return str(next(d["id"] for d in running.manifest["directories"] if d["name"] == name))


def owner_status(running: Running, directory_id: str, shared_id: str, until: str) -> list[str]:
    """Poll describe-shared-directories until ``until``; return the statuses seen."""
    seen: list[str] = []
    deadline = time.monotonic() + 30
    while not seen or seen[-1] != until:
        assert time.monotonic() < deadline, seen
        [record] = aws(
            running,
            "ds",
            "describe-shared-directories",
            "--owner-directory-id",
            directory_id,
            "--shared-directory-ids",
            shared_id,
        )["SharedDirectories"]
        if not seen or seen[-1] != record["ShareStatus"]:
            seen.append(record["ShareStatus"])
    return seen


def assume(running: Running, account_id: str) -> dict[str, str]:
    answer = aws(
        running,
        "sts",
        "assume-role",
        "--role-arn",
        f"arn:aws:iam::{account_id}:role/{running.manifest['role_name']}",
        "--role-session-name",
        "dsshare-cli",
    )
    assert answer["AssumedRoleUser"]["Arn"].startswith(f"arn:aws:sts::{account_id}:assumed-role/")
    return dict(answer["Credentials"])


# -- the command itself -----------------------------------------------------------------


def test_help_documents_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    """``dsshare sandbox --help``, in-process (the console script itself runs in cli_sandbox)."""
    with pytest.raises(SystemExit) as excinfo:
        main(["sandbox", "--help"])
    assert excinfo.value.code == 0
    out = capsys.readouterr().out
    for option in (
        "--host",
        "--port",
        "--seed",
        "--accounts",
        "--regions",
        "--directories",
        "--shares",
        "--latency-ms",
        "--jitter-ms",
        "--transition-delay",
        "--manifest",
        "--log-requests",
    ):
        assert option in out, option
    assert "127.0.0.1" in out and "{demo,empty,scale}" in out


@pytest.mark.parametrize(
    "args, complaint",
    [
        (["--port", "-1"], "must be >= 0"),
        (["--seed", "galaxy"], "invalid choice: 'galaxy'"),
        (["--regions", ","], "--regions needs at least one Region"),
        (["--transition-delay", "soon"], "expected a number"),
    ],
)
def test_bad_options_exit_2_with_a_reason(
    capsys: pytest.CaptureFixture[str], args: list[str], complaint: str
) -> None:
    with pytest.raises(SystemExit) as excinfo:
        main(["sandbox", *args])
    assert excinfo.value.code == 2
    assert complaint in capsys.readouterr().err


def test_a_port_in_use_exits_2_and_leaves_other_sandboxes_alone(
    capsys: pytest.CaptureFixture[str], sb: Sandbox, aws
) -> None:
    taken = int(sb.endpoint_url.rsplit(":", 1)[1])  # the session sandbox's own port
    assert main(["sandbox", "--port", str(taken), "--seed", "empty"]) == 2
    assert "dsshare sandbox: [Errno 98] Address already in use" in capsys.readouterr().err
    # the session sandbox still serves its demo world
    assert len(aws("ds").describe_directories()["DirectoryDescriptions"]) == 3


def test_impossible_sizes_exit_2_before_serving(
    capsys: pytest.CaptureFixture[str], sb: Sandbox
) -> None:
    assert main(["sandbox", "--port", "0", "--seed", "scale", "--accounts", "1"]) == 2
    assert "dsshare sandbox: the scale seed needs at least 2 accounts" in capsys.readouterr().err


def test_it_prints_the_endpoint_exports_and_writes_the_manifest(cli: Running, sb: Sandbox) -> None:
    endpoint = cli.exports["AWS_ENDPOINT_URL"]
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", endpoint)
    assert cli.lines[0] == f"dsshare sandbox (demo seed) listening on {endpoint}"
    assert set(cli.exports) == {
        "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_DEFAULT_REGION",
    }
    assert cli.exports["AWS_DEFAULT_REGION"] == "us-east-1"
    assert cli.manifest["endpoint_url"] == endpoint
    # the same seed gives the same ids in another process
    for key in ("organization_id", "accounts", "ous", "directories", "shares"):
        assert cli.manifest[key] == sb.manifest[key], key


def test_it_binds_loopback_only_by_default(cli: Running) -> None:
    port = int(cli.exports["AWS_ENDPOINT_URL"].rsplit(":", 1)[1])
    listening = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, hex_port = local.split(":")
        if int(hex_port, 16) == port and state == "0A":  # LISTEN
            listening.append(address)
    assert listening == ["0100007F"]  # 127.0.0.1, little-endian


# -- a HANDSHAKE round trip ---------------------------------------------------------------


def test_handshake_share_accept_describe_unshare_round_trip(cli: Running) -> None:
    corp = directory(cli, "corp.example.com")
    bob = account(cli, "sandbox-bob")

    shared_id = aws(
        cli,
        "ds",
        "share-directory",
        "--directory-id",
        corp,
        "--share-target",
        f"Id={bob},Type=ACCOUNT",
        "--share-method",
        "HANDSHAKE",
        "--share-notes",
        "Please join corp",
    )["SharedDirectoryId"]
    assert re.fullmatch(r"d-[0-9a-f]{10}", shared_id)
    assert owner_status(cli, corp, shared_id, "PendingAcceptance")[-1] == "PendingAcceptance"

    consumer = assume(cli, bob)
    [view] = aws(cli, "ds", "describe-directories", credentials=consumer)["DirectoryDescriptions"]
    assert (view["DirectoryId"], view["Type"], view["ShareStatus"], view["ShareNotes"]) == (
        shared_id,
        "SharedMicrosoftAD",
        "PendingAcceptance",
        "Please join corp",
    )
    assert view["OwnerDirectoryDescription"]["DirectoryId"] == corp

    accepted = aws(
        cli,
        "ds",
        "accept-shared-directory",
        "--shared-directory-id",
        shared_id,
        credentials=consumer,
    )["SharedDirectory"]
    assert (
        accepted["SharedDirectoryId"],
        accepted["ShareStatus"],
        accepted["SharedAccountId"],
    ) == (shared_id, "Shared", bob)

    records = aws(cli, "ds", "describe-shared-directories", "--owner-directory-id", corp)[
        "SharedDirectories"
    ]
    assert {r["SharedDirectoryId"]: r["ShareStatus"] for r in records}[shared_id] == "Shared"

    unshared = aws(
        cli,
        "ds",
        "unshare-directory",
        "--directory-id",
        corp,
        "--unshare-target",
        f"Id={bob},Type=ACCOUNT",
    )
    assert unshared["SharedDirectoryId"] == shared_id
    assert owner_status(cli, corp, shared_id, "Deleted")[-1] == "Deleted"
    assert (
        aws(cli, "ds", "describe-directories", credentials=consumer)["DirectoryDescriptions"] == []
    )


def test_organizations_share_needs_no_acceptance(cli: Running) -> None:
    corp = directory(cli, "corp.example.com")
    network = account(cli, "network")

    shared_id = aws(
        cli,
        "ds",
        "share-directory",
        "--directory-id",
        corp,
        "--share-target",
        f"Id={network},Type=ACCOUNT",
        "--share-method",
        "ORGANIZATIONS",
    )["SharedDirectoryId"]

    assert owner_status(cli, corp, shared_id, "Shared")[-1] == "Shared"
    [view] = aws(cli, "ds", "describe-directories", credentials=assume(cli, network))[
        "DirectoryDescriptions"
    ]
    assert (view["DirectoryId"], view["ShareMethod"], view["ShareStatus"]) == (
        shared_id,
        "ORGANIZATIONS",
        "Shared",
    )


def test_paginated_listing_through_the_cli(cli: Running) -> None:
    services = directory(cli, "services.example.com")
    owner = assume(cli, account(cli, "shared-services"))
    records = aws(
        cli,
        "ds",
        "describe-shared-directories",
        "--owner-directory-id",
        services,
        "--page-size",
        "1",
        credentials=owner,
    )["SharedDirectories"]
    assert len(records) == 4 == len({r["SharedDirectoryId"] for r in records})


# -- AWS error codes for bad input ---------------------------------------------------------


def share_args(directory_id: str, target: str, method: str = "HANDSHAKE") -> list[str]:
    return [
        "ds",
        "share-directory",
        "--directory-id",
        directory_id,
        "--share-target",
        f"Id={target},Type=ACCOUNT",
        "--share-method",
        method,
    ]


def failures(cli: Running, calls: dict[str, list[str]]) -> dict[str, str]:
    """Run failing ``aws`` calls side by side (each is a ~0.5 s process); return their stderr."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(aws, cli, *args, ok=False) for name, args in calls.items()}
        return {name: str(future.result()) for name, future in futures.items()}


def test_bad_input_gets_aws_error_codes_and_messages(cli: Running) -> None:
    corp = directory(cli, "corp.example.com")
    management = cli.manifest["management_account_id"]
    operation = "when calling the ShareDirectory operation"

    stderr = failures(
        cli,
        {
            "pattern": share_args("d-NOTVALID", "200000000011"),
            "self": share_args(corp, management),
            "malformed": share_args(corp, "12345"),
            "again": share_args(corp, account(cli, "prod-app1"), "ORGANIZATIONS"),
            "outside": share_args(corp, account(cli, "partner"), "ORGANIZATIONS"),
            "method": share_args(corp, "200000000011", "EMAIL"),
            "simple": [
                "ds",
                "describe-shared-directories",
                "--owner-directory-id",
                directory(cli, "legacy.example.com"),
            ],
            "unknown": [
                "ds",
                "describe-shared-directories",
                "--owner-directory-id",
                "d-0000000000",
            ],
            "unshared": [
                "ds",
                "unshare-directory",
                "--directory-id",
                corp,
                "--unshare-target",
                "Id=200000000011,Type=ACCOUNT",
            ],
        },
    )

    assert f"An error occurred (InvalidParameterException) {operation}" in stderr["pattern"]
    assert "Value 'd-NOTVALID' at 'DirectoryId' failed to satisfy constraint" in stderr["pattern"]
    assert f"(InvalidTargetException) {operation}" in stderr["self"]
    assert f"cannot be shared with its owner account {management}" in stderr["self"]
    assert "(InvalidTargetException)" in stderr["malformed"] and "12 digits" in stderr["malformed"]
    assert f"(DirectoryAlreadySharedException) {operation}" in stderr["again"]
    assert "(OrganizationsException)" in stderr["outside"] and "not a member" in stderr["outside"]
    assert "(InvalidParameterException)" in stderr["method"] and "ShareMethod" in stderr["method"]
    assert (
        "(UnsupportedOperationException) when calling the DescribeSharedDirectories operation"
        in stderr["simple"]
    )
    assert (
        "(EntityDoesNotExistException)" in stderr["unknown"] and "d-0000000000" in stderr["unknown"]
    )
    assert (
        "(DirectoryNotSharedException) when calling the UnshareDirectory operation"
        in stderr["unshared"]
    )


# -- stopping ----------------------------------------------------------------------------


def test_sigterm_stops_it_cleanly_with_exit_0(cli_sandbox: Running) -> None:
    """Last in this module: it stops the module's sandbox (a fresh one would cost ~2 s of imports)."""
    code, rest = stop(cli_sandbox, signal.SIGTERM)
    assert code == 0
    assert rest[-1] == "dsshare sandbox stopped."
    assert cli_sandbox.process.stderr is not None
    assert "Traceback" not in cli_sandbox.process.stderr.read()
