"""dsshare: share AWS Managed Microsoft AD directories across accounts.

The public API is re-exported here; see the README for a tour.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
