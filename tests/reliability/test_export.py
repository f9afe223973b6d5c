"""`twin export` replaces its file only once the new export is whole: MongoDB going away
halfway leaves the previous export as it was (it used to be truncated to nothing)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from twin_scraper import cli
from twin_scraper.atomic import atomic_write
from twin_scraper.config import StoreConfig, project_settings
from twin_scraper.services.workspace import Workspace
from twin_scraper.stores.embedded_mongo import stop_server
from twin_scraper.stores.mongo import MongoStore

DOCUMENTS = 300  # more than one cursor batch (101): the export has to come back for more


def record(n: int) -> dict[str, Any]:
    return {
        "_id": f"doc-{n:04d}",
        "category": "articles",
        "canonical_url": f"https://ada.example/posts/{n}",
        "url": f"https://ada.example/posts/{n}/",
        "platform": "article",
        "author_full_name": "Ada Quill",
        "title": f"Post {n}",
        "content": f"Body of post {n}. " * 20,
        "fetched_at": datetime(2026, 1, 1, tzinfo=UTC),
        "content_hash": f"{n:064x}",
    }


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[StoreConfig]:
    """A data directory of its own (its embedded MongoDB is stopped mid-test), holding
    DOCUMENTS documents; `twin export` runs on it."""
    overrides = {"TWIN_DATA_DIR": str(tmp_path / "d"), "MONGO_TIMEOUT_MS": 1000}
    config = StoreConfig.from_settings(project_settings(overrides))
    mongo = config.open_mongo()
    mongo.write_documents([record(n) for n in range(DOCUMENTS)], [])
    mongo.close()
    workspace = Workspace.at(config.data_dir, MONGO_TIMEOUT_MS=1000)
    monkeypatch.setattr(cli, "workspace", lambda data_dir=None: workspace)
    yield config
    stop_server(config.data_dir)


def previous_export(path: Path) -> bytes:
    lines = "".join(json.dumps({"id": f"old-{n}", "text": "kept"}) + "\n" for n in range(80))
    path.write_text(lines)
    path.chmod(0o640)
    return path.read_bytes()


def test_mongodb_failing_mid_export_leaves_the_previous_export(
    config: StoreConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "corpus.jsonl"
    before = previous_export(out)
    every = MongoStore.iter_documents

    def outage(self: MongoStore, query: dict | None = None) -> Iterator[dict[str, Any]]:
        for n, doc in enumerate(every(self, query)):
            if n == 1:
                stop_server(config.data_dir)  # the embedded MongoDB goes away meanwhile
            yield doc

    monkeypatch.setattr(MongoStore, "iter_documents", outage)
    result = CliRunner().invoke(cli.app, ["export", "--out", str(out)])
    assert out.read_bytes() == before
    assert result.exit_code == 1, result.output
    assert "MongoDB failed during the export" in result.output
    assert f"{out} is left as it was" in " ".join(result.output.split())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus.jsonl", "d"]  # no leftovers


def test_a_whole_export_replaces_the_previous_one(config: StoreConfig, tmp_path: Path) -> None:
    out = tmp_path / "corpus.jsonl"
    previous_export(out)
    result = CliRunner().invoke(cli.app, ["export", "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert len(lines) == DOCUMENTS
    assert json.loads(lines[0])["title"] == "Post 0"
    assert out.stat().st_mode & 0o777 == 0o640  # the file keeps its permissions


def test_atomic_write_keeps_the_old_file_on_any_error(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text("old")
    with pytest.raises(RuntimeError), atomic_write(path) as handle:
        handle.write("half of the new")
        raise RuntimeError("the writer failed")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]
    with atomic_write(tmp_path / "new" / "file.txt") as handle:
        handle.write("whole")
    assert (tmp_path / "new" / "file.txt").read_text() == "whole"
