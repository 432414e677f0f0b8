"""Optional dependencies: import one, or say which ``dsshare[...]`` extra to install.

The core install (boto3, pandas, PyYAML, tqdm) shares directories and builds inventories;
runbooks, the console, Jupyter, the sandbox and the XLSX/Parquet report formats come as
extras. Code that needs one imports it through :func:`require` at the point of use.

Example
-------
>>> require("json", "runbooks", "dsshare run").dumps([1])
'[1]'
"""

from __future__ import annotations

import importlib
from types import ModuleType

from dsshare.errors import MissingExtraError

__all__ = ["EXTRAS", "PROVIDES", "require"]

#: Extra -> what it is for (pyproject.toml's optional-dependencies, in words).
EXTRAS: dict[str, str] = {
    "runbooks": "dsshare run (papermill, nbformat, ipykernel)",
    "console": "the sharing console (ipywidgets)",
    "lab": "JupyterLab and Voila for the console",
    "sandbox": "dsshare sandbox (moto, Flask)",
    "xlsx": "the inventory's XLSX workbook (openpyxl)",
    "parquet": "the inventory's Parquet copies (pyarrow)",
}


#: Extra -> the top-level modules it installs: one of them missing means the extra is.
PROVIDES: dict[str, frozenset[str]] = {
    "runbooks": frozenset({"papermill", "nbformat", "nbclient", "ipykernel", "jupyter_client"}),
    "console": frozenset({"ipywidgets", "traitlets"}),
    "lab": frozenset({"jupyterlab", "voila"}),
    "sandbox": frozenset({"moto", "flask", "flask_cors", "werkzeug"}),
    "xlsx": frozenset({"openpyxl"}),
    "parquet": frozenset({"pyarrow"}),
}


def require(module: str, extra: str, feature: str) -> ModuleType:
    """Import ``module``; MissingExtraError naming ``pip install 'dsshare[extra]'`` if absent.

    Translated: ``module`` itself (or a package it is part of) missing, or, while importing
    it, a module the extra provides (:data:`PROVIDES`). Any other ImportError is a real
    fault and propagates.
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        missing = err.name or ""
        if missing and (module == missing or module.startswith(missing + ".")):
            raise MissingExtraError(feature, module, extra) from err
        top = missing.split(".")[0]
        if top in PROVIDES.get(extra, frozenset()):
            raise MissingExtraError(feature, top, extra) from err
        raise
