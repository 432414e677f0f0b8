"""Secret scanning: planted fake credentials and AWS key patterns in whatever a run leaves.

:data:`PLANTED` holds distinctive fake credentials to put in the environment of a run (the
sandbox accepts any keys). :func:`scan_paths` then reads every file a run left (run folders,
snapshots, reports, logs; zip containers such as XLSX are opened) and reports each place
where a planted value, an access key id (``AKIA``/``ASIA`` + 16), or a secret key next to
its name appears. ShareNotes text can be planted as a needle too.

Example
-------
>>> [leak.what for leak in scan_text("x AKIAZZLEAKCANARY0042 y", "log")]
['planted aws_access_key_id', 'access key id pattern']
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["KEY_PATTERNS", "PLANTED", "Leak", "planted_environment", "scan_paths", "scan_text"]

#: Fake credentials, distinctive enough that any occurrence is a leak.
PLANTED: dict[str, str] = {
    "aws_access_key_id": "AKIAZZLEAKCANARY0042",
    "aws_secret_access_key": "LeakCanarySecretKey/0042+dsshare+QWERTYz",
    "aws_session_token": "IQoJb3JpZ2luX2VjEDsshareLeakCanarySessionToken0042" + "Zz" * 40,
}
#: What an AWS credential looks like, wherever it came from (planted or assumed-role keys).
KEY_PATTERNS: dict[str, re.Pattern[str]] = {
    "access key id pattern": re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])"),
    "secret access key pattern": re.compile(
        r"(?i)(?:secret_?access_?key|SecretAccessKey)[\"'\s:=]{1,6}[A-Za-z0-9/+=]{40}"
    ),
    "session token pattern": re.compile(r"(?i)(?:session_?token|SessionToken)[\"'\s:=]{1,6}[A-Za-z0-9/+=]{100,}"),
}


def planted_environment() -> dict[str, str]:
    """The planted credentials as AWS_* environment variables."""
    return {
        "AWS_ACCESS_KEY_ID": PLANTED["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": PLANTED["aws_secret_access_key"],
        "AWS_SESSION_TOKEN": PLANTED["aws_session_token"],
    }


@dataclass(frozen=True)
class Leak:
    """One secret found: where, and what (a planted value's name or a pattern's name)."""

    where: str
    what: str


def scan_text(
    text: str, where: str, needles: Mapping[str, str] | None = None
) -> list[Leak]:
    """Leaks in ``text``: planted values (and ``needles``), then key patterns."""
    found: list[Leak] = []
    wanted = {f"planted {k}": v for k, v in PLANTED.items()}
    wanted.update(needles or {})
    for name, value in wanted.items():
        if value and value in text:
            found.append(Leak(where, name))
    for name, pattern in KEY_PATTERNS.items():
        if pattern.search(text):
            found.append(Leak(where, name))
    return found


def _texts(path: Path) -> Iterable[tuple[str, str]]:
    data = path.read_bytes()
    yield str(path), data.decode("utf-8", "replace")
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                yield f"{path}!{member}", archive.read(member).decode("utf-8", "replace")


def scan_paths(
    paths: Iterable[Path], needles: Mapping[str, str] | None = None
) -> tuple[int, list[Leak]]:
    """Scan every file under ``paths`` (files or folders); return (files scanned, leaks)."""
    scanned = 0
    leaks: list[Leak] = []
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            scanned += 1
            for where, text in _texts(path):
                leaks.extend(scan_text(text, where, needles))
    return scanned, leaks
