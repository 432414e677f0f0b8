"""Papermill runbooks: parameters checked before a kernel starts, headless runs, run folders.

``dsshare run RUNBOOK`` (see :mod:`dsshare.runbooks.cli`) executes one of the notebooks
under ``notebooks/runbooks/`` with papermill. The pieces:

- :mod:`~dsshare.runbooks.parameters` and :mod:`~dsshare.runbooks.catalog`: each runbook's
  declared parameters, checked and coerced without a kernel;
- :mod:`~dsshare.runbooks.execute`: the run itself, its exit code and ``run.json``;
- :mod:`~dsshare.runbooks.record`: the run folder's files;
- :mod:`~dsshare.runbooks.steps`: what the notebooks' cells call;
- :mod:`dsshare.planning` / :mod:`dsshare.execution` (library): the one engine every mutating runbook drives.

Example
-------
>>> from dsshare.runbooks import get_runbook
>>> get_runbook("share_directory").param("dry_run").default
True
"""

from __future__ import annotations

from .catalog import get_runbook, runbooks
from .parameters import Param, RunbookSpec, resolve_parameters

__all__ = ["Param", "RunbookSpec", "get_runbook", "resolve_parameters", "runbooks"]
