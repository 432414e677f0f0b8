"""Run a runbook headless: check, execute with papermill into a run folder, conclude.

:func:`execute` is what ``dsshare run`` and the demo call. Everything that can be checked
without a kernel is checked first (parameters, the profile, a Region to work in, the run
folder), so a bad parameter costs no kernel start and makes no AWS call. The notebook
then runs with papermill into ``runs/<UTC timestamp>-<runbook>/`` (see
:mod:`dsshare.runbooks.record` for the layout); when a cell raises, papermill still writes
the executed notebook, and the result names the cell and the error.

ShareNotes text never reaches the executed notebook: ``notes`` (literal, or read through
``env:VAR`` / ``file:PATH`` from the allow-list before the kernel starts) travels in the
environment variable ``DSSHARE_SHARE_NOTES`` and the kernel receives
``notes: env:DSSHARE_SHARE_NOTES``. The text is on :attr:`RunResult.notes_text` for the
terminal's dry-run summary only; run.json, parameters.yaml and the audit never hold it.

Exit codes (:attr:`RunResult.exit_code`): 0 success; 1 a target failed or a cell raised;
2 bad parameters (raised as ParameterError before any kernel starts); 130 stopped by
Ctrl-C (results.csv holds what finished, run.json says ``interrupted``).

Example
-------
>>> spec = get_runbook("share_directory")                                   # doctest: +SKIP
>>> params = resolve_parameters(spec, [load_parameter_file("p.yaml")])        # doctest: +SKIP
>>> execute(spec, params).exit_code                                          # doctest: +SKIP
0
"""

from __future__ import annotations

import atexit
import functools
import importlib.util
import json
import logging
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from dsshare import inputs
from dsshare.audit import intents_path
from dsshare.connection import Connection
from dsshare.errors import AwsError, MissingExtraError, ParameterError
from dsshare.extras import require
from dsshare.model import MUTATING_ACTIONS, RESULT_COLUMNS, Outcome
from dsshare.organization import parents_not_found

from . import record
from .catalog import get_runbook
from .files import notebook_path, runbooks_dir
from .parameters import (
    RunbookSpec,
    connection_regions,
    parse_cli_value,
    resolve_notes,
    resolve_parameters,
    unknown_parameter,
)

__all__ = [
    "KERNEL_NAME",
    "NOTES_ENV",
    "CellFailure",
    "RunResult",
    "environment",
    "execute",
    "load_parameter_file",
    "notebook_path",
    "parameter_folders",
    "parse_overrides",
    "prepare",
    "run_runbook",
    "runbooks_dir",
]

logger = logging.getLogger(__name__)

KERNEL_NAME = "python3"
#: The kernel's own log (its stderr), in the run folder.
KERNEL_LOG = "kernel.log"
#: Exit code of a run stopped by Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130
#: Environment variable carrying literal ShareNotes to the kernel.
NOTES_ENV = "DSSHARE_SHARE_NOTES"


# -- the kernel -----------------------------------------------------------------------------


@functools.cache
def _ipc_folder() -> Path:
    """A private folder (mode 0700) for this process's kernel sockets, removed at exit."""
    folder = Path(tempfile.mkdtemp(prefix="dsshare-kernels-"))
    atexit.register(shutil.rmtree, folder, True)
    return folder


@functools.cache
def kernel_manager_class() -> type[Any] | None:
    """The kernel manager runbooks run with: IPC transport (Unix sockets) where there is one.

    Over papermill's default TCP transport every kernel warns that it runs "over TCP
    without encryption" (anyone on the machine could connect to its loopback ports). Unix
    sockets in a private folder are reachable by this user only, and the kernel says
    nothing. On Windows (no IPC transport) the default manager is kept: None.
    """
    if os.name == "nt":
        return None
    manager = require("jupyter_client.manager", "runbooks", "dsshare run")
    traits = require("traitlets", "runbooks", "dsshare run")

    class IpcKernelManager(manager.AsyncKernelManager):  # type: ignore[misc,name-defined]
        """An AsyncKernelManager on the IPC transport, its sockets in a private folder."""

        transport = traits.CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

        def _ip_default(self) -> str:  # for ipc: the socket files' path prefix
            return str(_ipc_folder() / f"kernel-{uuid.uuid4().hex[:12]}")

        async def _async_interrupt_kernel(self) -> None:
            # jupyter_client interrupts every kernel before it asks it to shut down. A
            # runbook's kernel is shut down after papermill has run its cells, so there is
            # nothing to interrupt, and the SIGINT can land inside the kernel's handling of
            # the shutdown request: ipykernel then logs "KeyboardInterrupt caught in kernel."
            # on the operator's terminal (seen on a loaded machine). Interrupts asked for
            # any other time (interrupt_kernel) are sent as usual.
            if self.shutting_down:
                return
            await super()._async_interrupt_kernel()

    return IpcKernelManager


# -- parameter sources ----------------------------------------------------------------------


def load_parameter_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a YAML parameters file (``-f``): a mapping of parameter names to values.

    Values arrive as the text that was written (see :mod:`dsshare.inputs`); tags, anchors,
    aliases and duplicate keys are refused with the file and line.
    """
    data = inputs.read_yaml_file(path, "-f")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ParameterError("-f", str(path), "a YAML mapping of parameter names to values")
    return data


def parse_overrides(spec: RunbookSpec, pairs: Sequence[Sequence[str]]) -> dict[str, Any]:
    """``-p key value`` pairs as a mapping, each value read for its parameter's type."""
    overrides: dict[str, Any] = {}
    for key, text in pairs:
        if key not in spec.names:
            raise unknown_parameter(spec, key)
        overrides[key] = parse_cli_value(spec.param(key), text)
    return overrides


def prepare(
    runbook: str,
    files: Sequence[str | os.PathLike[str]] = (),
    pairs: Sequence[Sequence[str]] = (),
    extra: Mapping[str, Any] | None = None,
) -> tuple[RunbookSpec, dict[str, Any]]:
    """Look up ``runbook`` and resolve its parameters: files, then ``-p`` pairs, then extra."""
    spec = get_runbook(runbook)
    sources: list[Mapping[str, Any]] = [load_parameter_file(f) for f in files]
    sources.append(parse_overrides(spec, pairs))
    if extra:
        sources.append(extra)
    return spec, resolve_parameters(spec, sources)


def _check_environment(
    spec: RunbookSpec, params: Mapping[str, Any], notes_folders: Sequence[str | os.PathLike[str]] = ()
) -> str:
    """What can be known about AWS access without calling AWS: profile and Region; and the
    ShareNotes text (read from the allow-list), which is returned."""
    import boto3
    from botocore.exceptions import ProfileNotFound

    profile = params.get("profile") or None
    try:
        session = boto3.session.Session(profile_name=profile)
    except ProfileNotFound as err:
        raise ParameterError("profile", profile, "a profile of the AWS config files") from err
    # A run that reads a snapshot (adopt_shares) calls no AWS API: it needs no Region.
    has_region = bool(
        params.get("region") or params.get("regions") or params.get("snapshot")
        or session.region_name
    )
    if not has_region:
        name = "region" if "region" in spec.names else "regions"
        raise ParameterError(
            name, params.get(name), "a Region: set it, AWS_DEFAULT_REGION or the profile's region"
        )
    return resolve_notes(params["notes"], folders=notes_folders) if "notes" in params else ""


#: Parameters that may hold OU and root ids, checked against the organization before a run.
_PARENT_PARAMETERS = ("targets", "accounts", "ous")


def _check_organization(params: Mapping[str, Any]) -> None:
    """OU and root ids must be in the caller's organization: one read per id, before the
    kernel starts, so an OU of another organization is exit 2 with no run folder."""
    named = [(name, index, value) for name in _PARENT_PARAMETERS
             for index, value in enumerate(params.get(name) or [])
             if value.startswith(("ou-", "r-"))]  # fmt: skip
    if not named:
        return
    conn = Connection(
        profile=params.get("profile") or None,
        region=params.get("region") or None,
        regions=connection_regions(params),
        endpoint_url=params.get("endpoint_url") or None,
        role_name=params.get("role_name") or "OrganizationAccountAccessRole",
    )
    try:
        missing = set(parents_not_found(conn, [value for _, _, value in named]))
    except AwsError as err:
        # Not a verdict on the ids: the run reads the organization again and reports it.
        logger.warning("could not check OU and root ids before the run: %s", err.code)
        return
    for name, index, value in named:
        if value in missing:
            others = sorted(missing - {value})
            more = f" (also not found: {', '.join(others)})" if others else ""
            raise ParameterError(
                f"{name}[{index}]", value,
                "an OU or root id of the caller's organization; this one was not found in it, "
                f"it may belong to another organization{more}",
            )  # fmt: skip


# -- results --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CellFailure:
    """A cell that raised: where (id, heading, execution count) and what."""

    ename: str
    evalue: str
    cell_id: str | None = None
    heading: str | None = None
    exec_count: int | None = None

    def __str__(self) -> str:
        where = f'cell "{self.cell_id}"' if self.cell_id else "a cell"
        details = []
        if self.exec_count is not None:
            details.append(f"In [{self.exec_count}]")
        if self.heading:
            details.append(f'under "{self.heading}"')
        if details:
            where += f" ({', '.join(details)})"
        return f"{where} raised {self.ename}: {self.evalue}"


@dataclass
class RunResult:
    """What a run left and concluded."""

    runbook: str
    folder: Path
    notebook: Path
    exit_code: int
    dry_run: bool | None = None
    fingerprint: str | None = None
    outcomes: dict[str, int] = field(default_factory=dict)
    plan_summary: dict[str, int] = field(default_factory=dict)
    failed: list[dict[str, Any]] = field(default_factory=list)
    failure: CellFailure | None = None
    duration_seconds: float = 0.0
    #: The ShareNotes text that was (or, in a dry run, would be) sent: for the operator's
    #: terminal only, never written to the run folder (not part of :meth:`to_dict`).
    notes_text: str = field(default="", repr=False)
    #: Stopped by Ctrl-C: results.csv holds what finished (see :func:`interrupted_results`).
    interrupted: bool = False

    @property
    def status(self) -> str:
        """``ok``, ``failed`` (targets failed), ``error`` (a cell raised otherwise) or
        ``interrupted`` (Ctrl-C)."""
        if self.interrupted:
            return "interrupted"
        if self.failure is not None and self.failure.ename != "TargetsFailedError":
            return "error"
        return "failed" if self.exit_code else "ok"

    @property
    def report(self) -> Path | None:
        """report.html, when the runbook wrote one."""
        path = self.folder / "report.html"
        return path if path.is_file() else None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for run.json."""
        return {
            "runbook": self.runbook,
            "status": self.status,
            "exit_code": self.exit_code,
            "dry_run": self.dry_run,
            "fingerprint": self.fingerprint,
            "outcomes": self.outcomes,
            "plan": self.plan_summary,
            "failed": self.failed,
            "error": None if self.failure is None else {
                "cell_id": self.failure.cell_id, "heading": self.failure.heading,
                "exec_count": self.failure.exec_count, "ename": self.failure.ename,
                "evalue": self.failure.evalue,
            },
            "notebook": self.notebook.name,
            "duration_seconds": round(self.duration_seconds, 3),
        }  # fmt: skip


def _heading(cells: Sequence[Any], index: int) -> str | None:
    for cell in reversed(cells[:index]):
        if cell.get("cell_type") == "markdown":
            for line in str(cell.get("source", "")).splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return None


def _cell_failure(notebook: Path, ename: str, evalue: str) -> CellFailure:
    """Locate the failing cell in the executed notebook (its id and the heading above it)."""
    nbformat = require("nbformat", "runbooks", "dsshare run")
    try:
        nb = nbformat.read(str(notebook), as_version=4)
    except (OSError, ValueError):
        return CellFailure(ename, evalue)
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                tags = cell.get("metadata", {}).get("tags", [])
                cell_id = cell.get("id") if "injected-parameters" not in tags else "injected-parameters"
                return CellFailure(
                    ename, evalue, cell_id, _heading(nb.cells, index), cell.get("execution_count")
                )
    return CellFailure(ename, evalue)


def _conclude(
    spec: RunbookSpec, params: Mapping[str, Any], folder: Path, notebook: Path,
    failure: CellFailure | None, started: float,
) -> RunResult:  # fmt: skip
    rows: list[dict[str, Any]] = record.read_json(folder / record.RESULTS_JSON) or []
    plan: dict[str, Any] = record.read_json(folder / record.PLAN_JSON) or {}
    outcomes: dict[str, int] = {}
    for row in rows:
        outcomes[str(row.get("outcome"))] = outcomes.get(str(row.get("outcome")), 0) + 1
    failed = [row for row in rows if row.get("outcome") == "failed"]
    return RunResult(
        runbook=spec.name,
        folder=folder,
        notebook=notebook,
        exit_code=1 if failure is not None or failed else 0,
        dry_run=params.get("dry_run") if spec.mutating else None,
        fingerprint=plan.get("fingerprint"),
        outcomes=dict(sorted(outcomes.items())),
        plan_summary=plan.get("summary", {}),
        failed=failed,
        failure=failure,
        duration_seconds=time.monotonic() - started,
    )


def _kernel_manager_logging_to(log: IO[bytes], base: type[Any] | None) -> type[Any]:
    """``base`` (else jupyter_client's AsyncKernelManager) whose kernels write their own log
    (stderr) to ``log``, so a kernel's warnings and the traceback of a kernel stopped by
    Ctrl-C stay out of the operator's terminal (the run folder's kernel.log keeps them).
    It keeps the clients it makes, so :func:`_stop_kernel` can close them."""
    parent = base or require("jupyter_client.manager", "runbooks", "dsshare run").AsyncKernelManager

    class RunKernelManager(parent):  # type: ignore[misc,valid-type]
        def __init__(self, **kw: Any) -> None:
            super().__init__(**kw)
            self.made_clients: list[Any] = []

        async def start_kernel(self, **kw: Any) -> None:
            kw.setdefault("stderr", log)
            await super().start_kernel(**kw)

        def client(self, **kw: Any) -> Any:
            made = super().client(**kw)
            self.made_clients.append(made)
            return made

    return RunKernelManager


#: The kernel's arguments: the history in memory (no database), as nbclient passes a kernel
#: it starts; and the module every runbook's first cell imports, imported as the kernel
#: starts (``exec_lines``), so it loads while this process loads papermill.
KERNEL_ARGUMENTS = (
    "--HistoryManager.hist_file=:memory:",
    "--IPKernelApp.exec_lines=import dsshare.runbooks.steps",
)


def _launch_kernel(manager_class: type[Any], kernel_name: str) -> Any:
    """Start the runbook's kernel and return its manager, without waiting for it to answer.

    Started before papermill is imported, the kernel boots (its process, ipykernel's own
    imports) on the other core while this process loads papermill and prepares the
    notebook, instead of after: ``dsshare run``'s wall time, measured by
    ``benchmarks/bulk_share_bench.py``. papermill is given the manager and waits for the
    kernel to answer as it does for a kernel it starts; :func:`_stop_kernel` shuts it down.
    """
    utils = require("jupyter_core.utils", "runbooks", "dsshare run")
    manager = manager_class(kernel_name=kernel_name)
    utils.run_sync(manager.start_kernel)(extra_arguments=list(KERNEL_ARGUMENTS))
    return manager


def _stop_kernel(manager: Any) -> None:
    """Shut the kernel down and close its clients, as papermill does for a kernel it started
    (it leaves a kernel it was given running); nothing to do when it has stopped already."""
    utils = require("jupyter_core.utils", "runbooks", "dsshare run")

    async def stop() -> None:
        try:
            if await manager.is_alive():
                await manager.shutdown_kernel(now=False)
        finally:
            await utils.ensure_async(manager.cleanup_resources())
            for made in manager.made_clients:
                made.stop_channels()
            manager.made_clients.clear()

    utils.run_sync(stop)()


#: Audit operation -> plan action (the runbooks' mutating calls).
_OPERATION_ACTIONS = {
    "ShareDirectory": "share",
    "UnshareDirectory": "unshare",
    "AcceptSharedDirectory": "accept",
    "RejectSharedDirectory": "reject",
    "DeleteDirectory": "leave",
}


def interrupted_results(folder: Path) -> list[dict[str, Any]]:
    """Result rows of an interrupted run, from its audit log and plan.

    A call with an outcome line keeps that outcome; a call with only its write-ahead
    intent is ``in_doubt`` (it may have reached AWS); a planned change never started is
    ``skipped`` with error_code ``Interrupted``. A rerun re-plans from live state.
    """
    finished = _json_lines(folder / record.AUDIT)
    done = {line.get("call_id") for line in finished}
    doubtful = [i for i in _json_lines(intents_path(folder / record.AUDIT)) if i.get("call_id") not in done]
    rows: list[dict[str, Any]] = []
    touched: set[tuple[str, str]] = set()
    for line, outcome in [*((f, str(f.get("outcome"))) for f in finished),
                          *((d, Outcome.IN_DOUBT.value) for d in doubtful)]:  # fmt: skip
        parameters = line.get("parameters") or {}
        target = parameters.get("ShareTarget") or parameters.get("UnshareTarget") or {}
        account = str(target.get("Id") or line.get("account_id") or "")
        action = _OPERATION_ACTIONS.get(str(line.get("operation")), str(line.get("operation")))
        touched.add((action, account))
        rows.append({
            "directory_id": parameters.get("DirectoryId"), "region": line.get("region"),
            "account_id": account, "action": action, "outcome": outcome, "share_status": None,
            "shared_directory_id": parameters.get("SharedDirectoryId"),
            "method": parameters.get("ShareMethod"), "error_code": line.get("error_code"),
            "message": "interrupted while the call was in flight: it may have landed; rerun to see"
            if outcome == Outcome.IN_DOUBT else "finished before the interruption",
        })  # fmt: skip
    plan: dict[str, Any] = record.read_json(folder / record.PLAN_JSON) or {}
    for row in plan.get("rows") or []:
        key = (str(row.get("action")), str(row.get("account_id")))
        if row.get("action") in MUTATING_ACTIONS and key not in touched:
            rows.append({
                **{column: row.get(column) for column in RESULT_COLUMNS if column in row},
                "outcome": Outcome.SKIPPED.value, "error_code": "Interrupted",
                "message": "not started: the run was interrupted (Ctrl-C)",
            })  # fmt: skip
    return [{column: r.get(column) for column in RESULT_COLUMNS} for r in rows]


def _json_lines(path: Path) -> list[dict[str, Any]]:
    """The JSON lines of an audit file; a line cut short by the interruption is left out."""
    if not path.is_file():
        return []
    out = []
    for text in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(text))
        except json.JSONDecodeError:
            logger.warning("audit line cut short by the interruption, left out: %s", path)
    return out


def _conclude_interrupted(
    spec: RunbookSpec, params: Mapping[str, Any], folder: Path, notebook: Path, started: float
) -> RunResult:
    # Imported here: only an interrupted run makes a frame in this process; the others
    # leave pandas to the kernel, so `dsshare run` does not load it before the kernel starts.
    import pandas as pd

    rows = interrupted_results(folder)
    record.write_results(folder, pd.DataFrame(rows, columns=list(RESULT_COLUMNS)))
    result = _conclude(spec, params, folder, notebook, None, started)
    result.interrupted = True
    result.exit_code = EXIT_INTERRUPTED
    return result


@contextmanager
def environment(values: Mapping[str, str], unset: Sequence[str] = ()) -> Iterator[None]:
    """Set (and unset) environment variables, which kernels started inside inherit; restore
    them afterwards."""
    saved = {name: os.environ.get(name) for name in [*values, *unset]}
    for name in unset:
        os.environ.pop(name, None)
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _chosen_folder(params: Mapping[str, Any], out: str | os.PathLike[str] | None) -> Path | None:
    """The run folder asked for (None: a new one under runs/), checked but not created."""
    chosen = out if out is not None else (params.get("output_dir") or None)
    if chosen is None:
        return None
    folder = Path(chosen)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        name = "--out" if out is not None else "output_dir"
        raise ParameterError(
            name, str(folder), "a new or empty folder (run folders are records, never overwritten)"
        )
    return folder


def _skip_iri_grammars() -> None:
    """Keep jsonschema from compiling rfc3987_syntax's grammars while papermill loads.

    papermill imports nbformat, which imports jsonschema, whose format module imports
    ``rfc3987_syntax`` when it is installed (Jupyter's server extras install it) and so
    compiles 38 lark grammars: 2-3 s of every ``dsshare run`` on 2 cores, measured by
    ``benchmarks/bulk_share_bench.py``. They back the "iri" string formats only, and
    nbformat validates without a format checker, so no notebook check changes. Marking
    the module absent (unless something already imported it) makes jsonschema skip them.
    """
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def _run_folder(spec: RunbookSpec, chosen: Path | None) -> Path:
    if chosen is None:
        return record.new_run_folder(spec.name)
    chosen.mkdir(parents=True, exist_ok=True)
    return chosen


def _run_notebook(
    source: Path, notebook: Path, parameters: Mapping[str, Any], kernel_name: str, manager: Any
) -> CellFailure | None:
    """Run ``source`` into ``notebook`` with papermill on the started kernel; the cell that
    failed, if any (papermill writes the executed notebook either way)."""
    pm = require("papermill", "runbooks", "dsshare run")
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    try:
        pm.execute_notebook(
            str(source), str(notebook), parameters=dict(parameters), kernel_name=kernel_name,
            progress_bar=False, log_output=False, cwd=None, km=manager,
        )  # fmt: skip
    except PapermillExecutionError as err:
        return _cell_failure(notebook, str(err.ename), str(err.evalue))
    except (DeadKernelError, CellTimeoutError) as err:
        return CellFailure(type(err).__name__, str(err))
    return None


def execute(
    spec: RunbookSpec,
    params: Mapping[str, Any],
    out: str | os.PathLike[str] | None = None,
    *,
    kernel_name: str = KERNEL_NAME,
    notes_folders: Sequence[str | os.PathLike[str]] = (),
) -> RunResult:
    """Execute ``spec``'s notebook with checked ``params`` into a run folder.

    Raises ParameterError (exit code 2) for what can be refused before a kernel starts;
    otherwise returns a :class:`RunResult`, also when a cell raised (the executed notebook
    is written either way) and records it in ``run.json``. ``notes_folders`` are the
    folders ``notes: file:PATH`` may read from (``dsshare run`` passes its ``-f`` files'
    folders; ``$DSSHARE_NOTES_DIR`` is always allowed).
    """
    _skip_iri_grammars()
    # Checked first, nothing started yet; papermill itself is imported once the kernel boots.
    try:
        papermill_found = importlib.util.find_spec("papermill") is not None
    except ImportError:  # a finder that refuses the name (a broken or hidden install)
        papermill_found = False
    if not papermill_found:
        raise MissingExtraError("dsshare run", "papermill", "runbooks")
    require("ipykernel", "runbooks", "dsshare run")  # the kernel the notebooks run on
    from jupyter_client.kernelspec import NoSuchKernel

    source = notebook_path(spec.name)
    notes_text = _check_environment(spec, params, notes_folders)
    chosen = _chosen_folder(params, out)
    _check_organization(params)
    folder = _run_folder(spec, chosen).resolve()
    started = time.monotonic()
    recorded = dict(params, output_dir=str(folder))
    record.write_parameters(folder, recorded)
    kernel_params = dict(recorded)
    env: dict[str, str] = {}
    if notes_text:
        env[NOTES_ENV] = notes_text
        kernel_params["notes"] = f"env:{NOTES_ENV}"
    elif "notes" in kernel_params:
        kernel_params["notes"] = ""
    notebook = folder / f"{spec.name}.ipynb"
    failure: CellFailure | None = None
    logger.info("executing %s into %s", source, folder)
    kernel_log = (folder / KERNEL_LOG).open("ab")
    manager: Any = None
    try:
        with environment(env):  # the kernel inherits the environment it starts with
            manager = _launch_kernel(
                _kernel_manager_logging_to(kernel_log, kernel_manager_class()), kernel_name
            )
        failure = _run_notebook(source, notebook, kernel_params, kernel_name, manager)
    except NoSuchKernel as err:
        failure = CellFailure(type(err).__name__, str(err))
    except KeyboardInterrupt:
        # Ctrl-C: the kernel is stopped (its calls end with it). What finished is in the
        # audit log: record it, and say the run was interrupted. nbclient's cancelled
        # tasks would print "Task exception was never retrieved" tracebacks as they are
        # collected: the operator's terminal gets the summary instead.
        logging.getLogger("asyncio").setLevel(logging.CRITICAL)
        if manager is not None:
            _stop_kernel(manager)
            manager = None
        result = _conclude_interrupted(spec, params, folder, notebook, started)
        result.notes_text = notes_text
        record.write_json(folder / record.RUN_JSON, result.to_dict())
        return result
    finally:
        if manager is not None:
            _stop_kernel(manager)
        kernel_log.close()
    result = _conclude(spec, params, folder, notebook, failure, started)
    result.notes_text = notes_text
    record.write_json(folder / record.RUN_JSON, result.to_dict())
    return result


def run_runbook(
    runbook: str,
    files: Sequence[str | os.PathLike[str]] = (),
    pairs: Sequence[Sequence[str]] = (),
    out: str | os.PathLike[str] | None = None,
    **parameters: Any,
) -> RunResult:
    """:func:`prepare` then :func:`execute`: the whole of ``dsshare run`` without printing.

    Example
    -------
    >>> run_runbook("share_directory", ["parameters/share_directory.sandbox.yaml"],
    ...             dry_run=False)                                         # doctest: +SKIP
    """
    spec, params = prepare(runbook, files, pairs, parameters)
    return execute(spec, params, out, notes_folders=parameter_folders(files))


def parameter_folders(files: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """The folders of the ``-f`` files: where ``notes: file:PATH`` may read from."""
    return list(dict.fromkeys(Path(f).expanduser().resolve().parent for f in files))
