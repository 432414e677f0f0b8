"""The HTML report in headless Chromium: a 1280 px screen and A4 print, no column lost.

Debian's ``chromium`` through Playwright (never a downloaded browser). Without chromium
these tests skip, unless ``CI`` is set: then they fail, so CI always runs them.

Two checks for print: in print media emulation at the A4 page's content width (portrait
and landscape, 10 mm margins), no table, cell or the page itself is wider than the page;
and the PDF Chromium prints at A4 holds the text of every table's last column
(``pdftotext`` from poppler-utils: skipped without it, a failure under ``CI``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dsshare.connection import Connection
from dsshare.inventory.collect import collect_inventory
from dsshare.inventory.export import export_inventory
from dsshare.sandbox import Sandbox

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(240)]

#: A4 in CSS pixels (96 per inch) and the report's 10 mm print margins.
A4 = {"portrait": (794, 1123), "landscape": (1123, 794)}
MARGIN = 38
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]  # fmt: skip

#: For each element that could overflow: how far its right edge goes past the page.
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const el of document.querySelectorAll('table, td, th, svg, .banner, .tiles, p, header')) {
    const box = el.getBoundingClientRect();
    const clipped = el.scrollWidth - el.clientWidth;
    if (box.right > width + 0.5 || (el.tagName !== 'svg' && clipped > 1)) {
      out.push({tag: el.tagName, table: (el.closest('table') || {dataset: {}}).dataset.table || null,
                text: el.textContent.slice(0, 40), right: box.right, width, clipped});
    }
  }
  return {overflow: out, page: document.documentElement.scrollWidth, width};
}"""


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    path = shutil.which("chromium")
    if path is None:
        message = "chromium is not installed (.ci/run installs it with apt)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must run the browser tests", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def report(aws_env: Sandbox, aws, tmp_path: Path) -> Path:
    """A report with every section filled: findings, drift, an unreadable account, long names."""
    regions = ["us-east-1", "eu-west-1"]
    export_inventory(collect_inventory(Connection(regions=regions), all_accounts=True, concurrency=8), tmp_path / "before")
    org = aws("organizations")
    root = org.list_roots()["Roots"][0]["Id"]
    long_ou = org.create_organizational_unit(ParentId=root, Name="Business-Unit-" + "X" * 100)
    alice = aws_env.account_id("sandbox-alice")
    parent = org.list_parents(ChildId=alice)["Parents"][0]["Id"]
    org.move_account(AccountId=alice, SourceParentId=parent,
                     DestinationParentId=long_ou["OrganizationalUnit"]["Id"])
    aws("ds").share_directory(DirectoryId=aws_env.directory_id("global.example.com"), ShareMethod="HANDSHAKE",
                              ShareTarget={"Id": aws_env.account_id("sandbox-bob"), "Type": "ACCOUNT"})
    aws_env.add_fault("AssumeRole", code="AccessDenied", account_id=aws_env.account_id("sandbox-carol"),
                      message="User is not authorized to perform sts:AssumeRole on resource " + "y" * 80)
    after = export_inventory(collect_inventory(Connection(regions=regions), all_accounts=True, concurrency=8), tmp_path / "after",
                             compare=tmp_path / "before")
    return after.report


def open_report(chromium: Any, report: Path, width: int, height: int, media: str) -> Any:
    page = chromium.new_page(viewport={"width": width, "height": height})
    offsite: list[str] = []

    def block(route: Any) -> None:
        offsite.append(route.request.url)
        route.abort()

    page.route(lambda url: not url.startswith("file:"), block)
    page.emulate_media(media=media)
    page.goto(report.resolve().as_uri())
    page.offsite = offsite
    return page


def test_the_report_fits_a_1280_px_screen(chromium: Any, report: Path) -> None:
    page = open_report(chromium, report, 1280, 900, "screen")
    try:
        layout = page.evaluate(OVERFLOW)
        assert layout["overflow"] == [] and layout["page"] <= 1280, layout
        assert page.offsite == []
    finally:
        page.close()


@pytest.mark.parametrize("orientation", ["portrait", "landscape"])
def test_every_table_fits_an_a4_page(chromium: Any, report: Path, orientation: str, tmp_path: Path) -> None:
    width, height = A4[orientation]
    page = open_report(chromium, report, width - 2 * MARGIN, height - 2 * MARGIN, "print")
    try:
        layout = page.evaluate(OVERFLOW)
        assert layout["overflow"] == [] and layout["page"] <= width - 2 * MARGIN, layout
        tables = page.evaluate("() => [...document.querySelectorAll('table')].map(t => t.dataset.table)")
        assert {"findings", "drift", "pending", "shares", "quota", "directories", "accounts",
                "organizational_units", "errors"} <= set(tables)
        last_cells = page.evaluate(
            "() => [...document.querySelectorAll('table')].flatMap(t => [...t.querySelectorAll('tbody tr')]"
            ".map(tr => tr.lastElementChild.textContent.trim())).filter(t => t)")
        pdf = tmp_path / f"report-{orientation}.pdf"
        page.pdf(path=str(pdf), format="A4", landscape=orientation == "landscape", print_background=True)
        assert pdf.read_bytes().startswith(b"%PDF")
    finally:
        page.close()
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        if os.environ.get("CI"):
            pytest.fail("pdftotext is not installed (.ci/run installs poppler-utils)", pytrace=False)
        return  # the layout check above stands; poppler-utils adds the text check
    text = subprocess.run([pdftotext, "-raw", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    flat = " ".join(text.split())
    missing = [cell for cell in last_cells if " ".join(cell.split())[:20] not in flat]
    assert missing == [], f"last-column text not in the {orientation} PDF: {missing[:5]}"
    joined = "".join(text.split())  # headings wrap between words, at <wbr> in AWS field names
    for heading in ("LastUpdatedDateTime", "Request id", "Accounts (direct)", "Regions failed", "Next step"):
        assert heading.replace(" ", "") in joined, heading
