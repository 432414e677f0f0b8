"""Inventory frames, findings, drift, snapshots and report, from plain data (no AWS)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from bs4 import BeautifulSoup

from dsshare.inventory import build, schema
from dsshare.inventory.drift import drift
from dsshare.inventory.export import export_inventory
from dsshare.inventory.findings import FINDING_TYPES, findings, pending, quota
from dsshare.inventory.model import Inventory, InventoryMeta, Scope
from dsshare.inventory.report import render_report
from dsshare.inventory.snapshot import SnapshotError, read_snapshot, write_snapshot

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
OWNER, MEMBER, OTHER, EXTERNAL = "123456789012", "200000000004", "200000000005", "999900000001"
SECRET = "ticket 4711: please accept, password is hunter2"


def owner_dir(directory_id: str, *, edition: str = "Standard", regions: list[str] | None = None,
              region: str = "us-east-1", name: str = "corp.example.com") -> dict[str, Any]:
    d: dict[str, Any] = {"DirectoryId": directory_id, "Name": name, "Type": "MicrosoftAD",
                         "Edition": edition, "Stage": "Active", "LaunchTime": NOW}
    if regions:
        d["RegionsInfo"] = {"PrimaryRegion": region, "AdditionalRegions": regions}
    return d


def consumer_dir(shared_id: str, owner_id: str, status: str = "Shared") -> dict[str, Any]:
    return {"DirectoryId": shared_id, "Name": "corp.example.com", "Type": "SharedMicrosoftAD",
            "Stage": "Active", "ShareStatus": status, "ShareMethod": "HANDSHAKE",
            "ShareNotes": SECRET, "LaunchTime": NOW,
            "OwnerDirectoryDescription": {"DirectoryId": owner_id, "AccountId": OWNER}}


def record(shared_id: str, account: str, status: str, *, owner_id: str = "d-0000000001",
           method: str = "HANDSHAKE", created: dt.datetime = NOW) -> dict[str, Any]:
    return {"OwnerAccountId": OWNER, "OwnerDirectoryId": owner_id, "SharedAccountId": account,
            "SharedDirectoryId": shared_id, "ShareMethod": method, "ShareStatus": status,
            "ShareNotes": SECRET, "CreatedDateTime": created, "LastUpdatedDateTime": created}


def make(raw: build.RawInventory, *, trusted: bool | None = True,
         regions: tuple[str, ...] = ("us-east-1",)) -> Inventory:
    raw.organization_known = True
    raw.accounts = raw.accounts or [{"Id": a, "Name": f"acct-{a[-2:]}"} for a in (OWNER, MEMBER, OTHER)]
    raw.scope_accounts = raw.scope_accounts or [OWNER, MEMBER, OTHER]
    directories = build.build_directories(raw)
    ous = build.build_organizational_units(raw)
    accounts = build.build_accounts(raw, ous, OWNER)
    meta = InventoryMeta(collected_at=NOW, caller_arn="arn:aws:iam::123456789012:root",
                         scope=Scope(all_accounts=True, regions=list(regions)),
                         trusted_access=trusted, management_account_id=OWNER)
    return Inventory(directories=directories, shares=build.build_shares(raw, directories, accounts),
                     accounts=accounts, organizational_units=ous,
                     errors=build.build_errors(raw), meta=meta)


def world(**changes: Any) -> build.RawInventory:
    """Owner d-0000000001 shared with MEMBER (both sides visible); every unit readable."""
    raw = build.RawInventory(
        directories=[(OWNER, "us-east-1", owner_dir("d-0000000001")),
                     (MEMBER, "us-east-1", consumer_dir("d-00000000a1", "d-0000000001"))],
        share_records=[("us-east-1", record("d-00000000a1", MEMBER, "Shared"))],
        read_units={(OWNER, "us-east-1"), (MEMBER, "us-east-1"), (OTHER, "us-east-1")},
        read_owner_directories={("us-east-1", "d-0000000001")},
    )
    for key, value in changes.items():
        setattr(raw, key, value)
    return raw


def kinds(frame: pd.DataFrame) -> list[str]:
    return sorted(frame["finding"])


def test_every_frame_has_its_declared_columns_and_dtypes_even_when_empty() -> None:
    inv = Inventory.empty()
    for name, frame in {**inv.frames(), "quota": quota(inv), "pending": pending(inv),
                        "findings": findings(inv), "drift": drift(inv, inv)}.items():
        declared = schema.SCHEMAS[name]
        assert list(frame.columns) == declared.names, name
        for column in declared.names:
            assert frame[column].dtype == declared.dtype(column), (name, column)


def test_conform_refuses_undeclared_columns() -> None:
    with pytest.raises(schema.SchemaError, match="ShareNotes"):
        schema.conform([{"region": "us-east-1", "ShareNotes": SECRET}], schema.SHARES)


def test_owner_record_is_joined_to_the_consumer_view() -> None:
    inv = make(world())
    row = inv.shares.iloc[0]
    assert (row["SharedDirectoryId"], row["ShareStatus"], row["consumer_share_status"]) == (
        "d-00000000a1", "Shared", "Shared")
    assert row["owner_record_seen"] and row["consumer_seen"] and row["is_latest"]
    assert row["owner_directory_name"] == "corp.example.com"
    assert row["shared_account_name"] == "acct-04"
    assert row["notes_length"] == len(SECRET) and len(row["notes_sha256"]) == 64
    assert findings(inv).empty


def test_share_notes_text_is_never_in_any_frame() -> None:
    inv = make(world())
    for frame in inv.frames().values():
        assert not frame.astype(str).apply(lambda col: col.str.contains("hunter2")).any().any()


def test_reshared_records_keep_history_and_mark_the_latest() -> None:
    old = record("d-00000000a0", MEMBER, "Deleted", created=NOW - dt.timedelta(days=30))
    raw = world(share_records=[("us-east-1", old), ("us-east-1", record("d-00000000a1", MEMBER, "Shared"))])
    shares = make(raw).shares.set_index("SharedDirectoryId")
    assert not shares.loc["d-00000000a0", "is_latest"] and shares.loc["d-00000000a1", "is_latest"]
    assert not shares.loc["d-00000000a0", "counts_against_quota"]


def test_shared_record_without_consumer_directory_is_a_finding() -> None:
    raw = world(directories=[(OWNER, "us-east-1", owner_dir("d-0000000001"))])
    assert kinds(findings(make(raw))) == ["owner_shared_consumer_missing"]


def test_missing_consumer_is_not_claimed_when_the_consumer_could_not_be_read() -> None:
    raw = world(directories=[(OWNER, "us-east-1", owner_dir("d-0000000001"))],
                read_units={(OWNER, "us-east-1")})
    assert findings(make(raw)).empty


def test_consumer_directory_without_live_owner_record_is_a_finding() -> None:
    deleted = world(share_records=[("us-east-1", record("d-00000000a1", MEMBER, "Deleted"))])
    missing = world(share_records=[])
    for raw in (deleted, missing):
        found = findings(make(raw))
        assert kinds(found) == ["consumer_without_owner_record"]
        assert found.iloc[0]["severity"] == "high" and found.iloc[0]["action"]


def test_share_to_account_outside_the_organization_is_a_finding() -> None:
    raw = world(share_records=[("us-east-1", record("d-00000000a1", MEMBER, "Shared")),
                               ("us-east-1", record("d-00000000b1", EXTERNAL, "PendingAcceptance")),
                               ("us-east-1", record("d-00000000b2", EXTERNAL, "Rejected"))])
    found = findings(make(raw))
    assert kinds(found) == ["share_outside_organization"]
    assert found.iloc[0]["SharedDirectoryId"] == "d-00000000b1"


def test_organizations_shares_are_flagged_when_trusted_access_is_off() -> None:
    raw = world(share_records=[("us-east-1", record("d-00000000a1", MEMBER, "Shared", method="ORGANIZATIONS"))])
    assert findings(make(raw, trusted=True)).empty
    assert kinds(findings(make(raw, trusted=False))) == ["organizations_share_not_renewable"]


def test_replicated_directory_shared_in_only_some_regions_is_a_finding() -> None:
    raw = world()
    raw.directories[0] = (OWNER, "us-east-1", owner_dir("d-0000000001", edition="Enterprise", regions=["eu-west-1"]))
    inv = make(raw, regions=("us-east-1", "eu-west-1"))
    found = findings(inv)
    assert kinds(found) == ["replica_region_unshared"]
    assert found.iloc[0]["region"] == "eu-west-1" and found.iloc[0]["SharedAccountId"] == MEMBER
    assert findings(make(world(directories=raw.directories), regions=("us-east-1",))).empty


def test_failed_share_and_stale_invitation_are_findings() -> None:
    raw = world(share_records=[
        ("us-east-1", record("d-00000000a1", MEMBER, "ShareFailed")),
        ("us-east-1", record("d-00000000a2", OTHER, "PendingAcceptance", created=NOW - dt.timedelta(days=20))),
    ], directories=[(OWNER, "us-east-1", owner_dir("d-0000000001"))])
    inv = make(raw)
    assert kinds(findings(inv)) == ["pending_stale", "share_failed"]
    assert pending(inv)["age_days"].round().tolist() == [20.0]
    assert findings(inv, stale_after_days=30)["finding"].tolist() == ["share_failed"]


def test_quota_headroom_counts_only_live_records() -> None:
    records = [("us-east-1", record(f"d-{i:010x}", f"3000000000{i:02d}", "Shared")) for i in range(20)]
    records += [("us-east-1", record(f"d-{100 + i:010x}", f"3100000000{i:02d}", "Rejected")) for i in range(10)]
    raw = world(share_records=records, directories=[(OWNER, "us-east-1", owner_dir("d-0000000001"))])
    inv = make(raw)
    q = quota(inv).iloc[0]
    assert (q["share_quota"], q["shares_counting"], q["headroom"]) == (25, 20, 5)
    assert "quota_nearly_exhausted" in kinds(findings(inv))
    raw.share_records += [("us-east-1", record(f"d-{200 + i:010x}", f"3200000000{i:02d}", "Sharing")) for i in range(5)]
    assert "quota_exhausted" in kinds(findings(make(raw)))


def test_every_finding_type_has_severity_and_action() -> None:
    for kind, (severity, meaning, action) in FINDING_TYPES.items():
        assert severity in ("high", "medium", "low") and meaning and action, kind


def test_drift_reports_added_removed_and_changed_records() -> None:
    before = make(world(share_records=[("us-east-1", record("d-00000000a1", MEMBER, "Shared")),
                                       ("us-east-1", record("d-00000000a2", OTHER, "PendingAcceptance"))]))
    after_records = [("us-east-1", record("d-00000000a1", MEMBER, "Deleted")),
                     ("us-east-1", record("d-00000000a3", OTHER, "Shared", method="ORGANIZATIONS"))]
    after = make(world(share_records=after_records))
    d = drift(before, after)
    shares = d[d["frame"] == "shares"]
    assert set(zip(shares["change"], shares["SharedDirectoryId"], strict=True)) == {
        ("changed", "d-00000000a1"), ("removed", "d-00000000a2"), ("added", "d-00000000a3")}
    changed = shares[shares["change"] == "changed"].iloc[0]
    assert (changed["field"], changed["before"], changed["after"]) == ("ShareStatus", "Shared", "Deleted")
    assert drift(before, before).empty


def test_snapshot_round_trips_every_frame_with_dtypes(tmp_path: Path) -> None:
    inv = make(world())
    manifest_path = write_snapshot(inv, tmp_path / "snap", parquet=False)
    manifest = json.loads(manifest_path.read_text())
    assert manifest["schema_version"] == schema.SCHEMA_VERSION
    assert manifest["created_by"] == inv.meta.caller_arn and manifest["scope"]["all_accounts"]
    assert manifest["frames"]["shares"]["rows"] == 1
    again = read_snapshot(tmp_path / "snap")
    for name, frame in inv.frames().items():
        pd.testing.assert_frame_equal(getattr(again, name), frame, check_exact=True, obj=name)
    assert again.meta == inv.meta
    assert "hunter2" not in "".join(p.read_text() for p in (tmp_path / "snap").glob("*.csv"))


def test_snapshot_writes_parquet_when_pyarrow_is_installed(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    write_snapshot(make(world()), tmp_path, parquet=True)
    frame = pd.read_parquet(tmp_path / "parquet" / "shares.parquet")
    assert list(frame.columns) == schema.SHARES.names


def test_reading_a_folder_that_is_not_a_snapshot_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="manifest.json"):
        read_snapshot(tmp_path)


def external_references(document: str) -> list[str]:
    soup = BeautifulSoup(document, "html.parser")
    found = []
    for tag in soup.find_all(True):
        for attr in ("src", "href", "xlink:href", "data", "action"):
            value = tag.get(attr)
            if value:
                found.append(f"{tag.name}[{attr}]={value}")
    for style in soup.find_all("style"):
        if "url(" in style.text or "@import" in style.text:
            found.append("css url")
    if soup.find("script") or soup.find("link"):
        found.append("script/link")
    return found


def test_report_is_self_contained_html_with_charts_and_escaped_values() -> None:
    raw = world()
    raw.directories[0] = (OWNER, "us-east-1", owner_dir("d-0000000001", name="<script>x</script>.example"))
    document = render_report(make(raw))
    soup = BeautifulSoup(document, "html.parser")
    assert soup.find("title").text == "Directory sharing inventory"
    assert len(soup.find_all("svg")) == 2
    assert soup.find("script") is None and "&lt;script&gt;" in document
    assert external_references(document) == []
    assert "http://" not in document and "https://" not in document
    headings = [h.text for h in soup.find_all("h2")]
    for wanted in ("Findings", "Pending invitations", "Shares", "Directories", "Collection errors"):
        assert wanted in headings


def test_export_writes_snapshot_report_and_workbook(tmp_path: Path) -> None:
    first = export_inventory(make(world()), tmp_path / "a")
    assert (tmp_path / "a" / "report.html").is_file() and (tmp_path / "a" / "findings.csv").is_file()
    if first.workbook is not None:
        openpyxl = pytest.importorskip("openpyxl")
        assert "shares" in openpyxl.load_workbook(first.workbook).sheetnames
    gone = world(share_records=[], directories=[(OWNER, "us-east-1", owner_dir("d-0000000001"))])
    second = export_inventory(make(gone), tmp_path / "b", compare=tmp_path / "a")
    assert second.drift is not None
    assert second.drift[["frame", "change"]].values.tolist() == [
        ["shares", "removed"], ["directories", "removed"]]
    assert "0 new, 2 gone, 0 changed" in BeautifulSoup(second.report.read_text(), "html.parser").find(id="drift-summary").text


def test_docs_describe_every_column_and_finding_type() -> None:
    text = (Path(__file__).resolve().parent.parent / "docs" / "inventory.md").read_text()
    for frame_schema in schema.SCHEMAS.values():
        assert f"### `{frame_schema.name}`" in text, frame_schema.name
        for column in frame_schema.names:
            assert f"| `{column}` |" in text, (frame_schema.name, column)
    for kind in FINDING_TYPES:
        assert f"`{kind}`" in text, kind


def test_scope_is_validated_before_any_call() -> None:
    from dsshare.errors import ParameterError
    from dsshare.inventory.collect import collect_inventory

    class NoCalls:  # any attribute access would mean an AWS call was attempted
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"touched the connection: {name}")

    for bad in ({"accounts": ["12345"]}, {"ous": ["not-an-ou"]}, {"concurrency": 0},
                {"accounts": [MEMBER], "all_accounts": True}, {"regions": ["mars-1"]}):
        with pytest.raises(ParameterError):
            collect_inventory(NoCalls(), **bad)  # type: ignore[arg-type]
