"""Other users of the machine: the embedded MongoDB and the data directory are the owner's
alone. As root (CI), a forked child switched to the `nobody` user tries what another
local user would (connect with pymongo and read, write, drop; open the SQLite file); as
any user, the modes and the absence of a TCP listener are checked directly."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pymongo
import pytest
from pymongo.errors import PyMongoError

from twin_scraper.stores.embedded_mongo import (
    EmbeddedMongoError,
    ensure_server,
    server_status,
    stop_server,
)

NOBODY = 65534


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def tcp_listeners(pid: int) -> list[str]:
    """The TCP sockets process `pid` listens on (Linux /proc), as inode numbers."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd)
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    listening = []
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                listening.append(fields[9])
    return listening


def as_nobody(uri: str, db_file: Path) -> dict[str, str]:
    """What another local user gets: a forked child that drops root for `nobody`."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report through the pipe, never return into pytest
        outcome: dict[str, str] = {}
        try:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=1500)
            try:
                outcome["read"] = repr(client.twin.docs.find_one())
                client.twin.docs.insert_one({"_id": "intruder"})
                client.drop_database("twin")
                outcome["mongo"] = "read, wrote and dropped"
            except PyMongoError as exc:
                outcome["mongo"] = f"refused: {exc}"
            try:
                outcome["file"] = f"read {len(db_file.read_bytes())} bytes"
            except OSError as exc:
                outcome["file"] = f"refused: {exc.strerror}"
        except BaseException as exc:  # anything at all goes back to the test
            outcome["error"] = repr(exc)
        os.write(write_end, json.dumps(outcome).encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        answer = json.loads(pipe.read() or "{}")
    os.waitpid(pid, 0)
    return answer


@pytest.fixture
def home() -> Iterator[Path]:
    """A directory anyone may pass through, as a home directory usually is (pytest's own
    temporary directories are 0700, which would hide a data directory's own mode)."""
    path = Path(tempfile.mkdtemp(prefix="twin-home-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


def test_embedded_mongodb_admits_only_the_data_directory_owner(home: Path) -> None:
    data_dir = home / "data"
    uri = ensure_server(data_dir)
    try:
        client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=3000)
        client.twin.docs.insert_one({"_id": "mine", "text": "the owner's corpus"})
        client.close()
        status = server_status(data_dir)
        assert status is not None
        assert tcp_listeners(status["pid"]) == []  # no port for anyone to reach
        assert mode(data_dir) == 0o700
        files = [p for p in (data_dir / "mongo").iterdir()] + [data_dir / "mongo.log"]
        assert {p.name for p in files} >= {"twin.db", "mongo.log"}
        assert all(mode(p) & 0o077 == 0 for p in files), {p.name: oct(mode(p)) for p in files}
        if os.geteuid() == 0:  # CI runs as root: become another user
            outcome = as_nobody(uri, data_dir / "mongo" / "twin.db")
            assert "error" not in outcome, outcome
            assert outcome["mongo"].startswith("refused:") and "read" not in outcome, outcome
            assert outcome["file"] == "refused: Permission denied", outcome
        client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=3000)
        assert client.twin.docs.find_one({"_id": "mine"})["text"] == "the owner's corpus"
        assert client.twin.docs.count_documents({}) == 1
        client.close()
    finally:
        stop_server(data_dir)


def test_an_earlier_version_open_data_directory_is_closed_up(tmp_path: Path) -> None:
    """Upgrading: a data directory left 0755 with 0644 files, and an nx-27017 server of an
    earlier version still running on TCP, are made private and replaced."""
    data_dir = tmp_path / "data"
    (data_dir / "mongo").mkdir(parents=True)
    data_dir.chmod(0o755)
    (data_dir / "mongo" / "old.db").write_bytes(b"")
    (data_dir / "mongo" / "old.db").chmod(0o644)
    port = free_port()
    with open(tmp_path / "legacy.log", "wb") as log:
        legacy = subprocess.Popen(
            [
                *(sys.executable, "-m", "nx_27017.nx_27017", "--data-dir", str(data_dir / "mongo")),
                *("--host", "127.0.0.1", "-p", str(port), "--pid-file", str(tmp_path / "pid")),
            ],
            stdout=log,
            stderr=log,
        )
    try:
        tcp = pymongo.MongoClient(f"mongodb://127.0.0.1:{port}/", serverSelectionTimeoutMS=15000)
        assert tcp.admin.command("ping")  # open to anyone on the machine
        tcp.close()
        (data_dir / "mongo.json").write_text(json.dumps({"pid": legacy.pid, "port": port}))
        uri = ensure_server(data_dir)
        assert uri.startswith("mongodb://%2F") and uri.endswith("mongo.sock/")
        assert legacy.wait(15) is not None  # the TCP server is gone
        assert mode(data_dir) == 0o700 and mode(data_dir / "mongo" / "old.db") == 0o600
        assert pymongo.MongoClient(uri, serverSelectionTimeoutMS=3000).admin.command("ping")
    finally:
        legacy.kill()
        legacy.wait()
        stop_server(data_dir)


def test_a_data_directory_too_deep_for_a_socket_gets_one_in_a_private_temp_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A socket's path is limited to about 100 bytes: a deeper data directory's socket goes
    to `<temp>/twin-<uid>/`, a directory that must be this user's alone."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    data_dir = tmp_path / ("deep-" * 20) / "data"
    uri = ensure_server(data_dir)
    try:
        private = temp / f"twin-{os.getuid()}"
        (socket_file,) = private.glob("mongo-*.sock")
        assert uri == f"mongodb://{str(socket_file).replace('/', '%2F')}/"
        assert mode(private) == 0o700
        assert pymongo.MongoClient(uri, serverSelectionTimeoutMS=3000).admin.command("ping")
    finally:
        stop_server(data_dir)
    private.chmod(0o777)  # as if another user had made it first, open to all
    with pytest.raises(EmbeddedMongoError, match="is not a private directory of this user's"):
        ensure_server(tmp_path / ("deep-" * 20) / "other")
