"""The journal: where documents wait, on local disk, while MongoDB is unreachable.

One append-only JSON Lines file per crawl under `<TWIN_DATA_DIR>/journal/`, each line one
document with its compressed raw HTML, flushed and fsynced before the item moves on: a
crash, a kill or a power cut after that loses nothing. Replaying writes the entries
through `MongoStore.write_documents`; document ids are uuid5 of the canonical URL and raw
page ids carry the content hash, so a replay repeated (or interrupted and run again)
stores every document once. A file is deleted only after all of it is stored.

Appends and replays take one lock, and a writer opens its file for each append, so a
replay in another process never deletes a file under a writer.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bson import json_util
from bson.json_util import JSONMode, JSONOptions

from twin_scraper.atomic import fsync_dir
from twin_scraper.stores.filelock import locked
from twin_scraper.stores.mongo import MongoStore

logger = logging.getLogger(__name__)

#: (document record, raw page record or None, a repository's file records or None): what
#: `MongoStore.write_documents` takes.
Entry = tuple[dict[str, Any], dict[str, Any] | None, list[dict[str, Any]] | None]

JOURNAL_DIR = "journal"
_JSON = JSONOptions(json_mode=JSONMode.RELAXED, tz_aware=True, tzinfo=UTC)
REPLAY_BATCH = 50


@dataclass(frozen=True)
class JournalStatus:
    files: list[Path]
    entries: int
    unreadable: int  # lines cut short by a crash mid-write


@dataclass(frozen=True)
class ReplayResult:
    files: int
    documents: int
    superseded: int  # older than what MongoDB holds now: left as stored
    unreadable: int


class Journal:
    """The journal directory of one data directory."""

    def __init__(self, data_dir: str | Path) -> None:
        self.directory = Path(data_dir) / JOURNAL_DIR
        self._lock = self.directory / ".lock"

    def new_file(self, run_id: str) -> Path:
        """The file a crawl appends to (created on its first append)."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        return self.directory / f"{stamp}-{run_id}.jsonl"

    def append(self, path: Path, entries: list[Entry]) -> None:
        """Add entries to `path`, durably: returns once they are on disk."""
        lines = "".join(
            json_util.dumps({"doc": doc, "raw": raw, "files": files}, json_options=_JSON) + "\n"
            for doc, raw, files in entries
        )
        self.directory.mkdir(parents=True, exist_ok=True)
        with locked(self._lock), open(path, "a+b") as handle:
            size = handle.tell()
            if size:  # a line cut short by a crash must not swallow the next one
                handle.seek(-1, os.SEEK_END)
                if handle.read(1) != b"\n":
                    lines = "\n" + lines
            try:
                handle.write(lines.encode("utf-8"))
                handle.flush()
                os.fsync(handle.fileno())
            except OSError:  # a full disk: the entries are not journaled, not half of them
                with contextlib.suppress(OSError):
                    handle.truncate(size)
                    if not size:
                        path.unlink()
                raise
        fsync_dir(self.directory)

    def files(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob("*.jsonl"))

    def status(self) -> JournalStatus:
        files = self.files()
        entries = unreadable = 0
        for path in files:
            for entry in _read(path):
                if entry is None:
                    unreadable += 1
                else:
                    entries += 1
        return JournalStatus(files, entries, unreadable)

    def replay(self, store: MongoStore, only: Path | None = None) -> ReplayResult:
        """Write every journaled document (or those of `only`) into MongoDB, oldest file
        first, deleting each file once it is stored. Raises the store's error (PyMongoError)
        if MongoDB fails meanwhile; what was written stays written, the rest stays here."""
        files = documents = superseded = unreadable = 0
        if not self.directory.is_dir():
            return ReplayResult(0, 0, 0, 0)
        with locked(self._lock):
            for path in [only] if only is not None else self.files():
                if not path.exists():
                    continue
                batch: list[Entry] = []
                for entry in _read(path):
                    if entry is None:
                        unreadable += 1
                        continue
                    batch.append(entry)
                    if len(batch) >= REPLAY_BATCH:
                        stored, older = _write(store, batch)
                        documents, superseded, batch = documents + stored, superseded + older, []
                if batch:
                    stored, older = _write(store, batch)
                    documents, superseded = documents + stored, superseded + older
                path.unlink()
                files += 1
        if unreadable:
            logger.warning(
                "Journal: %d line(s) cut short by a crash were skipped (their pages are "
                "fetched again by the next crawl)",
                unreadable,
            )
        return ReplayResult(files, documents, superseded, unreadable)


def _write(store: MongoStore, batch: list[Entry]) -> tuple[int, int]:
    """Store a batch, except documents MongoDB already holds in a newer fetch (a later
    crawl stored them meanwhile). Returns (stored, superseded)."""
    newest: dict[str, datetime] = {}
    for doc, _, _ in batch:  # the same page may be journaled twice: keep its last fetch
        newest[doc["_id"]] = max(doc["fetched_at"], newest.get(doc["_id"], doc["fetched_at"]))
    stored_at = store.fetched_at({doc["category"] for doc, _, _ in batch}, list(newest))
    fresh = {
        doc_id
        for doc_id, fetched in newest.items()
        if doc_id not in stored_at or stored_at[doc_id] <= fetched
    }
    latest: dict[str, Entry] = {}
    for doc, raw, files in batch:
        if doc["_id"] in fresh and doc["fetched_at"] == newest[doc["_id"]]:
            latest[doc["_id"]] = (doc, raw, files)
    users: dict[str, str] = {}
    docs, raws, repository_files = [], [], {}
    for doc, raw, files in latest.values():
        if doc.get("author_id") is None:  # journaled before its author could be looked up
            name = doc["author_full_name"]
            if name not in users:
                users[name] = store.get_or_create_user(name)["_id"]
            doc = doc | {"author_id": users[name]}
        docs.append(doc)
        if raw is not None:
            raws.append(raw)
        if files is not None:
            repository_files[doc["_id"]] = files
    if docs:
        store.write_documents(docs, raws, repository_files)
    return len(docs), len(newest) - len(fresh)


def _read(path: Path) -> Iterator[Entry | None]:
    """Entries of a file; None for a line a crash cut short."""
    if not path.exists():
        return
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if not line.strip():
                continue
            try:
                value = json_util.loads(line, json_options=_JSON)
                yield value["doc"], value["raw"], value.get("files")
            except (ValueError, KeyError, TypeError):
                yield None
