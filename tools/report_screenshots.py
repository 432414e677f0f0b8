"""Screenshots of the inventory's HTML report: on a 1280 px screen and printed on A4.

A development tool, not part of the installed package. It starts a demo sandbox, takes
one snapshot, makes a share, a reject and an unreadable account, collects again with
``--compare`` (so the report shows drift, findings and the incomplete-collection banner),
then renders ``report.html`` in headless Debian Chromium (never a downloaded browser):

* ``docs/img/report-screen.png``: the top of the page in a 1280 x 1400 px viewport;
* ``docs/img/report-print.png``: the page of the A4 portrait PDF that Chromium prints
  holding the Shares table (the widest), rasterised with poppler's ``pdftoppm``; without
  poppler-utils, the first page in print media emulation at the A4 content width.

Usage::

    PYTHONPATH=lib .venv/bin/python tools/report_screenshots.py --out docs/img
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from dsshare.cli import main as dsshare_main
from dsshare.sandbox import Sandbox

#: A4 width at 96 px per inch, and the print margins of the report's stylesheet.
A4_PORTRAIT_PX = (794, 1123)
MARGIN_PX = 38  # 10 mm
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]  # fmt: skip


def build_report(work: Path) -> Path:
    """Collect twice from a demo sandbox with changes in between; return the second report."""
    import boto3

    with Sandbox(seed="demo", transition_delay=0.05) as sb:
        env = {
            "AWS_ENDPOINT_URL": sb.endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            os.environ.pop(name, None)
        os.environ.update(env)
        regions = ["us-east-1", "eu-west-1"]
        os.chdir(work)  # relative folders, so the report names "runs/inventory" as an operator's would
        first = Path("runs") / "inventory"
        code = dsshare_main(["inventory", "--all", "--regions", *regions, "--out", str(first), "--no-progress"])
        if code != 0:
            raise SystemExit(f"first inventory exited {code}")
        ds = boto3.client("ds", region_name="us-east-1")
        ds.share_directory(
            DirectoryId=sb.directory_id("global.example.com"), ShareMethod="HANDSHAKE",
            ShareTarget={"Id": sb.account_id("sandbox-bob"), "Type": "ACCOUNT"},
        )  # fmt: skip
        sb.add_fault("AssumeRole", code="AccessDenied", account_id=sb.account_id("sandbox-carol"))
        second = Path("runs") / "inventory-2"
        code = dsshare_main([
            "inventory", "--all", "--regions", *regions, "--out", str(second),
            "--compare", str(first), "--no-progress",
        ])  # fmt: skip
        if code not in (0, 3):
            raise SystemExit(f"second inventory exited {code}")
        return (work / second / "report.html").resolve()


def _rasterise(pdf: Path, png: Path, *, wanted: str) -> bool:
    """The first page of ``pdf`` whose text holds ``wanted``, as ``png``; False without poppler."""
    pdftotext, pdftoppm = shutil.which("pdftotext"), shutil.which("pdftoppm")
    if pdftotext is None or pdftoppm is None:
        return False
    pages = subprocess.run([pdftotext, str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    number = next((i for i, text in enumerate(pages.split("\f"), 1) if wanted in "".join(text.split())), 1)
    stem = png.with_suffix("")
    subprocess.run([pdftoppm, "-png", "-r", "110", "-f", str(number), "-l", str(number), "-singlefile",
                    str(pdf), str(stem)], check=True)  # fmt: skip
    return True


def take(report: Path, out: Path) -> list[Path]:
    """Screen and print screenshots of ``report`` into ``out``."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("chromium is not installed (apt-get install chromium)")
    out.mkdir(parents=True, exist_ok=True)
    screen, printed = out / "report-screen.png", out / "report-print.png"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1400})
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                       else route.abort())  # fmt: skip
            page.goto(report.resolve().as_uri())
            page.screenshot(path=str(screen))
            pdf = out / ".report-print.pdf"
            page.pdf(path=str(pdf), format="A4", print_background=True)
            try:
                if not _rasterise(pdf, printed, wanted="ShareMethod"):
                    # No poppler: the page box of A4 portrait minus the margins, in print media.
                    width = A4_PORTRAIT_PX[0] - 2 * MARGIN_PX
                    height = A4_PORTRAIT_PX[1] - 2 * MARGIN_PX
                    page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=1.5)
                    page.emulate_media(media="print")
                    page.goto(report.resolve().as_uri())
                    page.screenshot(path=str(printed))
            finally:
                pdf.unlink(missing_ok=True)
        finally:
            browser.close()
    return [screen, printed]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("docs/img"))
    parser.add_argument("--keep", type=Path, help="also keep the report folder here")
    args = parser.parse_args(argv)
    args.out = args.out.resolve()
    args.keep = args.keep.resolve() if args.keep else None
    with tempfile.TemporaryDirectory(prefix="dsshare-report-") as tmp:
        report = build_report(Path(tmp))
        if args.keep:
            shutil.copytree(report.parent, args.keep, dirs_exist_ok=True)
        for path in take(report, args.out):
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
