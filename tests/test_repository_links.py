"""Links in the repository stay inside it (or are public URLs), and point at files that exist.

A clone has nothing beside the checkout: a relative link resolving outside the repository
root, or to a file the repository does not have, is broken for every reader.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TEXT_SUFFIXES = {".md", ".py", ".ipynb", ".yaml", ".yml", ".toml", ".txt", ".cfg", ".html"}
#: Markdown links and images: [text](target) / ![alt](target); the target up to a space or ).
MARKDOWN_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
#: In prose (.md), a path that climbs out of its folder: ../something.
CLIMBING_PATH = re.compile(r"(?<![\w/.])((?:\.\./)+[\w.-]+(?:/[\w.-]+)*)")
PATH_SUFFIX = re.compile(r"\.(?:md|py|ipynb|ya?ml|toml|txt|png|html)(?:#.*)?$")
EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//|#)", re.IGNORECASE)


def tracked_text_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True,
                            check=True).stdout.decode().split("\0")  # fmt: skip
    return [REPO / name for name in listed if name and Path(name).suffix in TEXT_SUFFIXES
            and (REPO / name).is_file()]  # fmt: skip


def prose_of(text: str) -> str:
    """Markdown without code blocks and inline code (examples there are not links)."""
    text = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    return re.sub(r"`[^`\n]*`", "", text)


def relative_targets(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    return relative_targets_of(text, path)


def test_no_tracked_file_links_outside_the_repository_or_to_a_missing_file() -> None:
    files = tracked_text_files()
    assert any(f.name == "README.md" for f in files)
    problems = []
    for path in files:
        for target in relative_targets(path):
            resolved = (path.parent / target.split("#")[0]).resolve()
            where = f"{path.relative_to(REPO)} -> {target}"
            if not resolved.is_relative_to(REPO):
                problems.append(f"{where}: outside the repository")
            elif not resolved.exists():
                problems.append(f"{where}: no such file")
    assert problems == []


def test_the_checker_sees_links_that_leave_the_repository() -> None:
    outside = "../" + "shared/x.md"  # spelled in two parts so this file has no such link
    page = REPO / "docs" / "aws-sharing.md"
    assert relative_targets_of(f"See [the facts]({outside}).", page) == [outside]
    assert relative_targets_of(f"The facts are in {outside}.", page) == [outside]
    code = REPO / "lib" / "dsshare" / "errors.py"
    assert relative_targets_of(f"# see [facts]({outside}); SEEDS[name](regions)", code) == [
        outside,
    ]  # fmt: skip
    assert relative_targets_of(f'"""Semantics follow {outside}."""', code) == [outside]
    assert relative_targets_of('HOSTILE = ["../../etc/passwd"]', code) == []


def relative_targets_of(text: str, like: Path) -> list[str]:
    """The relative link targets in ``text``, read as a file named like ``like``."""
    targets = [t for t in MARKDOWN_LINK.findall(text) if not EXTERNAL.match(t)]
    if like.suffix != ".md":  # in code, only what looks like a path: f(x)[i](y) is a call
        targets = [t for t in targets if "/" in t or PATH_SUFFIX.search(t)]
        # and a Markdown document named by a climbing path in a docstring or comment
        targets += [t.rstrip(".") for t in CLIMBING_PATH.findall(text)
                    if t.rstrip(".").endswith(".md")]  # fmt: skip
    else:
        targets += [t.rstrip(".") for t in CLIMBING_PATH.findall(prose_of(text))]
    return sorted(set(targets))
