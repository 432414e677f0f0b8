"""The dsshare sandbox: moto's server extended with Directory Service sharing.

See the README ("The sandbox") for what it models and why. Importing or running it
leaves moto unchanged for other code in the same process: the sandbox serves its own
subclasses of moto's Directory Service classes and of its Organizations response class
from its own apps (see :mod:`dsshare.sandbox.dispatch` and the guard,
:mod:`dsshare.sandbox.guard`).

The names below are loaded on first use, because they need moto (the ``sandbox`` extra):
importing this package, or its pytest plugin, imports no moto.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from dsshare.errors import MissingExtraError

if TYPE_CHECKING:
    from .faults import FaultRule
    from .guard import check_moto_shape
    from .server import Sandbox, SandboxError

__all__ = ["FaultRule", "MotoShapeError", "Sandbox", "SandboxError", "check_moto_shape"]

#: How to get what the sandbox needs.
INSTALL_HINT = "pip install 'dsshare[sandbox]'"
#: The distributions the sandbox imports beyond the core install.
_EXTRA_MODULES = frozenset({"moto", "flask", "flask_cors", "werkzeug"})
#: Each lazily loaded name, and the module that defines it.
_EXPORTS = {
    "FaultRule": "faults",
    "check_moto_shape": "guard",
    "Sandbox": "server",
    "SandboxError": "server",
}


class MotoShapeError(RuntimeError):
    """moto no longer behaves the way the sandbox extension was written against."""


class SandboxNotInstalledError(MissingExtraError):
    """The sandbox's dependencies (moto and its server) are not installed.

    A :class:`~dsshare.errors.MissingExtraError`: its next step is ``INSTALL_HINT``.
    """


def load(module: str) -> Any:
    """Import ``dsshare.sandbox.<module>``, explaining a missing or different moto.

    Raises
    ------
    SandboxNotInstalledError
        moto (or its server's Flask) is not installed: the message names the extra.
    MotoShapeError
        moto is installed but lacks a name the sandbox imports (another moto series).
    """
    try:
        return importlib.import_module(f"{__name__}.{module}")
    except ModuleNotFoundError as err:
        missing = (err.name or "").split(".")[0]
        if missing not in _EXTRA_MODULES:
            raise
        raise SandboxNotInstalledError("The dsshare sandbox", missing, "sandbox") from err
    except ImportError as err:
        if not (err.name or "").startswith("moto"):
            raise
        import moto

        raise MotoShapeError(
            f"dsshare's sandbox cannot extend moto {moto.__version__}: {err}. "
            "Install the moto the sandbox supports (pip install 'dsshare[sandbox]') or "
            "update dsshare.sandbox (see the README, section 'The guard')."
        ) from err


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(load(module), name)
    globals()[name] = value
    return value
