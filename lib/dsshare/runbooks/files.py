"""Where the runbook notebooks and parameter templates are, installed or in a checkout.

The repository keeps them in ``notebooks/runbooks/`` and ``parameters/``; the wheel ships
the same files as package data, in ``dsshare/runbooks/notebooks/`` and
``dsshare/runbooks/templates/`` (``pyproject.toml`` maps those two data packages onto the
repository folders, so there is one copy of each file). An installed package uses its own
copy; running from a checkout (``PYTHONPATH=lib`` or an editable install) uses the
checkout's. ``DSSHARE_RUNBOOKS_DIR`` overrides the notebooks' folder.

Example
-------
>>> notebook_path("share_directory").name
'share_directory.ipynb'
"""

from __future__ import annotations

import os
from pathlib import Path

from dsshare.errors import ParameterError

__all__ = [
    "RUNBOOKS_DIR_ENV",
    "notebook_path",
    "runbooks_dir",
    "template_path",
    "templates_dir",
    "write_template",
]

#: Overrides where the runbook notebooks are.
RUNBOOKS_DIR_ENV = "DSSHARE_RUNBOOKS_DIR"

_HERE = Path(__file__).resolve().parent
#: The checkout this module sits in (lib/dsshare/runbooks/ -> the repository root).
_CHECKOUT = _HERE.parents[2]


def _first_folder(*candidates: Path) -> Path:
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return candidates[0]


def runbooks_dir() -> Path:
    """Folder holding the runbook notebooks."""
    configured = os.environ.get(RUNBOOKS_DIR_ENV)
    if configured:
        return Path(configured)
    return _first_folder(_HERE / "notebooks", _CHECKOUT / "notebooks" / "runbooks")


def templates_dir() -> Path:
    """Folder holding the parameter files (``<runbook>.example.yaml``, ``guardrails.yaml``)."""
    return _first_folder(_HERE / "templates", _CHECKOUT / "parameters")


def notebook_path(runbook: str) -> Path:
    """The notebook of ``runbook``; ParameterError when it cannot be found."""
    path = runbooks_dir() / f"{runbook}.ipynb"
    if not path.is_file():
        raise ParameterError(
            "runbook", runbook,
            f"a runbook with a notebook in {runbooks_dir()} (see dsshare run --list; "
            f"{RUNBOOKS_DIR_ENV} overrides the folder)",
        )  # fmt: skip
    return path


def template_path(runbook: str) -> Path:
    """The commented parameter template of ``runbook`` (its ``.example.yaml``)."""
    path = templates_dir() / f"{runbook}.example.yaml"
    if not path.is_file():
        raise ParameterError("--template", runbook, "a runbook name (see dsshare run --list)")
    return path


def write_template(runbook: str, target: str | os.PathLike[str] | None = None) -> Path:
    """Write ``runbook``'s commented parameter template to ``target`` (default
    ``<runbook>.yaml`` in the current folder) and return its path; never overwrites.

    Example
    -------
    >>> write_template("share_directory")            # doctest: +SKIP
    PosixPath('share_directory.yaml')
    """
    source = template_path(runbook)
    path = Path(target) if target is not None else Path(f"{runbook}.yaml")
    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(source.read_text(encoding="utf-8"))
    except FileExistsError as err:
        raise ParameterError(
            "--out", str(path), "a file that does not exist yet (templates never overwrite)"
        ) from err
    except OSError as err:
        raise ParameterError("--out", str(path), f"a writable file ({err.strerror})") from err
    return path
