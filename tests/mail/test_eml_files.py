"""Without SMTP_URL the emails are files holding vendors' addresses and orders: only the
server's own user may read them, whatever the umask or an older folder's mode."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from email import policy
from email.parser import Parser
from pathlib import Path

import pytest

from server.mail.transport import EmlWriter
from tests.mail.test_addresses import message


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that leaves new files world-readable, as many systems have."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_eml_files_are_0600_in_a_0700_folder(tmp_path: Path, open_umask: None) -> None:
    folder = tmp_path / "mail"
    await EmlWriter(folder).send(message("vendor@example.com"))
    [path] = folder.glob("*.eml")
    assert (mode(folder), mode(path)) == (0o700, 0o600)
    assert list(folder.glob("*.part")) == []


async def test_an_existing_open_folder_and_file_are_closed_up(
    tmp_path: Path, open_umask: None
) -> None:
    folder = tmp_path / "mail"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    writer = EmlWriter(folder)
    await writer.send(message("vendor@example.com"))
    [path] = folder.glob("*.eml")
    os.chmod(path, 0o644)
    await writer.send(message("vendor@example.com"))  # a retry overwrites the same file
    assert (mode(folder), mode(path)) == (0o700, 0o600)


async def test_an_international_address_is_written_as_utf8(tmp_path: Path) -> None:
    await EmlWriter(tmp_path).send(message("用户@例子.广告"))
    [path] = tmp_path.glob("*.eml")
    written = Parser(policy=policy.default).parsestr(path.read_bytes().decode("utf-8"))
    assert written["To"].addresses[0].addr_spec == "用户@例子.广告"
