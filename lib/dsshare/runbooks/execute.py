"""Run a runbook headless: check, execute with papermill into a run folder, conclude.

:func:`execute` is what ``dsshare run`` and the demo call. Everything that can be checked
without a kernel is checked first (parameters, the profile, a Region to work in, the run
folder), so a bad parameter costs no kernel start and makes no AWS call. The notebook
then runs with papermill into ``runs/<UTC timestamp>-<runbook>/`` (see
:mod:`dsshare.runbooks.record` for the layout); when a cell raises, papermill still writes
the executed notebook, and the result names the cell and the error.

Literal ShareNotes never reach the executed notebook: the kernel receives
``notes: env:DSSHARE_SHARE_NOTES`` and the text travels in that environment variable.

Exit codes (:attr:`RunResult.exit_code`): 0 success; 1 a target failed or a cell raised;
2 bad parameters (raised as ParameterError before any kernel starts).

Example
-------
>>> spec = get_runbook("share_directory")                                   # doctest: +SKIP
>>> params = resolve_parameters(spec, [load_parameter_file("p.yaml")])        # doctest: +SKIP
>>> execute(spec, params).exit_code                                          # doctest: +SKIP
0
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dsshare.errors import ParameterError

from . import record
from .catalog import get_runbook
from .parameters import (
    NOTES_REFERENCE_PATTERN,
    RunbookSpec,
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
    "parse_overrides",
    "prepare",
    "run_runbook",
    "runbooks_dir",
]

logger = logging.getLogger(__name__)

KERNEL_NAME = "python3"
#: Environment variable carrying literal ShareNotes to the kernel.
NOTES_ENV = "DSSHARE_SHARE_NOTES"
#: Overrides where the runbook notebooks are (default: notebooks/runbooks of the checkout).
RUNBOOKS_DIR_ENV = "DSSHARE_RUNBOOKS_DIR"


def runbooks_dir() -> Path:
    """Folder holding the runbook notebooks."""
    configured = os.environ.get(RUNBOOKS_DIR_ENV)
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[3] / "notebooks" / "runbooks"


def notebook_path(runbook: str) -> Path:
    """The notebook of ``runbook``; ParameterError when it cannot be found."""
    path = runbooks_dir() / f"{runbook}.ipynb"
    if not path.is_file():
        raise ParameterError(
            "runbook", runbook,
            f"a runbook with a notebook in {runbooks_dir()} (set {RUNBOOKS_DIR_ENV} to the "
            "checkout's notebooks/runbooks when dsshare is not installed from a checkout)",
        )  # fmt: skip
    return path


# -- parameter sources ----------------------------------------------------------------------


def load_parameter_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a YAML parameters file (``-f``): a mapping of parameter names to values."""
    target = Path(path)
    try:
        text = target.read_text(encoding="utf-8")
    except OSError as err:
        raise ParameterError("-f", str(path), f"a readable YAML file ({err.strerror})") from err
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ParameterError("-f", str(path), f"valid YAML ({err})") from err
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


def _check_environment(spec: RunbookSpec, params: Mapping[str, Any]) -> None:
    """What can be known about AWS access without calling AWS: profile and Region."""
    import boto3
    from botocore.exceptions import ProfileNotFound

    profile = params.get("profile") or None
    try:
        session = boto3.session.Session(profile_name=profile)
    except ProfileNotFound as err:
        raise ParameterError("profile", profile, "a profile of the AWS config files") from err
    has_region = bool(params.get("region") or params.get("regions") or session.region_name)
    if not has_region:
        name = "region" if "region" in spec.names else "regions"
        raise ParameterError(
            name, params.get(name), "a Region: set it, AWS_DEFAULT_REGION or the profile's region"
        )
    if "notes" in params:
        resolve_notes(params["notes"])


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

    @property
    def status(self) -> str:
        """``ok``, ``failed`` (targets failed) or ``error`` (a cell raised otherwise)."""
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
    import nbformat

    try:
        nb = nbformat.read(str(notebook), as_version=4)  # type: ignore[no-untyped-call]
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


def _run_folder(spec: RunbookSpec, params: Mapping[str, Any], out: str | os.PathLike[str] | None) -> Path:
    chosen = out if out is not None else (params.get("output_dir") or None)
    if chosen is None:
        return record.new_run_folder(spec.name)
    folder = Path(chosen)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        name = "--out" if out is not None else "output_dir"
        raise ParameterError(
            name, str(folder), "a new or empty folder (run folders are records, never overwritten)"
        )
    folder.mkdir(parents=True, exist_ok=True)
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


def execute(
    spec: RunbookSpec,
    params: Mapping[str, Any],
    out: str | os.PathLike[str] | None = None,
    *,
    kernel_name: str = KERNEL_NAME,
) -> RunResult:
    """Execute ``spec``'s notebook with checked ``params`` into a run folder.

    Raises ParameterError (exit code 2) for what can be refused before a kernel starts;
    otherwise returns a :class:`RunResult`, also when a cell raised (the executed notebook
    is written either way) and records it in ``run.json``.
    """
    _skip_iri_grammars()
    import papermill as pm
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    source = notebook_path(spec.name)
    _check_environment(spec, params)
    folder = _run_folder(spec, params, out).resolve()
    started = time.monotonic()
    recorded = dict(params, output_dir=str(folder))
    record.write_parameters(folder, recorded)
    kernel_params = dict(recorded)
    env: dict[str, str] = {}
    notes = kernel_params.get("notes")
    if isinstance(notes, str) and notes and not NOTES_REFERENCE_PATTERN.match(notes):
        env[NOTES_ENV] = notes
        kernel_params["notes"] = f"env:{NOTES_ENV}"
    notebook = folder / f"{spec.name}.ipynb"
    failure: CellFailure | None = None
    logger.info("executing %s into %s", source, folder)
    try:
        with environment(env):
            pm.execute_notebook(
                str(source), str(notebook), parameters=kernel_params, kernel_name=kernel_name,
                progress_bar=False, log_output=False, cwd=None,
            )  # fmt: skip
    except PapermillExecutionError as err:
        failure = _cell_failure(notebook, str(err.ename), str(err.evalue))
    except (DeadKernelError, CellTimeoutError, NoSuchKernel) as err:
        failure = CellFailure(type(err).__name__, str(err))
    result = _conclude(spec, params, folder, notebook, failure, started)
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
    return execute(spec, params, out)
