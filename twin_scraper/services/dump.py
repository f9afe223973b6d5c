"""A copy of the database in mongodump's layout, and its restore: how a corpus moves from
the embedded MongoDB to a real server (or back, or to another machine).

`twin mongo dump OUT` writes `OUT/<database>/<collection>.bson` (documents one after the
other, as BSON) with `<collection>.metadata.json` beside each, which `mongorestore OUT`
reads as it reads mongodump's own output; `twin mongo restore OUT` writes it back through
pymongo into whatever MongoDB the settings name (MONGODB_URI, or the embedded one).
Restoring is idempotent: each document replaces the one with its `_id`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bson
from pymongo.collection import Collection
from pymongo.errors import PyMongoError

from twin_scraper.services.workspace import ServiceError, Workspace

BATCH = 500


@dataclass(frozen=True)
class DumpResult:
    directory: Path
    collections: dict[str, int]  # name -> documents


def dump(ws: Workspace, out: Path) -> DumpResult:
    database = ws.config.mongo_database
    target = out / database
    counts: dict[str, int] = {}
    with ws.mongo(reading=True) as mongo:
        try:
            names = sorted(mongo.db.list_collection_names())
            target.mkdir(parents=True, exist_ok=True)
            for name in names:
                collection = mongo.db[name]
                written = 0
                with open(target / f"{name}.bson", "wb") as handle:
                    for document in collection.find().sort("_id", 1):
                        handle.write(bson.encode(document))
                        written += 1
                metadata = {
                    "options": {},
                    "indexes": _indexes(collection),
                    "uuid": "",
                    "collectionName": name,
                    "type": "collection",
                }
                (target / f"{name}.metadata.json").write_text(json.dumps(metadata))
                counts[name] = written
        except PyMongoError as exc:
            raise ServiceError(f"{ws.mongo_where()} failed during the dump: {exc}") from None
    return DumpResult(target, counts)


def _indexes(collection: object) -> list[dict]:
    """The collection's indexes as mongodump writes them (only `_id` if not listable)."""
    try:
        info = collection.index_information()  # type: ignore[attr-defined]
    except PyMongoError:
        info = {}
    indexes = []
    for name, spec in info.items():
        index = {"v": 2, "key": dict(spec["key"]), "name": name}
        if spec.get("unique"):
            index["unique"] = True
        indexes.append(index)
    return indexes or [{"v": 2, "key": {"_id": 1}, "name": "_id_"}]


def _write_all(collection: Collection, documents: Iterable[dict[str, Any]]) -> int:
    """Each document replaces the one with its `_id`, in batches (deleted, then inserted:
    nx-27017 cannot replace documents holding binary fields in place)."""
    written = 0
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        nonlocal written, batch
        collection.delete_many({"_id": {"$in": [d["_id"] for d in batch]}})
        collection.insert_many(batch, ordered=False)
        written, batch = written + len(batch), []

    for document in documents:
        batch.append(document)
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    return written


def restore(ws: Workspace, source: Path) -> DumpResult:
    """Write a dump (ours or mongodump's) into the configured MongoDB. `source` is the
    dump directory or its database folder."""
    folder = source / ws.config.mongo_database
    if not folder.is_dir():
        folder = source
    files = sorted(folder.glob("*.bson"))
    if not files:
        raise ServiceError(
            f"no .bson files in {folder}: give the directory `twin mongo dump` wrote"
        )
    counts: dict[str, int] = {}
    with ws.mongo() as mongo:
        try:
            for path in files:
                name = path.name.removesuffix(".bson")
                with open(path, "rb") as handle:
                    counts[name] = _write_all(mongo.db[name], bson.decode_file_iter(handle))
        except (PyMongoError, bson.errors.BSONError) as exc:
            raise ServiceError(
                f"restoring {folder} into {ws.mongo_where()} failed: {str(exc)[:300]}"
            ) from None
    return DumpResult(folder, counts)
