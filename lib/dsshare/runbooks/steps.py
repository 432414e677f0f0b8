"""The steps runbook notebooks call, so each cell stays a few lines.

Every function takes the :class:`RunContext` that :func:`start` returns, does one step,
writes what that step leaves in the run folder, and returns a value for the cell to show.
Nothing here prints or displays: the notebook presents.

A mutating runbook reads as::

    run = steps.start("share_directory", globals())   # check parameters, run folder, connection
    plan = steps.plan_share(run)                      # plan.csv / plan.json, with preflight rows
    steps.check_expected_plan(run, plan)              # refuse unless the reviewed fingerprint
    results = steps.apply_plan(run, plan)             # dry run: the plan as results; else apply
    steps.raise_for_failures(results)                 # a failed target fails the run

Example
-------
>>> run = start("share_directory", {"directory_id": "d-1234567890",
...                                 "targets": ["200000000004"]})  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from dsshare.audit import AuditLog
from dsshare.connection import Connection
from dsshare.desired import load_desired_state
from dsshare.errors import DsShareError, ParameterError, PlanMismatchError, WaitTimeoutError
from dsshare.execution import apply, plan_frame_as_results
from dsshare.inventory.adoption import (
    ACTIVE_STATUS,
    Adoption,
    adopt_inventory,
    write_desired_state,
    write_terraform,
)
from dsshare.inventory.collect import collect_inventory as collect
from dsshare.inventory.export import Export
from dsshare.inventory.export import export_inventory as export
from dsshare.inventory.model import Inventory
from dsshare.inventory.snapshot import MANIFEST, read_manifest, read_snapshot
from dsshare.model import RESULT_COLUMNS, Action, Outcome, row_changes
from dsshare.planning import Plan, plan, plan_desired_state, replan
from dsshare.planning import plan_responses as plan_invitation_responses

from . import record
from .catalog import LATEST, get_runbook
from .parameters import (
    ALL,
    RunbookSpec,
    connection_regions,
    resolve_notes,
    resolve_parameters,
)

__all__ = [
    "ADOPTED_DESIRED",
    "ADOPTED_TERRAFORM",
    "RunContext",
    "TargetsFailedError",
    "adoption_inventory",
    "adoption_results",
    "adoption_summary",
    "apply_plan",
    "check_expected_plan",
    "collect_inventory",
    "describe_adoption",
    "export_inventory",
    "inventory_results",
    "latest_snapshot",
    "outcome_counts",
    "plan_reconcile",
    "plan_responses",
    "plan_share",
    "plan_unshare",
    "raise_for_failures",
    "start",
    "summarize",
    "write_adoption",
]

logger = logging.getLogger(__name__)


class TargetsFailedError(DsShareError):
    """One or more targets failed or are in doubt; their rows in results.csv say why."""

    default_next_step = (
        "Read the failed rows (error_code, message) in results.csv, fix the cause, and run "
        "the runbook again: targets already done are skipped, and a target in doubt (its "
        "call may have landed) is re-read and skipped or completed."
    )

    def __init__(self, failed: list[dict[str, Any]]) -> None:
        self.failed = failed
        listed = ", ".join(
            f"{row.get('account_id') or '-'} ({row.get('error_code') or 'failed'}"
            + (", in doubt)" if row.get("outcome") == Outcome.IN_DOUBT else ")")
            for row in failed[:10]
        )
        more = f" and {len(failed) - 10} more" if len(failed) > 10 else ""
        super().__init__(f"{len(failed)} target(s) failed or in doubt: {listed}{more}.")


class _Reviewable(Protocol):
    @property
    def fingerprint(self) -> str: ...

    def to_frame(self) -> pd.DataFrame: ...


@dataclass
class RunContext:
    """One runbook run: checked parameters, its folder, the connection and the audit log."""

    spec: RunbookSpec
    params: dict[str, Any]
    folder: Path
    conn: Connection
    audit: AuditLog
    notes: str = field(default="", repr=False)

    @property
    def dry_run(self) -> bool:
        """True when the run only plans (mutating runbooks default to it)."""
        return bool(self.params.get("dry_run", False))

    @property
    def timeout(self) -> float:
        """Seconds to wait for final statuses."""
        return float(self.params.get("wait_timeout_minutes", 10.0)) * 60.0

    def describe(self) -> pd.DataFrame:
        """What this run is about to do and where, for the first cell's output."""
        conn = self.conn
        facts: dict[str, Any] = {
            "runbook": self.spec.name,
            "run folder": str(self.folder),
            "caller account": conn.caller_account_id,
            "Regions": ", ".join(conn.regions),
            "endpoint": conn.endpoint_url or "AWS",
            "role in member accounts": conn.role_name,
        }
        if self.spec.mutating:
            facts["mode"] = "dry run (nothing changes)" if self.dry_run else "apply"
        return pd.DataFrame({self.spec.title: pd.Series(facts)})


# -- start ---------------------------------------------------------------------------------


def start(runbook: str, namespace: Mapping[str, Any]) -> RunContext:
    """Check the runbook's parameters from ``namespace`` (the notebook's globals), create the
    run folder and the connection.

    The parameters are checked again here so a plain ``papermill`` run is as safe as
    ``dsshare run``; a bad one raises ParameterError naming it, before any AWS call.
    """
    spec = get_runbook(runbook)
    given = {name: namespace[name] for name in spec.names if name in namespace}
    params = resolve_parameters(spec, [given])
    notes = resolve_notes(params["notes"]) if "notes" in params else ""
    if params["output_dir"]:
        folder = Path(params["output_dir"])
        folder.mkdir(parents=True, exist_ok=True)
    else:
        folder = record.new_run_folder(runbook)
    folder = folder.resolve()
    if not (folder / record.PARAMETERS).exists():
        record.write_parameters(folder, params)
    (folder / record.AUDIT).touch()
    conn = Connection(
        profile=params["profile"] or None,
        region=params.get("region") or _snapshot_region(params, folder),
        regions=connection_regions(params),
        endpoint_url=params["endpoint_url"] or None,
        role_name=params["role_name"],
    )
    logger.info("runbook %s starting in %s", runbook, folder)
    return RunContext(spec, params, folder, conn, AuditLog(folder / record.AUDIT), notes)


# -- plan ----------------------------------------------------------------------------------


def _keep_plan(run: RunContext, plan: _Reviewable) -> None:
    record.write_plan(run.folder, plan.to_frame(), plan.fingerprint, dry_run=run.dry_run)


def plan_share(run: RunContext) -> Plan:
    """Plan ShareDirectory for the targets (OUs expanded); writes plan.csv and plan.json."""
    p = run.params
    the_plan = plan(
        run.conn, p["directory_id"], p["targets"], method=p["method"], notes=run.notes,
        action=Action.SHARE, allow_external=p["allow_external"], region=p["region"] or None,
        regions=p["regions"] or None,
    )  # fmt: skip
    _keep_plan(run, the_plan)
    return the_plan


def plan_unshare(run: RunContext) -> Plan:
    """Plan UnshareDirectory; ``targets: [ALL]`` means every account currently shared with,
    in each Region planned (``regions``)."""
    p = run.params
    the_plan = plan(
        run.conn, p["directory_id"], p["targets"], action=Action.UNSHARE,
        region=p["region"] or None, regions=p["regions"] or None,
    )  # fmt: skip
    _keep_plan(run, the_plan)
    return the_plan


def plan_reconcile(run: RunContext) -> Plan:
    """Plan every directory of the desired state (with prune), in each directory's Regions
    (``regions`` for those that name none); writes plan.csv/plan.json."""
    desired = load_desired_state(run.params["desired_state"])
    the_plan = plan_desired_state(
        run.conn, desired, prune=run.params["prune"], regions=run.params["regions"] or None
    )
    _keep_plan(run, the_plan)
    return the_plan


def plan_responses(run: RunContext) -> Plan:
    """Find invitations in the chosen consumer accounts and decide accept/reject/skip/refuse.

    Owners outside the organization are refused unless ``allow_external_owners``; the
    guardrails policy applies as for any plan.
    """
    p = run.params
    the_plan = plan_invitation_responses(
        run.conn, p["accounts"], p["action"], owner_account_ids=p["owner_account_ids"],
        owner_directory_ids=p["owner_directory_ids"], regions=p["regions"] or None,
        allow_external_owners=bool(p.get("allow_external_owners", False)),
    )  # fmt: skip
    _keep_plan(run, the_plan)
    return the_plan


def check_expected_plan(run: RunContext, plan: _Reviewable) -> str:
    """Refuse (PlanMismatchError) unless the live plan is the reviewed one; return the verdict.

    On a mismatch results.csv/json record every row as skipped with error_code
    ``PlanMismatch`` before the error is raised, so the run folder says nothing was done.
    """
    expected = run.params.get("expected_plan") or ""
    if not expected:
        return "no expected_plan given: nothing to compare (set it to apply a reviewed plan)"
    if plan.fingerprint == expected:
        return f"the live plan matches the reviewed fingerprint {expected}"
    _record_not_applied(run, plan)
    reviewed = _reviewed_rows(run.folder.parent, expected, exclude=run.folder)
    changed = [] if reviewed is None else row_changes(reviewed, [{str(k): v for k, v in r.items()} for r in plan.to_frame().to_dict("records")])
    raise PlanMismatchError(expected, plan.fingerprint, changed)


def _reviewed_rows(runs_root: Path, fingerprint: str, exclude: Path) -> list[dict[str, Any]] | None:
    """The rows of the dry run that printed ``fingerprint`` (its plan.json under
    ``runs_root``), or None when no such run folder is there."""
    for path in sorted(runs_root.glob(f"*/{record.PLAN_JSON}"), reverse=True):
        if path.parent == exclude:
            continue
        data = record.read_json(path)
        if isinstance(data, dict) and data.get("fingerprint") == fingerprint:
            rows = data.get("rows")
            return list(rows) if isinstance(rows, list) else None
    return None


def _record_not_applied(run: RunContext, plan: _Reviewable) -> None:
    """results.csv/json: every row skipped with error_code PlanMismatch (nothing applied)."""
    frame = plan.to_frame()
    rows = [
        {
            "directory_id": row.get("directory_id"),
            "region": row.get("region"),
            "account_id": row.get("account_id"),
            "action": row.get("action"),
            "outcome": Outcome.SKIPPED,
            "share_status": row.get("share_status"),
            "shared_directory_id": row.get("shared_directory_id"),
            "method": row.get("method"),
            "error_code": "PlanMismatch",
            "message": "not applied: the live plan differs from the reviewed one",
        }
        for row in record.frame_records(frame)
    ]
    record.write_results(run.folder, pd.DataFrame(rows, columns=list(RESULT_COLUMNS)))


# -- apply ---------------------------------------------------------------------------------


def apply_plan(run: RunContext, plan: Plan) -> pd.DataFrame:
    """Apply the plan (or, on a dry run, show it as results); writes results.csv/json.

    The plan is re-checked against live state just before applying (its fingerprint), so
    what is applied is what the cells above show. If live state changed in between (another
    run sharing the same directory, say): with ``expected_plan`` set the run refuses, and
    results record every row as not applied (PlanMismatch); without it the live plan is
    recorded (plan.csv/json) and applied instead, so targets the other run shared become
    ``skipped`` rows rather than an error. Targets still pending at the timeout are failed
    rows (error_code WaitTimeout), not an exception. The same for every mutating runbook:
    owner-side plans and consumer-side ones (:func:`plan_responses`) alike.
    """
    if run.dry_run:
        results = plan_frame_as_results(plan)
    else:
        options: dict[str, Any] = {
            "auto_accept": bool(run.params.get("auto_accept", False)), "timeout": run.timeout,
            "audit": run.audit, "progress": False,
        }  # fmt: skip
        try:
            try:
                results = apply(run.conn, plan, expected_fingerprint=plan.fingerprint, **options)
            except PlanMismatchError:
                if run.params.get("expected_plan"):
                    _record_not_applied(run, plan)
                    raise
                live = replan(run.conn, plan)
                logger.warning("live state changed since the plan above; applying the live plan")
                _keep_plan(run, live)
                # Calls that still race (DirectoryAlreadyShared...) are reported skipped.
                results = apply(run.conn, live, **options)
        except WaitTimeoutError as err:
            if err.results is None:
                raise
            results = err.results
        finally:
            run.audit.close()
    record.write_results(run.folder, results)
    return results


# -- inventory -----------------------------------------------------------------------------


def collect_inventory(run: RunContext) -> Inventory:
    """Collect the inventory over the chosen accounts/OUs and Regions."""
    p = run.params
    accounts = [a for a in p["accounts"] if a != ALL]
    ous = [o for o in p["ous"] if o != ALL]
    everything = ALL in p["accounts"] or ALL in p["ous"] or not (accounts or ous)
    return collect(
        run.conn, accounts=accounts or None, ous=ous or None, all_accounts=everything,
        regions=p["regions"] or None,
    )  # fmt: skip


def latest_snapshot(runs_root: Path, exclude: Path | None = None) -> Path | None:
    """The newest snapshot folder under ``runs_root`` (by collection time), or None.

    Looks at inventory_report runs (``<run>/snapshot/``) and ``dsshare inventory`` output
    folders (``<folder>/manifest.json``).
    """
    found: list[tuple[str, Path]] = []
    for manifest in [*runs_root.glob(f"*/{MANIFEST}"), *runs_root.glob(f"*/snapshot/{MANIFEST}")]:
        folder = manifest.parent.resolve()
        if exclude is not None and (folder == exclude or exclude in folder.parents):
            continue
        data = record.read_json(manifest) or {}
        found.append((str(data.get("collected_at", "")), folder))
    return max(found)[1] if found else None


def export_inventory(run: RunContext, inventory: Inventory) -> Export:
    """Write snapshot/, findings and drift into the run folder, and report.html beside them."""
    compare: Path | None = None
    if run.params["compare_to"] == LATEST:
        compare = latest_snapshot(run.folder.parent, exclude=run.folder)
    elif run.params["compare_to"]:
        compare = Path(run.params["compare_to"])
    result = export(inventory, run.folder / "snapshot", compare=compare)
    report = run.folder / result.report.name
    result.report.replace(report)
    result.report = report
    return result


def inventory_results(run: RunContext, inventory: Inventory) -> pd.DataFrame:
    """One result row per account read (failed when a Region could not be read)."""
    errors = inventory.errors
    rows: list[dict[str, Any]] = []
    accounts = inventory.accounts
    if "in_scope" in accounts:
        accounts = accounts[accounts["in_scope"].fillna(False).astype(bool)]
    for account in record.frame_records(accounts):
        account_id = account["Id"]
        mine = errors[errors["account_id"] == account_id]
        failed = int(account.get("regions_failed") or 0) > 0 or len(mine) > 0
        rows.append({
            "directory_id": None, "region": None, "account_id": account_id,
            "action": "inventory", "outcome": Outcome.FAILED if failed else Outcome.DONE,
            "share_status": None, "shared_directory_id": None, "method": None,
            "error_code": str(mine["code"].iloc[0]) if len(mine) else None,
            "message": f"{account.get('regions_read') or 0} Region(s) read"
            + (f", {len(mine)} unit(s) could not be read" if len(mine) else ""),
        })  # fmt: skip
    for error in record.frame_records(errors[errors["account_id"].fillna("") == ""]):
        rows.append({
            "directory_id": None, "region": error.get("region"), "account_id": None,
            "action": "inventory", "outcome": Outcome.FAILED, "share_status": None,
            "shared_directory_id": None, "method": None, "error_code": error.get("code"),
            "message": f"{error.get('stage')}: {error.get('message')}",
        })  # fmt: skip
    results = pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
    record.write_results(run.folder, results)
    return results


# -- adoption ------------------------------------------------------------------------------

#: The desired-state file and the Terraform folder adopt_shares writes into its run folder.
ADOPTED_DESIRED = "desired_state.yaml"
ADOPTED_TERRAFORM = "terraform"


def describe_adoption(run: RunContext) -> pd.DataFrame:
    """What adopt_shares reads and writes; no AWS call when it adopts from a snapshot."""
    source = _adoption_snapshot(run)
    if source is None:
        return run.describe()
    facts = {
        "runbook": run.spec.name,
        "run folder": str(run.folder),
        "source": f"snapshot {source} (no AWS call)",
        "output": run.params["output_format"],
    }
    return pd.DataFrame({run.spec.title: pd.Series(facts)})


def _adoption_snapshot(run: RunContext) -> Path | None:
    return _snapshot_folder(run.params, run.folder)


def _snapshot_folder(params: Mapping[str, Any], folder: Path) -> Path | None:
    """The snapshot an adoption reads (``snapshot``: a folder or ``latest``), or None."""
    chosen = params.get("snapshot")
    if not chosen:
        return None
    if chosen == LATEST:
        found = latest_snapshot(folder.parent, exclude=folder)
        if found is None:
            raise ParameterError(
                "snapshot", LATEST, f"a snapshot folder: none was found under {folder.parent}"
            )
        return found
    return Path(chosen)


def _snapshot_region(params: Mapping[str, Any], folder: Path) -> str | None:
    """A Region for the connection of a run that reads a snapshot and calls no AWS API:
    the snapshot's first, so a machine with no Region configured can adopt from it."""
    source = _snapshot_folder(params, folder)
    if source is None:
        return None
    regions = read_manifest(source).get("scope", {}).get("regions") or []
    return str(regions[0]) if regions else None


def adoption_inventory(run: RunContext) -> Inventory:
    """The inventory to adopt: read from ``snapshot`` when set, else collected live."""
    source = _adoption_snapshot(run)
    return collect_inventory(run) if source is None else read_snapshot(source)


def write_adoption(run: RunContext, inventory: Inventory) -> Adoption:
    """Write desired_state.yaml and/or terraform/*.tf into the run folder (``output_format``)."""
    adoption = adopt_inventory(inventory)
    chosen = run.params["output_format"]
    if chosen in ("desired", "both"):
        write_desired_state(adoption, run.folder / ADOPTED_DESIRED, force=True)
    if chosen in ("terraform", "both"):
        write_terraform(
            adoption, run.folder / ADOPTED_TERRAFORM, role_name=run.conn.role_name, force=True
        )
    return adoption


def adoption_results(run: RunContext, adoption: Adoption, inventory: Inventory) -> pd.DataFrame:
    """One result row per share record: ``adopted``, or ``commented`` with why; a failed row
    per account the inventory could not read (its shares may be missing)."""
    rows: list[dict[str, Any]] = []
    for share in adoption.shares:
        rows.append({
            "directory_id": share.owner_directory_id, "region": share.region,
            "account_id": share.shared_account_id, "action": "adopt", "outcome": "adopted",
            "share_status": ACTIVE_STATUS, "shared_directory_id": share.shared_directory_id,
            "method": share.method, "error_code": None, "message": "adopted",
        })  # fmt: skip
    for left in adoption.left_out:
        rows.append({
            "directory_id": left.owner_directory_id, "region": left.region,
            "account_id": left.shared_account_id, "action": "adopt", "outcome": "commented",
            "share_status": left.status or None, "shared_directory_id": left.shared_directory_id,
            "method": left.method, "error_code": None, "message": left.reason,
        })  # fmt: skip
    for error in record.frame_records(inventory.errors.drop_duplicates(["account_id", "region"])):
        rows.append({
            "directory_id": error.get("directory_id"), "region": error.get("region"),
            "account_id": error.get("account_id"), "action": "adopt", "outcome": "failed",
            "share_status": None, "shared_directory_id": None, "method": None,
            "error_code": error.get("code"),
            "message": f"could not be read ({error.get('stage')}): its shares are not adopted",
        })  # fmt: skip
    results = pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
    record.write_results(run.folder, results)
    return results


def adoption_summary(adoption: Adoption, run: RunContext) -> str:
    """One line for the operator: how many shares were adopted, how many are comments, where."""
    counts = adoption.summary()
    written = [
        str(run.folder / name)
        for name in (ADOPTED_DESIRED, ADOPTED_TERRAFORM)
        if (run.folder / name).exists()
    ]
    return (
        f"{counts['adopted']} share(s) adopted, {counts['commented']} record(s) listed as "
        f"comments, over {counts['directories']} directory entries: {', '.join(written)}"
    )


# -- outcome -------------------------------------------------------------------------------


def outcome_counts(results: pd.DataFrame) -> dict[str, int]:
    """Rows per outcome, e.g. ``{"done": 3, "skipped": 1}``."""
    return {str(k): int(v) for k, v in results["outcome"].value_counts().sort_index().items()}


def summarize(results: pd.DataFrame) -> str:
    """One line: the outcome counts (what ``dsshare run`` also prints)."""
    counts = outcome_counts(results)
    return "outcomes: " + (", ".join(f"{k} {v}" for k, v in counts.items()) or "no targets")


def raise_for_failures(results: pd.DataFrame) -> None:
    """Raise TargetsFailedError when any row failed, so the run (and papermill) fails."""
    failed = results[results["outcome"].isin([Outcome.FAILED, Outcome.IN_DOUBT])]
    if len(failed):
        raise TargetsFailedError(record.frame_records(failed))

