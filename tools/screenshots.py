"""``make screenshots``: regenerate the README's console PNGs from a real browser run.

Starts a demo-seeded sandbox and the console in Voila, drives it in headless Chromium the
way an operator would, and writes ``docs/img/console-share.png`` (the Share tab after a
preview, asking to confirm), ``docs/img/console-accept.png`` (the Invitations tab asking
to confirm an Accept) and ``docs/img/console-inventory.png`` (the Inventory tab after a
collection, filtered to pending invitations).

Example
-------
``python -m tools.screenshots --out docs/img``
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from dsshare.errors import DsShareError
from dsshare.model import ShareStatus

from . import browser
from .serve import REPO_ROOT, sandbox_env, start_voila

__all__ = ["take_screenshots"]

LOAD_TIMEOUT = 90_000


def take_screenshots(out: Path) -> list[Path]:
    """Write the console screenshots into ``out``; return their paths."""
    from playwright.sync_api import sync_playwright

    from dsshare.sandbox import Sandbox

    out.mkdir(parents=True, exist_ok=True)
    share_png, inventory_png = out / "console-share.png", out / "console-inventory.png"
    accept_png = out / "console-accept.png"
    with Sandbox(seed="demo", transition_delay=0.05) as sb:
        scratch = Path(tempfile.mkdtemp(prefix="dsshare-shots-"))
        env = {**sandbox_env(sb.endpoint_url), "DSSHARE_RUNS_DIR": str(scratch / "runs")}
        server = start_voila(env, log=scratch / "voila.log")
        try:
            server.wait_ready()
            with sync_playwright() as playwright:
                chromium = browser.launch(playwright)
                page = chromium.new_page(viewport={"width": 1100, "height": 1700})
                offsite = browser.record_offsite_requests(page)
                page.goto(server.url)
                console = page.locator(".dsshare-console")
                console.wait_for(timeout=LOAD_TIMEOUT)
                browser.pick(page, ".dsshare-directory select", ["global.example.com"])
                browser.pick(page, ".dsshare-targets select", [
                    f"({sb.account_id('prod-app1')})", f"({sb.account_id('dev-app1')})", "OU Sandbox (",
                ])  # fmt: skip
                page.locator(".dsshare-notes textarea").fill("Domain join for the global forest.")
                page.locator(".dsshare-preview").click()
                page.locator(".dsshare-plan table").wait_for()
                page.locator(".dsshare-apply:not([disabled])").click()
                page.locator(".dsshare-confirm-box .dsshare-question").wait_for()
                console.screenshot(path=str(share_png))
                page.locator(".dsshare-cancel").click()
                browser.click_tab(page, "Invitations")
                alice = sb.account_id("sandbox-alice")
                browser.pick(page, ".dsshare-consumers select", [f"({alice})"])
                page.locator(".dsshare-find").click()
                browser.pick(page, ".dsshare-invitations select", [f"({alice}) ← global.example.com"])
                page.locator(".dsshare-accept").click()
                page.locator(".dsshare-invitation-confirm-box .dsshare-question").wait_for()
                console.screenshot(path=str(accept_png))
                browser.click_tab(page, "Inventory")
                page.locator(".dsshare-collect").click()
                page.locator(".dsshare-charts svg").first.wait_for(timeout=LOAD_TIMEOUT)
                page.locator(".dsshare-filter-status select").select_option(label=ShareStatus.PENDING_ACCEPTANCE.value)
                page.locator(".dsshare-export-scope", has_text="filter: status").wait_for()
                console.screenshot(path=str(inventory_png))
                chromium.close()
            if offsite:
                raise DsShareError(f"the console reached off-host: {offsite}")
        finally:
            server.stop()
    return [share_png, accept_png, inventory_png]


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m tools.screenshots",
                                     description="Regenerate the console screenshots.")  # fmt: skip
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "img")
    args = parser.parse_args(argv)
    for path in take_screenshots(args.out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
