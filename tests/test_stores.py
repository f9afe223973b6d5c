"""Store adapters on their own: the embedded MongoDB server's lifecycle, the model's
checksums, canonical URLs as identity in MongoDB."""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from pathlib import Path

import pymongo
import pytest

from twin_scraper.stores.embedded_mongo import ensure_server, server_status, stop_server
from twin_scraper.stores.embedder import ModelMissing, ensure_model, model_path, verify_model
from twin_scraper.stores.mongo import MongoStore, redact_uri


def test_embedded_server_is_reused_restarted_after_a_crash_and_keeps_data(tmp_path: Path) -> None:
    uri = ensure_server(tmp_path)
    try:
        assert ensure_server(tmp_path) == uri  # a second caller reuses it
        client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=3000)
        client.twin.things.insert_one({"_id": "kept", "n": 1})
        client.close()
        pid = json.loads((tmp_path / "mongo.json").read_text())["pid"]
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while server_status(tmp_path) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert server_status(tmp_path) is None
        again = ensure_server(tmp_path)  # restarted on next use, same SQLite file
        client = pymongo.MongoClient(again, serverSelectionTimeoutMS=3000)
        assert client.twin.things.find_one({"_id": "kept"}) == {"_id": "kept", "n": 1}
        client.close()
    finally:
        assert stop_server(tmp_path)
    assert server_status(tmp_path) is None
    assert not stop_server(tmp_path)


def test_embedded_server_keeps_databases_apart(mongo_data_dir: Path) -> None:
    client = pymongo.MongoClient(ensure_server(mongo_data_dir), serverSelectionTimeoutMS=3000)
    try:
        client.apart_a.docs.insert_one({"_id": 1})
        client.apart_b.docs.insert_one({"_id": 2})
        client.drop_database("apart_b")
        assert list(client.apart_a.docs.find()) == [{"_id": 1}]
        assert client.apart_b.docs.count_documents({}) == 0
    finally:
        client.drop_database("apart_a")
        client.close()


def test_model_checksums_are_verified(model_dir: Path, tmp_path: Path) -> None:
    assert verify_model(model_path(model_dir)) is None
    copy = model_path(tmp_path)
    shutil.copytree(model_path(model_dir), copy)
    with open(copy / "vocab.txt", "a") as handle:
        handle.write("tampered\n")
    assert "vocab.txt does not match its pinned SHA-256" in (verify_model(copy) or "")
    with pytest.raises(ModelMissing, match="run `twin model fetch`"):
        ensure_model(tmp_path, auto_fetch=False)
    (copy / "model.onnx").unlink()
    assert "model.onnx is missing" in (verify_model(copy) or "")


def test_users_are_created_once_per_full_name(mongo: MongoStore) -> None:
    ada = mongo.get_or_create_user("Ada  Lovelace King")
    assert (ada["first_name"], ada["last_name"]) == ("Ada Lovelace", "King")
    assert mongo.get_or_create_user("ada lovelace king")["_id"] == ada["_id"]
    cher = mongo.get_or_create_user("Cher")
    assert (cher["first_name"], cher["last_name"]) == ("Cher", "")
    assert mongo.db.users.count_documents({}) == 2


def test_canonical_url_is_unique(mongo: MongoStore) -> None:
    mongo.db.articles.insert_one({"_id": "one", "canonical_url": "https://a.example/x"})
    with pytest.raises(pymongo.errors.DuplicateKeyError):
        mongo.db.articles.insert_one({"_id": "two", "canonical_url": "https://a.example/x"})


@pytest.mark.parametrize(
    ("uri", "shown"),
    [
        ("mongodb://user:secret@host:27017/db", "mongodb://user:***@host:27017/db"),
        ("mongodb://host:27017/", "mongodb://host:27017/"),
        ("mongodb+srv://u:p%40ss@cluster.example/", "mongodb+srv://u:***@cluster.example/"),
    ],
)
def test_redact_uri(uri: str, shown: str) -> None:
    assert redact_uri(uri) == shown


def test_a_stale_state_file_never_signals_an_unrelated_process(tmp_path: Path) -> None:
    import subprocess

    bystander = subprocess.Popen(["sleep", "60"])
    try:
        (tmp_path / "mongo.json").write_text(json.dumps({"pid": bystander.pid, "port": 9}))
        uri = ensure_server(tmp_path)  # starts a server of its own
        assert bystander.poll() is None  # the unrelated process is untouched
        assert json.loads((tmp_path / "mongo.json").read_text())["pid"] != bystander.pid
        assert pymongo.MongoClient(uri, serverSelectionTimeoutMS=3000).admin.command("ping")
        (tmp_path / "mongo.json").write_text(json.dumps({"pid": bystander.pid, "port": 9}))
        assert not stop_server(tmp_path)
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()
        for line in os.popen(f"pgrep -f {tmp_path}/mongo").read().split():
            os.kill(int(line), signal.SIGTERM)


def test_many_points_are_upserted_in_slices(tmp_path: Path) -> None:
    from qdrant_client import models

    from twin_scraper.stores.qdrant import UPSERT_BATCH, QdrantStore

    store = QdrantStore.open("", "", tmp_path / "qdrant", "t", "m", 4)
    try:
        total = UPSERT_BATCH * 2 + 7
        points = [
            models.PointStruct(id=i, vector=[1.0, 0.0, 0.0, float(i)], payload={"doc_id": "d"})
            for i in range(total)
        ]
        store.replace_documents(["d"], points)
        assert store.count() == total
        store.replace_documents(["d"], points[:3])  # a shrunk document leaves nothing stale
        assert store.count() == 3
    finally:
        store.close()
