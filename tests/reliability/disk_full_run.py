"""Driver of the disk-full test (tests/reliability/test_disk_full.py), run in a mount
namespace of its own (`unshare --mount --map-root-user`): it mounts a small tmpfs as the
data directory, runs crawls on it, lets it grow, runs them again, and writes what it
saw as JSON. The tmpfs vanishes with the namespace, whatever happens.

    python -m tests.reliability.disk_full_run SPEC.json RESULT.json
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pymongo

from twin_scraper.stores.embedded_mongo import ensure_server, stop_server
from twin_scraper.stores.journal import Journal


def mount(data_dir: Path, size: str, remount: bool = False) -> None:
    options = f"remount,size={size}" if remount else f"size={size}"
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(data_dir)], check=True)


def crawl(args: list[str], env: dict[str, str], cwd: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", *args], env=env, cwd=cwd, capture_output=True, text=True
    )
    return {"returncode": done.returncode, "stdout": done.stdout, "stderr": done.stderr}


def contents(data_dir: Path, database: str) -> dict[str, Any]:
    """Stored document URLs, journaled document URLs, the latest stored report."""
    client = pymongo.MongoClient(ensure_server(data_dir))  # reads only: no index to create
    try:
        db = client[database]
        stored = sorted(d["url"] for d in db.articles.find({}, {"url": 1}))
        runs = [{k: v for k, v in r.items() if k != "_id"} for r in db.crawl_runs.find()]
    finally:
        client.close()
    journal = Journal(data_dir)
    journaled = sorted(
        json.loads(line)["doc"]["url"]
        for path in journal.files()
        for line in path.read_text().splitlines()
        if line.strip()
    )
    return {
        "stored": stored,
        "journaled": journaled,
        "runs": json.loads(json.dumps(runs, default=str)),
    }


def main(spec_path: str, result_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    data_dir = Path(spec["data_dir"])
    env = {**os.environ, **spec["env"]}
    result: dict[str, Any] = {}
    mount(data_dir, spec["small"])
    try:
        result["full"] = crawl(spec["first"], env, spec["repo"])
        result["still_full"] = crawl(spec["second"], env, spec["repo"])
        result["after_full"] = contents(data_dir, spec["database"])
        mount(data_dir, spec["large"], remount=True)
        result["again"] = crawl(spec["first"], env, spec["repo"])
        result["after_again"] = contents(data_dir, spec["database"])
    finally:
        stop_server(data_dir)
        Path(result_path).write_text(json.dumps(result))


if __name__ == "__main__":
    main(*sys.argv[1:3])
