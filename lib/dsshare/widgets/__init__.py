"""The interactive sharing console: ipywidgets for JupyterLab and Voila.

``models`` holds state and logic (no ipywidgets), ``services`` the library calls the models
make, ``views`` the widgets, ``render`` the HTML they show. The notebook
``notebooks/share_console.ipynb`` only calls :func:`console`.

Example
-------
>>> from dsshare.widgets import console         # doctest: +SKIP
>>> console(endpoint_url="http://127.0.0.1:4566")  # doctest: +SKIP
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import TYPE_CHECKING

from dsshare.extras import require

if TYPE_CHECKING:
    from .services import ServicesFactory
    from .views import ConsoleView

__all__ = ["console"]


def console(
    profile: str | None = None,
    endpoint_url: str | None = None,
    region: str | None = None,
    *,
    connect: bool = True,
    factory: ServicesFactory | None = None,
    runs_root: str | os.PathLike[str] | None = None,
) -> ConsoleView:
    """Build the console widget (display it, or leave it as a cell's last expression).

    Parameters
    ----------
    profile
        Named AWS profile; None uses boto3's default credential chain.
    endpoint_url
        The sandbox's URL; None uses ``AWS_ENDPOINT_URL`` when set, else AWS itself.
    region
        Region to work in; None uses ``AWS_REGION``/``AWS_DEFAULT_REGION``, else us-east-1.
    connect
        Connect straight away (failures appear on the Connection tab, with a next step).
    factory
        Builds the services from (profile, region, endpoint_url); tests pass their own.
    runs_root
        Folder of the console's audit folders and inventory exports; None uses
        ``$DSSHARE_RUNS_DIR``, else ``runs/`` under the repository (a kernel started from
        ``notebooks/``) or the current folder.
    """
    require("ipywidgets", "console", "The sharing console")
    from dsshare.validation import known_regions

    from .models import ConsoleModel, default_region
    from .services import available_profiles, connect_services
    from .views import ConsoleView

    root = Path(runs_root or os.environ.get("DSSHARE_RUNS_DIR") or _default_runs_root()).resolve()
    model = ConsoleModel(factory or functools.partial(connect_services, runs_root=root))
    conn = model.connection
    conn.profiles = available_profiles()
    conn.profile = profile or ""
    conn.endpoint_url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL", "")
    conn.region = region or default_region()
    conn.regions = sorted(known_regions() | {conn.region})
    model.inventory.runs_root = str(root)
    view = ConsoleView(model)
    if connect:
        view.connect()
    return view


def _default_runs_root() -> Path:
    """``runs/`` beside ``notebooks/`` when the kernel runs there (Voila, JupyterLab), else here."""
    here = Path.cwd()
    return here.parent / "runs" if here.name == "notebooks" else here / "runs"
