"""Reliability and security evidence: chaos scenarios, hostile inputs, secret scans.

The modules here are what ``make reliability`` (``python -m tools.reliability``) runs to
print its table of figures, and what the reliability/security tests assert on, so the
figures and the tests come from the same code:

- :mod:`~tools.reliability.chaos`: fault rules, final-state reads, duplicate and audit
  accounting against the sandbox's request log;
- :mod:`~tools.reliability.hostile`: a corpus of hostile inputs and a classifier that
  tells a clear refusal (a ``DsShareError``) from a crash;
- :mod:`~tools.reliability.leaks`: planted fake credentials and a scanner for them and
  for AWS key patterns.

Nothing here is needed to share a directory; it needs the sandbox.
"""

from __future__ import annotations
