"""Names and messages with control characters pass through every inventory output safely.

Organizations accepts control characters in OU and account names, and the sandbox's
Organizations does too, so those are made through ordinary AWS calls; the error message
comes from a fault injected with the sandbox's control API. (Directory names cannot carry
them: Directory Service, and the sandbox, validate them as domain names.) The frames keep the text exactly; the terminal, the HTML report, the
CSV files and the XLSX workbook each show it safely.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from bs4 import BeautifulSoup

from dsshare.cli import main
from dsshare.connection import Connection
from dsshare.inventory.collect import collect_inventory
from dsshare.inventory.export import export_inventory
from dsshare.inventory.report import write_xlsx
from dsshare.inventory.snapshot import read_snapshot
from dsshare.safetext import csv_cell, csv_value, html_text, terminal, xlsx_text
from dsshare.sandbox import Sandbox

OU_NAME = "Ops\x1b[31m\u202eRED\x00\x85"
ACCOUNT_NAME = "=cmd|' /C calc'!A0\x1b[2J"
MESSAGE = "denied\x1b[2J\x1b[31m\u202etxt.exe"
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def unsafe_characters(text: str) -> set[str]:
    """Control characters (other than a line break) and bidi controls in ``text``."""
    return {c for c in text if (unicodedata.category(c) == "Cc" and c != "\n") or c in BIDI}


@pytest.fixture
def hostile(aws_env: Sandbox, aws) -> dict[str, str]:
    """An OU, an account and an error message carrying control characters."""
    org = aws("organizations")
    root = org.list_roots()["Roots"][0]["Id"]
    ou = org.create_organizational_unit(ParentId=root, Name=OU_NAME)["OrganizationalUnit"]
    alice = aws_env.account_id("sandbox-alice")
    parent = org.list_parents(ChildId=alice)["Parents"][0]["Id"]
    org.move_account(AccountId=alice, SourceParentId=parent, DestinationParentId=ou["Id"])
    created = org.create_account(Email="hostile@example.com", AccountName=ACCOUNT_NAME)
    new_account = created["CreateAccountStatus"]["AccountId"]
    bob = aws_env.account_id("sandbox-bob")
    aws_env.add_fault("DescribeDirectories", code="AccessDeniedException", account_id=bob, message=MESSAGE)
    return {"ou": ou["Id"], "alice": alice, "account": new_account, "bob": bob}


def test_the_frames_keep_the_text_exactly_and_every_file_shows_it_safely(
    hostile: dict[str, str], tmp_path: Path
) -> None:
    inv = collect_inventory(Connection(regions=["us-east-1"]), all_accounts=True, concurrency=8)
    ous = inv.organizational_units.set_index("Id")
    accounts = inv.accounts.set_index("Id")
    assert ous.loc[hostile["ou"], "Name"] == OU_NAME
    assert accounts.loc[hostile["account"], "Name"] == ACCOUNT_NAME
    assert accounts.loc[hostile["alice"], "ou_path"].endswith(OU_NAME)
    assert MESSAGE in set(inv.errors["message"])

    result = export_inventory(inv, tmp_path / "inv")

    # HTML: nothing raw, every hostile text visible as escapes, no markup injected.
    document = result.report.read_text(encoding="utf-8")
    assert unsafe_characters(document) == set()
    soup = BeautifulSoup(document, "html.parser")
    text = soup.get_text()
    assert "Ops\\x1b[31m\\u202eRED\\x00\\x85" in text
    assert "denied\\x1b[2J\\x1b[31m\\u202etxt.exe" in text
    assert soup.find_all(class_="ctl"), "escapes are marked so they stand out"
    assert "Could not read" not in text or hostile["bob"] in text
    banner = soup.find(id="incomplete")
    assert banner is not None and hostile["bob"] in banner.get_text()

    # CSV: the data as AWS gave it, formulas defused, and read back exactly.
    accounts_csv = (result.folder / "accounts.csv").read_text(encoding="utf-8")
    assert "'=cmd|' /C calc'!A0\x1b[2J" in accounts_csv
    again = read_snapshot(result.folder)
    pd.testing.assert_frame_equal(again.accounts, inv.accounts)
    pd.testing.assert_frame_equal(again.organizational_units, inv.organizational_units)
    pd.testing.assert_frame_equal(again.errors, inv.errors)

    # XLSX: written whole; illegal characters escaped; the formula-looking name is text.
    assert result.workbook is not None and not list(result.folder.glob(".*.part"))
    book = openpyxl.load_workbook(result.workbook)
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    values = [str(c.value) for c in cells if c.value is not None]
    assert "=cmd|' /C calc'!A0\\x1b[2J" in values
    assert "Ops\\x1b[31m\\u202eRED\\x00\\x85" in values
    assert not [v for v in values if unsafe_characters(v)]


def test_the_terminal_shows_escapes_never_the_raw_sequences(
    hostile: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["inventory", "--all", "--regions", "us-east-1", "--out", str(tmp_path / "t"), "--no-progress"])
    assert code == 3  # bob could not be read
    printed = capsys.readouterr()
    both = printed.out + printed.err
    assert unsafe_characters(both) == set()
    assert hostile["bob"] in printed.err
    assert "denied\\x1b[2J\\x1b[31m\\u202etxt.exe" in printed.err


def test_safe_text_rules() -> None:
    assert terminal("plain é 🔑") == "plain é 🔑"
    assert terminal("a\tb\nc\u2028") == "a\\x09b\\x0ac\\u2028"
    assert html_text("<x>\u202e") == '&lt;x&gt;<span class="ctl" title="control character U+202E">\\u202e</span>'
    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "'=1", "''+x", "plain", "'quoted", "", "a=b"):
        assert csv_value(csv_cell(text)) == text, text
    assert csv_cell("=1+1") == "'=1+1" and csv_cell("'=1") == "''=1" and csv_cell("'quoted") == "'quoted"
    assert xlsx_text("a\x00b\x1b") == "a\\x00b\\x1b"
    long = xlsx_text("x" * 40_000)
    assert len(long) == 32_767 and long.endswith("[cut: 40000 characters]")


def test_a_failed_workbook_leaves_no_file_behind(tmp_path: Path) -> None:
    target = tmp_path / "inventory.xlsx"
    target.write_bytes(b"the previous workbook")
    good = pd.DataFrame({"Name": ["=1+1", "a\x00b"]})
    with pytest.raises(ValueError, match="sheet title"):  # the second sheet cannot be named so
        write_xlsx({"first": good, "bad/name": good}, target)
    assert [p.name for p in tmp_path.iterdir()] == ["inventory.xlsx"]
    assert target.read_bytes() == b"the previous workbook"
    write_xlsx({"first": good}, target)
    sheet = openpyxl.load_workbook(target)["first"]
    assert [(c.value, c.data_type) for c in sheet["A"]] == [("Name", "s"), ("=1+1", "s"), ("a\\x00b", "s")]
