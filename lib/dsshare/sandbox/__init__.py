"""The dsshare sandbox: moto's server extended with Directory Service sharing.

See the README ("The sandbox") for what it models and why (after docs/aws-sharing.md).
"""

from dsshare.extras import require

for _module in ("moto", "flask", "flask_cors"):
    require(_module, "sandbox", "The dsshare sandbox")

from .faults import FaultRule  # noqa: E402 (after the check that the extra is installed)
from .install import MotoShapeError, check_moto_shape, install  # noqa: E402
from .server import Sandbox, SandboxError  # noqa: E402

__all__ = ["FaultRule", "MotoShapeError", "Sandbox", "SandboxError", "check_moto_shape", "install"]
