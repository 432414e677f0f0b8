"""Drive the console in headless Chromium (Debian's, never a downloaded one) via Playwright.

Shared by the browser tests and ``make screenshots``: launching Chromium, recording any
request that leaves the loopback interface (the console must work offline), and the few
gestures a person makes in the console (pick list entries by their text, click a tab).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from typing import Any

from dsshare.errors import DsShareError

__all__ = [
    "CHROMIUM_ARGS",
    "chromium_path",
    "click_tab",
    "launch",
    "pick",
    "record_offsite_requests",
]

CHROMIUM_ARGS: tuple[str, ...] = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
#: http(s) URLs whose host is not loopback.
_OFFSITE = re.compile(r"^(?!https?://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(/|$))https?://")


def chromium_path() -> str | None:
    """Path of the system's ``chromium``, or None."""
    return shutil.which("chromium")


def launch(playwright: Any) -> Any:
    """Launch headless system Chromium with the flags the sandboxed CI needs."""
    path = chromium_path()
    if path is None:
        raise DsShareError("chromium is not installed (apt-get install chromium)")
    return playwright.chromium.launch(executable_path=path, args=list(CHROMIUM_ARGS), headless=True)


def record_offsite_requests(page: Any) -> list[str]:
    """Abort and list every request to a host other than loopback (no CDN, no news).

    The pattern is matched inside the browser driver, so loopback traffic (JupyterLab's
    many requests, kernel websockets) is never held up by a Python round trip.
    """
    offsite: list[str] = []

    def block(route: Any) -> None:
        offsite.append(route.request.url)
        route.abort()

    page.route(_OFFSITE, block)
    return offsite


def pick(page: Any, select_css: str, wanted: Sequence[str], timeout: float = 30_000) -> list[str]:
    """Select the options of ``select_css`` whose text contains each of ``wanted``.

    Waits until every wanted entry is listed; returns the full texts picked.
    """
    select = page.locator(select_css)
    options = select.locator("option")
    for text in wanted:
        options.filter(has_text=text).first.wait_for(state="attached", timeout=timeout)
    # ipywidgets renders spaces in option labels as no-break spaces.
    labels = [label.replace("\xa0", " ") for label in options.all_text_contents()]
    indexes = []
    for text in wanted:
        matches = [i for i, label in enumerate(labels) if text in label]
        if not matches:
            raise AssertionError(f"no option containing {text!r} in {labels}")
        indexes.append(matches[0])
    select.select_option(index=indexes)
    return [labels[i] for i in indexes]


def click_tab(page: Any, title: str) -> None:
    """Open a console tab by its title."""
    page.locator(".dsshare-tabs .lm-TabBar-tab", has_text=title).first.click()
