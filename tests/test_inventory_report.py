"""The HTML report as an auditor reads it: header, banner, tables, headings and values.

Collected from the demo sandbox over HTTP, exported, and read back with BeautifulSoup.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, Tag

import dsshare
from dsshare.connection import Connection
from dsshare.inventory import findings, pending, quota, schema
from dsshare.inventory.collect import collect_inventory
from dsshare.inventory.export import Export, export_inventory
from dsshare.inventory.present import HEADINGS, human_age, percent
from dsshare.inventory.report import render_report
from dsshare.sandbox import Sandbox

REGIONS = ["us-east-1", "eu-west-1"]


def collect_and_export(out: Path, compare: Path | None = None) -> Export:
    inv = collect_inventory(Connection(regions=REGIONS), all_accounts=True, concurrency=8)
    return export_inventory(inv, out, compare=compare)


def soup_of(result: Export) -> BeautifulSoup:
    return BeautifulSoup(result.report.read_text(encoding="utf-8"), "html.parser")


def table(soup: BeautifulSoup, name: str) -> tuple[list[str], list[list[Tag]]]:
    found = soup.find("table", attrs={"data-table": name})
    assert isinstance(found, Tag), f"no {name} table"
    heads = [th.get_text() for th in found.find("thead").find_all("th")]
    rows = [tr.find_all("td") for tr in found.find("tbody").find_all("tr")]
    return heads, rows


def column(soup: BeautifulSoup, name: str, heading: str) -> list[Tag]:
    heads, rows = table(soup, name)
    index = heads.index(heading)
    return [r[index] for r in rows]


@pytest.fixture
def compared(aws_env: Sandbox, aws, tmp_path: Path) -> tuple[Export, Export, Sandbox]:
    """Two exports: before, and after one more share and with one account unreadable."""
    first = collect_and_export(tmp_path / "before")
    aws("ds").share_directory(DirectoryId=aws_env.directory_id("global.example.com"), ShareMethod="HANDSHAKE",
                              ShareTarget={"Id": aws_env.account_id("sandbox-bob"), "Type": "ACCOUNT"})
    aws_env.add_fault("AssumeRole", code="AccessDenied", account_id=aws_env.account_id("sandbox-carol"))
    second = collect_and_export(tmp_path / "after", compare=tmp_path / "before")
    return first, second, aws_env


def test_header_names_tool_version_scope_and_the_snapshot_compared(compared) -> None:
    first, second, _ = compared
    soup = soup_of(second)
    assert f"dsshare {dsshare.__version__}" in soup.find(id="meta-tool").get_text()
    assert soup.find(id="meta-scope").get_text() == (
        "Scope: 13 accounts × 2 Regions (us-east-1, eu-west-1), the whole organization")
    taken = first.manifest.parent.joinpath("manifest.json").read_text()
    assert '"collected_at"' in taken
    compared_text = soup.find(id="meta-compared").get_text()
    stamp = re.search(r"taken (\d{4}-\d\d-\d\d \d\d:\d\d UTC)", compared_text)
    assert str(first.folder) in compared_text and stamp is not None
    summary = soup.find(id="drift-summary").get_text()
    assert summary == f"Compared with {first.folder}, taken {stamp.group(1)}: 2 new, 0 gone, 0 changed."
    assert "none (no --compare)" in soup_of(first).find(id="meta-compared").get_text()


def test_an_incomplete_collection_opens_with_a_banner_naming_the_accounts_and_regions(compared) -> None:
    first, second, sb = compared
    carol = sb.account_id("sandbox-carol")
    body = soup_of(second).body
    banner = body.find(id="incomplete")
    assert banner is not None and banner.get("role") == "alert"
    first_block = next(c for c in body.children if isinstance(c, Tag) and c.name != "header")
    assert first_block is banner, "the banner comes before tiles and tables"
    assert f"{carol} (sandbox-carol): eu-west-1, us-east-1 (AccessDenied)" in banner.get_text()
    assert "1 account could not be read" in banner.get_text()
    assert soup_of(first).find(id="incomplete") is None


def test_accounts_and_ou_tables_list_the_organization(compared) -> None:
    _, second, sb = compared
    soup = soup_of(second)
    heads, rows = table(soup, "accounts")
    assert heads == ["Id", "Name", "Status", "OU path", "Management account", "In scope",
                     "Regions read", "Regions failed"]
    ids = [r[0].get_text() for r in rows]
    assert sb.account_id("prod-app1") in ids and len(ids) == 13
    carol = rows[ids.index(sb.account_id("sandbox-carol"))]
    assert carol[0].find_parent("tr").get("class") == ["failed"]
    assert carol[3].get_text() == "Root/Sandbox" and carol[7].get_text() == "2"
    heads, rows = table(soup, "organizational_units")
    assert heads == ["Id", "Name", "Path", "Depth", "Accounts (direct)"]
    paths = {r[2].get_text(): r[4].get_text() for r in rows}
    assert paths["Root/Workloads/Prod"] == "3" and paths["Root"] == "1"


def test_ages_and_quota_read_as_people_say_them(compared) -> None:
    _, second, _ = compared
    soup = soup_of(second)
    text = soup.get_text()
    assert not re.search(r"\d\.\d+e-\d\d", text), "no scientific notation"
    waiting = [c.get_text() for c in column(soup, "pending", "Waiting")]
    assert waiting and all(re.fullmatch(r"just now|\d+ min|\d+ h( \d+ min)?|\d+ d( \d+ h)?", w) for w in waiting)
    assert "just now" in waiting  # the share made a moment ago
    used = [c.get_text() for c in column(soup, "quota", "Quota used")]
    assert used and all(re.fullmatch(r"\d+(\.\d)?%", u) for u in used), used
    assert human_age(3.27e-05) == "just now" and percent(0.006) == "0.6%" and percent(0.08) == "8%"


def test_headings_are_aws_field_names_or_readable_words(compared) -> None:
    _, second, _ = compared
    soup = soup_of(second)
    aws_fields = {c.name for s in schema.SCHEMAS.values() for c in s.columns if c.description.startswith("AWS")}
    readable = set(HEADINGS.values())
    headings = {th.get_text() for th in soup.find_all("th")}
    assert headings and headings <= aws_fields | readable, headings - aws_fields - readable
    assert not [h for h in headings if "_" in h], "no snake_case heading"
    assert "SharedDirectoryId" in headings and "Owner directory" in headings


def test_the_docs_list_every_heading() -> None:
    text = (Path(__file__).resolve().parent.parent / "docs" / "inventory.md").read_text()
    for column, heading in HEADINGS.items():
        assert f"| `{column}` | {heading} |" in text, column


def test_ids_regions_and_times_never_break_inside(compared) -> None:
    _, second, sb = compared
    soup = soup_of(second)
    css = soup.find("style").get_text()
    assert "td.nw,.nw{white-space:nowrap" in css and "@media print" in css and "@page{size:A4" in css
    for heading in ("Region", "OwnerAccountId", "SharedAccountId", "SharedDirectoryId"):
        cells = column(soup, "shares", heading)
        assert cells and all("nw" in (c.get("class") or []) for c in cells), heading
    ids = [c.get_text() for c in column(soup, "shares", "SharedDirectoryId")]
    assert all(re.fullmatch(r"d-[0-9a-f]{10}", i) for i in ids), "the data itself is exact"
    for cell in column(soup, "shares", "CreatedDateTime"):
        assert [s.get("class") for s in cell.find_all("span")] == [["nw"], ["nw"]]
    # Ids inside prose are kept whole too.
    detail = column(soup, "findings", "Detail")[0]
    assert {s.get_text() for s in detail.find_all("span", class_="nw")} >= {"999900000001"}


def test_the_report_stays_offline(compared) -> None:
    _, second, _ = compared
    document = second.report.read_text(encoding="utf-8")
    soup = BeautifulSoup(document, "html.parser")
    assert soup.find("script") is None and soup.find("link") is None and soup.find("img") is None
    links = [a.get("href") for a in soup.find_all(href=True)]
    assert links and all(link.startswith("#") for link in links), links
    assert "url(" not in soup.find("style").get_text() and "http" not in document.replace("http-equiv", "")


def test_an_unreadable_organization_is_named_in_the_banner(aws_env: Sandbox, monkeypatch, tmp_path: Path) -> None:
    import boto3

    member = aws_env.account_id("prod-data")
    creds = boto3.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{member}:role/{aws_env.manifest['role_name']}", RoleSessionName="report-test"
    )["Credentials"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", creds["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", creds["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", creds["SessionToken"])
    inv = collect_inventory(Connection(regions=["us-east-1"]))
    banner = soup_of(export_inventory(inv, tmp_path / "m")).find(id="incomplete")
    assert banner is not None
    text = " ".join(banner.get_text().split())
    assert "Not everything was read" in text
    assert re.search(r"The organization could not be read \(\w+\): account names, OU paths", text), text


def test_the_exported_report_is_the_one_rendered_from_the_inventory_alone(aws_env: Sandbox, aws, tmp_path: Path) -> None:
    # The export computes quota, pending and findings once and hands them to the report;
    # what the operator reads must be what the report computes on its own.
    aws("ds").share_directory(DirectoryId=aws_env.directory_id("global.example.com"), ShareMethod="HANDSHAKE",
                              ShareTarget={"Id": aws_env.account_id("sandbox-bob"), "Type": "ACCOUNT"})
    inv = collect_inventory(Connection(regions=REGIONS), all_accounts=True, concurrency=8)
    result = export_inventory(inv, tmp_path / "out")
    assert result.report.read_text(encoding="utf-8") == render_report(inv)
    assert result.findings.equals(findings(inv)) and len(result.pending) == len(pending(inv)) > 0
    assert result.quota.equals(quota(inv))
