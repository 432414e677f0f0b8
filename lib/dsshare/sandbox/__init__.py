"""The dsshare sandbox: moto's server extended with Directory Service sharing.

See the README ("The sandbox") for what it models and why. Importing or running it
leaves moto unchanged for other code in the same process: the sandbox serves its own
subclasses of moto's Directory Service classes from its own apps (see
:mod:`dsshare.sandbox.dispatch` and the guard, :mod:`dsshare.sandbox.guard`).
"""

from .faults import FaultRule
from .guard import MotoShapeError, check_moto_shape
from .server import Sandbox, SandboxError

__all__ = ["FaultRule", "MotoShapeError", "Sandbox", "SandboxError", "check_moto_shape"]
