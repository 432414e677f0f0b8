"""The sandbox server: moto's dispatcher behind the fault middleware, on loopback.

``Sandbox`` is both the Python API (a context manager used by tests, the demo
and benchmarks) and what ``dsshare sandbox`` runs in the foreground. Its state
can also be driven over HTTP under ``/_dsshare/`` (see the README ("The sandbox")).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from moto.moto_api._internal.models import moto_api_backend
from moto.organizations.models import organizations_backends

from .backend import sharing_backends
from .control import (
    ControlClient,
    ControlGuard,
    ControlRefused,
    client_url,
    is_loopback,
)
from .dispatch import Dispatcher, warm_up
from .faults import FaultMiddleware, FaultRule, Faults
from .guard import ensure_moto_shape
from .protocol import ProtocolMiddleware
from .records import REGISTRY, ShareRecord, utcnow
from .seeds import DEFAULT_REGIONS, SEEDS, check_scale, create_directory, network, seed
from .shapes import service_model
from .wire import KeepAliveRequestHandler, SandboxHTTPServer

#: Statuses a test may force a share into, to provoke what AWS does rarely.
FORCEABLE = {"ShareFailed", "RejectFailed", "Shared", "PendingAcceptance", "Deleted", "Rejected"}

logger = logging.getLogger(__name__)


class SandboxError(RuntimeError):
    """Bad sandbox settings or control request."""


#: moto's switch for the ~7,800 default AMIs it loads into every EC2 backend it creates.
_LOAD_DEFAULT_AMIS = "MOTO_EC2_LOAD_DEFAULT_AMIS"


@contextmanager
def _without_default_amis() -> Iterator[None]:
    """moto's default AMIs off while the seeds build their VPCs, then as they were.

    Loading them is 0.4 s of every reset, for images nobody here asks about. The
    switch is process-wide, so it is put back (an explicit setting always wins).
    """
    before = os.environ.get(_LOAD_DEFAULT_AMIS)
    os.environ.setdefault(_LOAD_DEFAULT_AMIS, "false")
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(_LOAD_DEFAULT_AMIS, None)


class Sandbox:
    """An AWS-faithful Directory Service sharing sandbox on 127.0.0.1.

    Parameters
    ----------
    seed : {"demo", "scale", "empty"}
        What the sandbox starts with (see the README ("The sandbox"), "Seeds").
    host, port : str, int
        Where to listen. ``port=0`` picks a free port. Loopback by default.
    regions : sequence of str, optional
        Regions of the seeded world; the demo default is us-east-1, eu-west-1.
    transition_delay : float
        Seconds each transitional share status (Sharing, Deleting, Rejecting) lasts.
    latency_ms, jitter_ms : float
        Injected latency on every AWS call.
    accounts, directories, shares : int, optional
        Sizes for the ``scale`` seed.

    Examples
    --------
    >>> with Sandbox(seed="demo", transition_delay=0) as sb:  # doctest: +SKIP
    ...     boto3.client("ds", endpoint_url=sb.endpoint_url).describe_directories()
    """

    def __init__(
        self,
        seed: str = "demo",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        regions: Sequence[str] | None = None,
        transition_delay: float = 0.2,
        latency_ms: float = 0.0,
        jitter_ms: float = 0.0,
        accounts: int | None = None,
        directories: int | None = None,
        shares: int | None = None,
        fault_seed: int = 0,
        log_requests: bool = False,
        control_token: str | None = None,
    ) -> None:
        if seed not in SEEDS:
            # Checked here, before start() resets moto's (process-wide) state.
            raise SandboxError(f"unknown seed {seed!r}; choose one of {', '.join(SEEDS)}")
        if transition_delay < 0:
            raise SandboxError(f"transition_delay must be >= 0 seconds, got {transition_delay}")
        if latency_ms < 0 or jitter_ms < 0:
            raise SandboxError("latency_ms and jitter_ms must be >= 0")
        self.seed_name = seed
        self.host = host
        self.port = port
        self.regions = list(regions or DEFAULT_REGIONS)
        self.transition_delay = transition_delay
        self.scale_options = {
            k: v
            for k, v in {"accounts": accounts, "directories": directories, "shares": shares}.items()
            if v is not None
        }
        if self.scale_options and seed != "scale":
            raise SandboxError("accounts/directories/shares apply to the 'scale' seed only")
        if seed == "scale":
            try:
                check_scale(**self.scale_options)
            except ValueError as err:
                raise SandboxError(str(err)) from err
        self.fault_seed = fault_seed
        self.log_requests = log_requests
        #: Required on control requests when listening beyond loopback (printed at start-up).
        self.control_token = control_token or (
            None if is_loopback(host) else secrets.token_urlsafe(24)
        )
        self.control_guard = ControlGuard(host, self.control_token)
        self.faults = Faults(seed=fault_seed)
        self._initial_latency = (latency_ms, jitter_ms)
        self.manifest: dict[str, Any] = {}
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------

    @property
    def endpoint_url(self) -> str:
        """The URL clients use: loopback when listening on every interface (never 0.0.0.0)."""
        if self._server is None:
            raise SandboxError("the sandbox is not started")
        return client_url(self.host, int(self._server.server_address[1]))

    @property
    def control(self) -> ControlClient:
        """A client of this sandbox's control API (with its token, if it needs one)."""
        return ControlClient(self.endpoint_url, self.control_token)

    def start(self) -> Sandbox:
        # werkzeug logs one line per request at INFO; keep it for `--log-requests`.
        logging.getLogger("werkzeug").setLevel(
            logging.INFO if self.log_requests else logging.WARNING
        )
        ensure_moto_shape()
        dispatcher = Dispatcher()
        app = FaultMiddleware(ProtocolMiddleware(dispatcher), self.faults, control=self._control_app)
        # Bind before reseeding: moto's state is process-wide, and a port that is taken
        # must not cost another sandbox in this process its world. Bind here rather than
        # in werkzeug, which answers a taken port with sys.exit(1): this raises OSError.
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        with socket.create_server((self.host, self.port), family=family, backlog=128) as listener:
            server = SandboxHTTPServer(
                self.host, self.port, app, KeepAliveRequestHandler, fd=listener.fileno()
            )
        try:
            self._reseed()
            warm_up(dispatcher, self.regions[0])
        except BaseException:
            server.server_close()
            raise
        self._server = server
        self.control_guard.port = int(server.server_address[1])
        self.set_latency(*self._initial_latency)
        self.manifest["endpoint_url"] = self.endpoint_url
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="dsshare-sandbox", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Block until the server thread ends (``dsshare sandbox``)."""
        if self._thread is not None:
            self._thread.join()

    # -- state --------------------------------------------------------------

    def _reseed(self) -> None:
        with REGISTRY.lock, _without_default_amis():
            moto_api_backend.reset()
            # moto keeps member->management links across resets; drop them.
            organizations_backends.master_accounts.clear()
            sharing_backends.clear()
            REGISTRY.clear()
            REGISTRY.transition_delay = self.transition_delay
            world = seed(self.seed_name, self.regions, **self.scale_options)
        self.manifest = dict(world.manifest, seed=self.seed_name)
        if self._server is not None:
            self.manifest["endpoint_url"] = self.endpoint_url

    def reset(self) -> None:
        """Reseed the world and clear faults, latency and the request log."""
        self.faults.clear(self.fault_seed)
        self._reseed()

    def set_transition_delay(self, seconds: float) -> None:
        if seconds < 0:
            raise SandboxError(f"transition_delay must be >= 0 seconds, got {seconds}")
        self.transition_delay = seconds
        REGISTRY.transition_delay = seconds

    def set_latency(self, ms: float, jitter_ms: float = 0.0) -> None:
        if ms < 0 or jitter_ms < 0:
            raise SandboxError("latency and jitter must be >= 0 ms")
        with self.faults.lock:
            self.faults.latency_ms, self.faults.jitter_ms = float(ms), float(jitter_ms)

    def add_fault(
        self,
        operation: str = "*",
        *,
        code: str = "ThrottlingException",
        count: int | None = None,
        probability: float | None = None,
        service: str = "*",
        account_id: str | None = None,
        message: str | None = None,
    ) -> FaultRule:
        """Answer matching calls with ``code`` (``count`` times, or with ``probability``)."""
        try:
            return self.faults.add(
                FaultRule(
                    operation=operation,
                    code=code,
                    service=service,
                    account_id=account_id,
                    count=count,
                    probability=probability,
                    message=message,
                )
            )
        except ValueError as err:
            raise SandboxError(str(err)) from err

    def clear_faults(self) -> None:
        with self.faults.lock:
            self.faults.rules.clear()

    @property
    def request_log(self) -> list[dict[str, Any]]:
        """Every AWS call served (or answered with an injected fault), oldest first."""
        return self.faults.entries()

    def clear_request_log(self) -> None:
        self.faults.log.clear()

    def set_directory_stage(self, directory_id: str, stage: str, region: str | None = None) -> None:
        """Force a directory's Stage (e.g. ``Creating``) to provoke the 'not Active' path.

        ``region`` picks the Region's copy of a replicated directory (default: its seeded one).
        """
        stages = service_model("ds").shape_for("DirectoryStage").enum
        if stage not in stages:
            raise SandboxError(f"stage must be one of {', '.join(stages)}, got {stage!r}")
        entry = self._directory_entry(directory_id, None)
        where = region or entry["region"]
        found = sharing_backends[entry["account_id"]][where].directories.get(directory_id)
        if found is None:
            raise SandboxError(f"{directory_id} is not in {where} (replicate it with add_region)")
        found.stage = stage

    def hide_share(self, shared_directory_id: str, side: str) -> None:
        """Make one side stop seeing a share record, as AWS's two views can disagree.

        ``side="consumer"``: the owner still lists the record but the consumer's
        SharedMicrosoftAD is gone; ``side="owner"``: the consumer still has its
        directory but the owner's DescribeSharedDirectories no longer lists it.
        For provoking the inventory's consistency findings.
        """
        if side not in ("owner", "consumer"):
            raise SandboxError(f"side must be 'owner' or 'consumer', got {side!r}")
        record = REGISTRY.get(shared_directory_id)
        if record is None:
            raise SandboxError(f"no share record {shared_directory_id}")
        with REGISTRY.lock:
            if side == "owner":
                record.hidden_from_owner = True
            else:
                record.hidden_from_consumer = True

    def add_region(self, directory_id: str, region: str) -> None:
        """Replicate an Enterprise directory to ``region`` (AddRegion with a fresh VPC)."""
        entry = self._directory_entry(directory_id, None)
        backend = sharing_backends[entry["account_id"]][entry["region"]]
        with _without_default_amis():
            backend.add_region(directory_id, region, network(entry["account_id"], region))
        self.manifest["directories"].append(dict(entry, region=region))

    def force_share_status(self, shared_directory_id: str, status: str) -> None:
        """Put a share record into ``status`` now (e.g. ShareFailed, which AWS does rarely)."""
        if status not in FORCEABLE:
            raise SandboxError(f"status must be one of {sorted(FORCEABLE)}, got {status!r}")
        record = REGISTRY.get(shared_directory_id)
        if record is None:
            raise SandboxError(f"no share record {shared_directory_id}")
        with REGISTRY.lock:
            record.move([status], 0.0, utcnow())

    def add_directory(
        self,
        account_id: str,
        region: str,
        name: str,
        edition: str | None = "Standard",
        kind: str = "MicrosoftAD",
        stage: str = "Active",
    ) -> str:
        """Create one more owner directory (any edition, including Hybrid, any Stage)."""
        if not (isinstance(account_id, str) and account_id.isdigit() and len(account_id) == 12):
            raise SandboxError(f"account_id must be 12 digits as text, got {account_id!r}")
        if region not in self.regions and region not in DEFAULT_REGIONS:
            raise SandboxError(f"region must be one of {', '.join(self.regions)}, got {region!r}")
        if not isinstance(name, str) or not name:
            raise SandboxError(f"name must be a directory name, got {name!r}")
        if edition not in (None, "Standard", "Enterprise", "Hybrid"):
            raise SandboxError(f"edition must be Standard, Enterprise or Hybrid, got {edition!r}")
        if kind not in ("MicrosoftAD", "SimpleAD"):
            raise SandboxError(f"kind must be MicrosoftAD or SimpleAD, got {kind!r}")
        stages = service_model("ds").shape_for("DirectoryStage").enum
        if stage not in stages:
            raise SandboxError(f"stage must be one of {', '.join(stages)}, got {stage!r}")
        with _without_default_amis():
            directory_id = create_directory(account_id, region, name, edition, kind)
        directory = sharing_backends[account_id][region].directories[directory_id]
        directory.stage = stage
        self.manifest["directories"].append(
            {
                "id": directory_id,
                "account_id": account_id,
                "region": region,
                "name": name,
                "edition": edition,
                "type": directory.directory_type,
                "stage": stage,
            }
        )
        return directory_id

    def set_feature_set(self, feature_set: str) -> None:
        """Switch the organization between ALL and CONSOLIDATED_BILLING features."""
        if feature_set not in ("ALL", "CONSOLIDATED_BILLING"):
            raise SandboxError(
                f"feature_set must be ALL or CONSOLIDATED_BILLING, got {feature_set!r}"
            )
        org = organizations_backends[self.manifest["management_account_id"]]["aws"].org
        org.feature_set = feature_set

    def share_records(self) -> list[ShareRecord]:
        return list(REGISTRY.all())

    # -- lookups by name -------------------------------------------------------

    def account_id(self, name: str) -> str:
        for account in self.manifest["accounts"] + self.manifest["external_accounts"]:
            if account["name"] == name or account["name"].startswith(name + " "):
                return str(account["id"])
        raise KeyError(f"no account named {name!r} in the {self.seed_name} seed")

    def ou_id(self, name: str) -> str:
        for ou in self.manifest["ous"]:
            if ou["name"] == name:
                return str(ou["id"])
        raise KeyError(f"no OU named {name!r} in the {self.seed_name} seed")

    def directory_id(self, name: str, region: str | None = None) -> str:
        for directory in self.manifest["directories"]:
            if directory["name"] == name and (region is None or directory["region"] == region):
                return str(directory["id"])
        raise KeyError(f"no directory named {name!r} in the {self.seed_name} seed")

    def _directory_entry(self, directory_id: str, region: str | None) -> dict[str, Any]:
        for directory in self.manifest["directories"]:
            if directory["id"] == directory_id and (
                region is None or directory["region"] == region
            ):
                return directory
        raise SandboxError(f"no seeded directory {directory_id}")

    def write_manifest(self, path: str | Path) -> Path:
        target = Path(path)
        target.write_text(json.dumps(self.manifest, indent=2, sort_keys=True) + "\n")
        return target

    # -- HTTP control endpoint --------------------------------------------------

    def _control_app(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "")[len("/_dsshare/") :].strip("/")
        length = environ.get("CONTENT_LENGTH") or "0"
        raw = environ["wsgi.input"].read(int(length)) if length.isdigit() and int(length) else b""
        try:
            self.control_guard.check(environ)
            payload = json.loads(raw) if raw.strip() else {}
            if not isinstance(payload, dict):
                raise SandboxError(
                    f"the request body must be a JSON object, got {type(payload).__name__}"
                )
            status, body = "200 OK", self._control(method, path, payload)
        except ControlRefused as err:
            reason = "Forbidden" if err.status == 403 else "Unsupported Media Type"
            status, body = f"{err.status} {reason}", {"error": str(err)}
        except json.JSONDecodeError as err:
            status, body = "400 Bad Request", {"error": f"the request body is not JSON: {err}"}
        except KeyError as err:
            status, body = "400 Bad Request", {"error": f"missing or unknown member {err}"}
        except (SandboxError, ValueError, TypeError, AttributeError) as err:
            status, body = "400 Bad Request", {"error": str(err)}
        except Exception:
            logger.exception("control request %s /_dsshare/%s failed", method, path)
            status, body = (
                "500 Internal Server Error",
                {"error": "the sandbox failed on this control request; its log has the traceback"},
            )
        data = json.dumps(body, default=str).encode()
        start_response(
            status,
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(data))),
                ("X-Content-Type-Options", "nosniff"),
                ("Cache-Control", "no-store"),
            ],
        )
        return [data]

    def _control(self, method: str, path: str, payload: dict[str, Any]) -> Any:
        routes: dict[tuple[str, str], Callable[[], Any]] = {
            ("GET", "manifest"): lambda: self.manifest,
            ("POST", "reset"): lambda: self.reset() or {"reset": True},
            ("GET", "faults"): lambda: [vars(r) for r in self.faults.rules],
            ("POST", "faults"): lambda: vars(self.add_fault(**payload)),
            ("DELETE", "faults"): lambda: self.clear_faults() or {"cleared": True},
            ("POST", "latency"): lambda: (
                self.set_latency(**payload) or {"latency_ms": self.faults.latency_ms}
            ),
            ("POST", "transition-delay"): lambda: (
                self.set_transition_delay(payload["seconds"]) or {"seconds": self.transition_delay}
            ),
            ("GET", "requests"): lambda: self.request_log,
            ("DELETE", "requests"): lambda: self.clear_request_log() or {"cleared": True},
            ("POST", "directory-stage"): lambda: (
                self.set_directory_stage(**payload) or {"ok": True}
            ),
            ("POST", "share-status"): lambda: self.force_share_status(**payload) or {"ok": True},
            ("POST", "directories"): lambda: {"id": self.add_directory(**payload)},
            ("POST", "feature-set"): lambda: self.set_feature_set(**payload) or {"ok": True},
            ("POST", "hide-share"): lambda: self.hide_share(**payload) or {"ok": True},
            ("POST", "add-region"): lambda: self.add_region(**payload) or {"ok": True},
        }
        handler = routes.get((method, path))
        if handler is None:
            raise SandboxError(
                f"unknown control request {method} /_dsshare/{path}; "
                f"known: {', '.join(f'{m} {p}' for m, p in routes)}"
            )
        return handler()
