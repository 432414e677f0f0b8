"""pytest plugin: test your own Directory Service sharing automation against the sandbox.

Registered as the ``pytest11`` entry point ``dsshare``, so installing
``dsshare[sandbox]`` makes two fixtures available to every test suite:

``dsshare_sandbox``
    function scope: the sandbox reseeded before each test, with the test's settings;
``dsshare_sandbox_session``
    session scope: one sandbox for the whole session, never reseeded by the plugin.

Both give a :class:`SandboxFixture`: ``endpoint_url``, ``manifest``, ``client(service,
account=...)`` (a boto3 client acting as any seeded account, through AssumeRole),
``session(account=...)``, ``environ()`` / ``use_env(monkeypatch)`` and ``sandbox`` (the
:class:`~dsshare.sandbox.Sandbox`, for faults, latency and the request log).

Settings, per test with the marker, or for the suite in the ini file::

    @pytest.mark.dsshare_sandbox(seed="demo", latency_ms=0, transition_delay=0.05,
                                 faults=[{"operation": "ShareDirectory", "count": 1}])

    [tool.pytest.ini_options]
    dsshare_sandbox_seed = "demo"
    dsshare_sandbox_transition_delay = "0.05"
    dsshare_sandbox_latency_ms = "0"

The plugin imports no moto at pytest start-up: moto loads when a test first asks for a
fixture. Without moto installed, that test errors with a DsShareError naming
``pip install 'dsshare[sandbox]'``. See docs/testing-with-the-sandbox.md.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config

from dsshare.sandbox import load

if TYPE_CHECKING:
    from dsshare.sandbox.server import Sandbox

#: The marker's keywords, and the ini options that give their defaults.
SETTINGS = ("seed", "latency_ms", "jitter_ms", "transition_delay", "faults")
INI_DEFAULTS = {"seed": "demo", "latency_ms": "0", "transition_delay": "0.05"}
#: The scale seed's sizes, also accepted by the marker.
SCALE_SETTINGS = ("accounts", "directories", "shares")

MARKER = (
    "dsshare_sandbox(seed='demo', latency_ms=0, jitter_ms=0, transition_delay=0.05, "
    "faults=[...], accounts=None, directories=None, shares=None): settings of the "
    "dsshare_sandbox fixture for this test"
)

#: What the fixture's clients sign with before assuming a role (any value works).
SANDBOX_KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("dsshare_sandbox_seed", "seed of the dsshare sandbox fixtures (demo, "
                  "scale, empty)", default=INI_DEFAULTS["seed"])  # fmt: skip
    parser.addini("dsshare_sandbox_latency_ms", "latency injected on every sandbox call",
                  default=INI_DEFAULTS["latency_ms"])  # fmt: skip
    parser.addini("dsshare_sandbox_transition_delay", "seconds each transitional share "
                  "status lasts", default=INI_DEFAULTS["transition_delay"])  # fmt: skip


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER)


class SandboxFixture:
    """A running sandbox, as a test sees it: where it is, what is in it, clients into it.

    Examples
    --------
    >>> def test_share(dsshare_sandbox):                                   # doctest: +SKIP
    ...     ds = dsshare_sandbox.client("ds", account="shared-services")
    ...     ds.describe_directories()["DirectoryDescriptions"]
    """

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    @property
    def endpoint_url(self) -> str:
        return self.sandbox.endpoint_url

    @property
    def manifest(self) -> dict[str, Any]:
        """The seeded world: accounts, OUs, directories, shares, role name (see the README)."""
        return self.sandbox.manifest

    def account_id(self, account: str) -> str:
        """A seeded account's id, from its name (``"prod-data"``) or its id."""
        if account.isdigit() and len(account) == 12:
            return account
        return self.sandbox.account_id(account)

    def session(self, account: str | None = None, region: str = "us-east-1") -> boto3.Session:
        """A boto3 session acting in ``account`` (default: the management account).

        Other accounts are reached as the kit reaches them: STS AssumeRole into the
        seed's role, signed by the management account.
        """
        keys = dict(SANDBOX_KEYS)
        account_id = self.account_id(account) if account else None
        if account_id and account_id != self.manifest["management_account_id"]:
            sts = boto3.client("sts", endpoint_url=self.endpoint_url, region_name=region,
                               **SANDBOX_KEYS)  # fmt: skip
            credentials = sts.assume_role(
                RoleArn=f"arn:aws:iam::{account_id}:role/{self.manifest['role_name']}",
                RoleSessionName="dsshare-pytest",
            )["Credentials"]
            keys = {
                "aws_access_key_id": credentials["AccessKeyId"],
                "aws_secret_access_key": credentials["SecretAccessKey"],
                "aws_session_token": credentials["SessionToken"],
            }
        return boto3.Session(region_name=region, **keys)

    def client(
        self,
        service: str,
        account: str | None = None,
        region: str = "us-east-1",
        config: Config | None = None,
    ) -> Any:
        """A boto3 client for ``service`` against the sandbox, acting in ``account``."""
        return self.session(account, region).client(
            service, endpoint_url=self.endpoint_url, config=config  # type: ignore[call-overload]
        )

    def environ(self, region: str = "us-east-1") -> dict[str, str]:
        """Environment variables that point boto3, the AWS CLI and subprocesses here."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": SANDBOX_KEYS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": SANDBOX_KEYS["aws_secret_access_key"],
            "AWS_DEFAULT_REGION": region,
            "AWS_REGION": region,
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        }

    def use_env(self, monkeypatch: pytest.MonkeyPatch, region: str = "us-east-1") -> None:
        """Set :meth:`environ` for one test (and drop a profile or session token)."""
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
            monkeypatch.delenv(name, raising=False)
        for name, value in self.environ(region).items():
            monkeypatch.setenv(name, value)

    def reset(self) -> None:
        """Reseed the world and clear faults, latency and the request log."""
        self.sandbox.reset()


def _ini_settings(config: pytest.Config) -> dict[str, Any]:
    return {
        "seed": str(config.getini("dsshare_sandbox_seed")),
        "latency_ms": float(config.getini("dsshare_sandbox_latency_ms")),
        "transition_delay": float(config.getini("dsshare_sandbox_transition_delay")),
    }


def _marker_settings(item: pytest.Item) -> dict[str, Any]:
    marker = item.get_closest_marker("dsshare_sandbox")
    if marker is None:
        return {}
    if marker.args:
        raise pytest.UsageError("@pytest.mark.dsshare_sandbox takes keywords only")
    unknown = set(marker.kwargs) - set(SETTINGS) - set(SCALE_SETTINGS)
    if unknown:
        raise pytest.UsageError(
            f"@pytest.mark.dsshare_sandbox: unknown {', '.join(sorted(unknown))}; "
            f"known: {', '.join(SETTINGS + SCALE_SETTINGS)}"
        )
    return dict(marker.kwargs)


def _sandbox(settings: Mapping[str, Any]) -> Sandbox:
    """A sandbox with these settings, not started (its constructor checks them)."""
    server: type[Sandbox] = load("server").Sandbox
    scale = {k: settings[k] for k in SCALE_SETTINGS if settings.get(k) is not None}
    return server(
        seed=settings["seed"],
        transition_delay=settings["transition_delay"],
        latency_ms=settings.get("latency_ms", 0.0),
        jitter_ms=settings.get("jitter_ms", 0.0),
        **scale,
    )


def _add_faults(sandbox: Sandbox, faults: Sequence[Mapping[str, Any]]) -> None:
    for fault in faults:
        sandbox.add_fault(**fault)


@pytest.fixture(scope="session")
def dsshare_sandbox_session(request: pytest.FixtureRequest) -> Iterator[SandboxFixture]:
    """One sandbox for the whole session, seeded once from the ini settings.

    Never reseeded by the plugin: tests that change it should call ``reset()``. It
    shares the process's sandbox world with ``dsshare_sandbox``, which reseeds that
    world before each of its tests.
    """
    sandbox = _sandbox(_ini_settings(request.config)).start()
    try:
        yield SandboxFixture(sandbox)
    finally:
        sandbox.stop()


@pytest.fixture(scope="session")
def _dsshare_sandbox_server(request: pytest.FixtureRequest) -> Iterator[list[Sandbox]]:
    """The server behind ``dsshare_sandbox``: started on first use, stopped at the end."""
    started: list[Sandbox] = []
    try:
        yield started
    finally:
        for sandbox in started:
            sandbox.stop()


@pytest.fixture
def dsshare_sandbox(
    request: pytest.FixtureRequest, _dsshare_sandbox_server: list[Sandbox]
) -> SandboxFixture:
    """The sandbox, reseeded for this test with its marker's (or the ini's) settings."""
    settings = {**_ini_settings(request.config), **_marker_settings(request.node)}
    scale = {k: settings[k] for k in SCALE_SETTINGS if settings.get(k) is not None}
    if not _dsshare_sandbox_server:
        _dsshare_sandbox_server.append(_sandbox(settings).start())
    sandbox = _dsshare_sandbox_server[0]
    if (sandbox.seed_name, sandbox.scale_options) != (settings["seed"], scale):
        # The world is process-wide: another seed is a new sandbox, not a second one.
        replacement = _sandbox(settings)  # refuses bad settings before the old one stops
        sandbox.stop()
        _dsshare_sandbox_server[0] = sandbox = replacement.start()
    else:
        sandbox.reset()
    sandbox.set_transition_delay(settings["transition_delay"])
    sandbox.set_latency(settings.get("latency_ms", 0.0), settings.get("jitter_ms", 0.0))
    _add_faults(sandbox, settings.get("faults") or ())
    return SandboxFixture(sandbox)
