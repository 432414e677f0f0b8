"""The dsshare sandbox: moto's server extended with Directory Service sharing.

See the README ("The sandbox") for what it models and why (after ../shared/AWS_SHARING.md).
"""

from .faults import FaultRule
from .install import MotoShapeError, check_moto_shape, install
from .server import Sandbox, SandboxError

__all__ = ["FaultRule", "MotoShapeError", "Sandbox", "SandboxError", "check_moto_shape", "install"]
