"""`twin sync`: crawls of a seed file or one source that run by themselves on a period.

The syncs are stored in MongoDB (`twin_scraper.syncs`); `twin serve` runs them on their
periods (`twin_scraper.web`), these functions add, list, run and remove them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import tzinfo
from typing import TYPE_CHECKING, Any, TextIO

from twin_scraper.services.workspace import ServiceError, Workspace

if TYPE_CHECKING:
    from twin_scraper.syncs import Sync, SyncStore


@contextmanager
def sync_store(ws: Workspace, reading: bool = False) -> Iterator[SyncStore]:
    """The stored syncs; a `SyncError` (a bad name, period or source) becomes a
    `ServiceError` with its message."""
    from twin_scraper.syncs import SyncError, SyncStore

    with ws.mongo(reading) as mongo:
        try:
            yield SyncStore(mongo)
        except SyncError as exc:
            raise ServiceError(str(exc)) from None


def timezone(ws: Workspace) -> tzinfo:
    """The time zone periods are read in (SYNC_TIMEZONE, else the machine's)."""
    from twin_scraper.syncs import local_timezone

    return local_timezone(ws.settings())


def add(
    ws: Workspace,
    name: str,
    source: str,
    every: str,
    author: str | None = None,
    runner: str | None = None,
) -> Sync:
    """Register a sync, validated (name, period, source, runner) before it is stored."""
    from twin_scraper.syncs import new_sync

    with sync_store(ws) as store:
        sync = new_sync(
            name,
            source,
            every,
            timezone(ws),
            author,
            runner or ws.settings().get("SYNC_RUNNER"),
        )
        store.add(sync)
    return sync


@dataclass(frozen=True)
class SyncRow:
    sync: Sync
    state: str  # active, paused or running
    last_crawl: dict[str, Any] | None  # the latest crawl report of its runs


def listing(ws: Workspace) -> list[SyncRow]:
    """Every sync with its state and the crawl report of its last run."""
    with sync_store(ws, reading=True) as store:
        rows = []
        for sync in store.all():
            state = "running" if sync.claimed() else "paused" if sync.paused else "active"
            rows.append(SyncRow(sync, state, store.last_crawl_run(sync.name)))
    return rows


def run(ws: Workspace, name: str, echo: TextIO | None = None) -> dict[str, Any]:
    """Run a sync now, in the foreground (its crawl's log echoed to `echo`), whatever its
    period; returns its run as recorded (`last_run`)."""
    from twin_scraper.syncs import SyncRunner

    with sync_store(ws) as store:
        return SyncRunner(store, ws.config, ws.settings()).run(name, echo=echo)


def remove(ws: Workspace, name: str) -> None:
    """Remove a sync (its past crawl reports stay)."""
    with sync_store(ws) as store:
        if not store.remove(name):
            raise ServiceError(f"no sync named {name!r} (see `twin sync list`)")


def set_paused(ws: Workspace, name: str, paused: bool) -> None:
    """Pause a sync (it no longer runs on its period) or resume it."""
    with sync_store(ws) as store:
        store.require(name)
        store.update(name, paused=paused)
