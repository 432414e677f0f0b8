"""``python -m dsshare``: the same as the ``dsshare`` command."""

from __future__ import annotations

import sys

from dsshare.cli import main

if __name__ == "__main__":
    sys.exit(main())
