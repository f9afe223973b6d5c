"""Stored crawl reports (`crawl_runs`): the latest, or one picked by its run id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from twin_scraper.services.workspace import NothingStored, ServiceError, Workspace


def run_list(ws: Workspace, last: int = 20) -> list[dict[str, Any]]:
    """The latest runs, newest first (for `--list`)."""
    with ws.mongo(reading=True) as mongo:
        found = mongo.latest_runs(last)
    if not found:
        raise NothingStored(f"no crawl has been reported in {ws.mongo_where()} yet")
    return found


def runs(ws: Workspace, last: int = 1, run_id: str | None = None) -> list[dict[str, Any]]:
    """The `last` latest runs, newest first; or the run whose id starts with `run_id`."""
    with ws.mongo(reading=True) as mongo:
        if run_id is None:
            found = mongo.latest_runs(last)
            if not found:
                raise NothingStored(f"no crawl has been reported in {ws.mongo_where()} yet")
            return found
        prefix = run_id.strip().lower()
        ids = [i for i in mongo.run_ids() if prefix and i.startswith(prefix)]
        matches = [mongo.run(i) for i in ids[:1]] if len(ids) == 1 else ids
    if not matches:
        raise ServiceError(
            f"no crawl report with run id {run_id!r} in {ws.mongo_where()}: "
            "`twin report --list` shows the run ids"
        )
    if len(matches) > 1:
        raise ServiceError(
            f"run id {run_id!r} matches {len(matches)} reports: give more of it "
            f"({', '.join(ids[:5])})"
        )
    return [run for run in matches if isinstance(run, dict)]


def as_json(run: dict[str, Any]) -> dict[str, Any]:
    """A stored run with its dates as ISO 8601 text, for `--json`."""

    def plain(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    return {"run_id": str(run["_id"]), **plain({k: v for k, v in run.items() if k != "_id"})}


def failures(run: dict[str, Any]) -> list[dict[str, str]]:
    """Every failed URL the run recorded, with its reason."""
    return [failure for domain in run.get("domains", []) for failure in domain.get("failures", [])]
