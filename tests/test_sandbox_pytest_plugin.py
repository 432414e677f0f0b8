"""dsshare's pytest plugin, as a user's test suite sees it: each case runs a user test file
in a pytest subprocess (pytester) and asserts on its outcome.

The plugin is declared as the ``pytest11`` entry point ``dsshare`` in pyproject.toml. Until
the venv is reinstalled from this checkout that entry point is not registered, so the runs
load the plugin with ``-p dsshare.sandbox.pytest_plugin`` (the same module); once it is,
they rely on the entry point alone.
"""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[1]
PLUGIN = "dsshare.sandbox.pytest_plugin"
EXAMPLES = REPO / "docs" / "examples"
GUIDE = REPO / "docs" / "testing-with-the-sandbox.md"


def registered_by_entry_point() -> bool:
    return any(ep.value == PLUGIN for ep in entry_points(group="pytest11"))


@pytest.fixture
def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Run pytest on the files written so far, in a subprocess, with dsshare's plugin."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO / "lib"),
                                                      os.environ.get("PYTHONPATH", "")]))  # fmt: skip
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "MOTO_EC2_LOAD_DEFAULT_AMIS"):
        monkeypatch.delenv(name, raising=False)

    def pytest_run(*args: str) -> pytest.RunResult:
        plugin = () if registered_by_entry_point() else ("-p", PLUGIN)
        return pytester.runpytest_subprocess(*plugin, "-p", "no:cacheprovider", "-q", *args,
                                             timeout=240)  # fmt: skip

    return pytest_run


def test_the_documented_pytest_example_passes(pytester: pytest.Pytester, run) -> None:
    pytester.makepyfile(test_example=(EXAMPLES / "test_share_with_pytest.py").read_text())
    result = run()
    result.assert_outcomes(passed=3)


def test_each_test_gets_a_freshly_seeded_sandbox(pytester: pytest.Pytester, run) -> None:
    pytester.makepyfile(
        """
        def share(sb):
            ds = sb.client("ds", account="shared-services")
            return ds.share_directory(
                DirectoryId=sb.sandbox.directory_id("services.example.com"),
                ShareTarget={"Id": sb.account_id("dev-app1"), "Type": "ACCOUNT"},
                ShareMethod="HANDSHAKE",
            )["SharedDirectoryId"]

        def test_first_shares(dsshare_sandbox):
            share(dsshare_sandbox)
            assert len(dsshare_sandbox.sandbox.share_records()) == (
                len(dsshare_sandbox.manifest["shares"]) + 1
            )

        def test_second_sees_the_seeded_world_again(dsshare_sandbox):
            assert len(dsshare_sandbox.sandbox.share_records()) == (
                len(dsshare_sandbox.manifest["shares"])
            )
            share(dsshare_sandbox)  # the same share again: no DirectoryAlreadyShared
        """
    )
    run().assert_outcomes(passed=2)


def test_the_session_sandbox_keeps_its_world_between_tests(
    pytester: pytest.Pytester, run
) -> None:
    pytester.makepyfile(
        """
        import pytest
        from botocore.exceptions import ClientError

        def share(sb):
            return sb.client("ds", account="shared-services").share_directory(
                DirectoryId=sb.sandbox.directory_id("services.example.com"),
                ShareTarget={"Id": sb.account_id("dev-app1"), "Type": "ACCOUNT"},
                ShareMethod="HANDSHAKE",
            )

        def test_first_shares(dsshare_sandbox_session):
            share(dsshare_sandbox_session)

        def test_second_finds_it_shared(dsshare_sandbox_session):
            with pytest.raises(ClientError) as excinfo:
                share(dsshare_sandbox_session)
            assert excinfo.value.response["Error"]["Code"] == "DirectoryAlreadySharedException"
        """
    )
    run().assert_outcomes(passed=2)


def test_the_marker_sets_seed_latency_transition_delay_and_faults(
    pytester: pytest.Pytester, run
) -> None:
    pytester.makepyfile(
        """
        import time
        import pytest
        from botocore.config import Config
        from botocore.exceptions import ClientError

        @pytest.mark.dsshare_sandbox(seed="empty")
        def test_seed(dsshare_sandbox):
            assert dsshare_sandbox.manifest["seed"] == "empty"
            assert dsshare_sandbox.manifest["directories"] == []

        @pytest.mark.dsshare_sandbox(latency_ms=300)
        def test_latency(dsshare_sandbox):
            ds = dsshare_sandbox.client("ds")
            started = time.monotonic()
            ds.describe_directories()
            assert time.monotonic() - started >= 0.3

        @pytest.mark.dsshare_sandbox(transition_delay=5)
        def test_transition_delay(dsshare_sandbox):
            ds = dsshare_sandbox.client("ds", account="shared-services")
            directory_id = dsshare_sandbox.sandbox.directory_id("services.example.com")
            shared_id = ds.share_directory(
                DirectoryId=directory_id,
                ShareTarget={"Id": dsshare_sandbox.account_id("dev-app1"), "Type": "ACCOUNT"},
                ShareMethod="HANDSHAKE",
            )["SharedDirectoryId"]
            (record,) = ds.describe_shared_directories(
                OwnerDirectoryId=directory_id, SharedDirectoryIds=[shared_id]
            )["SharedDirectories"]
            assert record["ShareStatus"] == "Sharing"

        @pytest.mark.dsshare_sandbox(faults=[
            {"operation": "DescribeDirectories", "code": "AccessDeniedException", "count": 1}
        ])
        def test_faults(dsshare_sandbox):
            ds = dsshare_sandbox.client("ds", config=Config(retries={"total_max_attempts": 1}))
            with pytest.raises(ClientError) as excinfo:
                ds.describe_directories()
            assert excinfo.value.response["Error"]["Code"] == "AccessDeniedException"
            ds.describe_directories()  # count=1: the next call is served

        def test_back_to_the_defaults(dsshare_sandbox):
            assert dsshare_sandbox.manifest["seed"] == "demo"
            assert dsshare_sandbox.sandbox.faults.rules == []
            assert dsshare_sandbox.sandbox.faults.latency_ms == 0
            assert dsshare_sandbox.sandbox.transition_delay == 0.05
        """
    )
    run().assert_outcomes(passed=5)


def test_ini_options_set_the_defaults(pytester: pytest.Pytester, run) -> None:
    pytester.makeini(
        """
        [pytest]
        dsshare_sandbox_seed = empty
        dsshare_sandbox_transition_delay = 0.5
        dsshare_sandbox_latency_ms = 1
        """
    )
    pytester.makepyfile(
        """
        def test_function_scope(dsshare_sandbox):
            assert dsshare_sandbox.manifest["seed"] == "empty"
            assert dsshare_sandbox.sandbox.transition_delay == 0.5
            assert dsshare_sandbox.sandbox.faults.latency_ms == 1

        def test_session_scope(dsshare_sandbox_session):
            assert dsshare_sandbox_session.manifest["seed"] == "empty"
        """
    )
    run().assert_outcomes(passed=2)


def test_the_fixture_points_boto3_and_subprocesses_at_the_sandbox(
    pytester: pytest.Pytester, run
) -> None:
    pytester.makepyfile(
        """
        import json, os, subprocess, sys
        import boto3

        def test_env(dsshare_sandbox, monkeypatch):
            dsshare_sandbox.use_env(monkeypatch)
            assert boto3.client("sts").get_caller_identity()["Account"] == (
                dsshare_sandbox.manifest["management_account_id"]
            )
            code = "import boto3; print(boto3.client('sts').get_caller_identity()['Account'])"
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 check=True, env=os.environ).stdout.strip()
            assert out == dsshare_sandbox.manifest["management_account_id"]

        def test_any_account_through_assume_role(dsshare_sandbox):
            sts = dsshare_sandbox.session(account="dev-app1").client(
                "sts", endpoint_url=dsshare_sandbox.endpoint_url
            )
            assert sts.get_caller_identity()["Account"] == dsshare_sandbox.account_id("dev-app1")
            assert dsshare_sandbox.endpoint_url.startswith("http://127.0.0.1:")
        """
    )
    run().assert_outcomes(passed=2)


def test_the_plugin_imports_no_moto_until_a_test_uses_the_fixture(
    pytester: pytest.Pytester, run
) -> None:
    pytester.makepyfile(
        """
        import sys

        def test_a_without_the_fixture(request):
            manager = request.config.pluginmanager
            assert (manager.get_plugin("dsshare.sandbox.pytest_plugin")
                    or manager.get_plugin("dsshare")) is not None
            assert "moto" not in sys.modules
            assert "flask" not in sys.modules

        def test_b_with_the_fixture(dsshare_sandbox):
            assert "moto" in sys.modules
        """
    )
    run("-p", "no:randomly").assert_outcomes(passed=2)


def test_without_moto_the_fixture_names_the_extra(pytester: pytest.Pytester, run) -> None:
    pytester.makeconftest(
        """
        import sys
        sys.modules["moto"] = None  # as in a core install of dsshare, without the extra
        """
    )
    pytester.makepyfile(
        """
        def test_needs_no_sandbox():
            pass

        def test_uses_the_sandbox(dsshare_sandbox):
            pass
        """
    )
    result = run()
    result.assert_outcomes(passed=1, errors=1)
    assert (
        "SandboxNotInstalledError: The dsshare sandbox needs moto, which is not installed. "
        "Next step: pip install 'dsshare[sandbox]'"
    ) in result.stdout.str()


def test_bad_marker_settings_error_that_test_alone(pytester: pytest.Pytester, run) -> None:
    pytester.makepyfile(
        """
        import pytest

        def test_a_first(dsshare_sandbox):
            pass

        @pytest.mark.dsshare_sandbox(latency=5)
        def test_b_typo(dsshare_sandbox):
            pass

        @pytest.mark.dsshare_sandbox(seed="bogus")
        def test_c_unknown_seed(dsshare_sandbox):
            pass

        def test_d_still_served(dsshare_sandbox):
            assert dsshare_sandbox.client("ds").describe_directories()["DirectoryDescriptions"]
        """
    )
    result = run("-p", "no:randomly")
    result.assert_outcomes(passed=2, errors=2)
    result.stdout.fnmatch_lines(["*unknown latency; known: seed, latency_ms*",
                                 "*unknown seed 'bogus'; choose one of demo*"])  # fmt: skip


def test_the_entry_point_names_the_plugin_module() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert project["project"]["entry-points"]["pytest11"] == {"dsshare": PLUGIN}
    plugin = importlib.import_module(PLUGIN)
    assert callable(plugin.dsshare_sandbox) and callable(plugin.dsshare_sandbox_session)


def test_the_unittest_example_runs(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO / "lib")}
    env.pop("AWS_ENDPOINT_URL", None)
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "test_share_with_unittest.py"), "-v"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Ran 2 tests" in done.stderr and "OK" in done.stderr


@pytest.mark.parametrize("example", ["test_share_with_pytest.py", "test_share_with_unittest.py"])
def test_the_guide_shows_the_examples_as_they_run(example: str) -> None:
    guide = GUIDE.read_text()
    assert f"docs/examples/{example}" in guide
    code = (EXAMPLES / example).read_text()
    blocks = re.findall(r"```python\n(.*?)```", guide, flags=re.S)
    body = code.split('"""', 2)[2].lstrip("\n")  # the example without its module docstring
    assert any(block.strip() == body.strip() for block in blocks), example
