"""A crawl killed with SIGKILL mid-run and started again the same way (`-s JOBDIR=...`,
or `twin crawl --resume`) stores every page exactly once, embeds every chunk once, and
the resumed run's report accounts for every page. Real processes, a real kill."""

from __future__ import annotations

import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.reliability.helpers import add_articles, environment, qdrant_points, run, start
from twin_scraper.config import StoreConfig
from twin_scraper.demo.server import SiteServer
from twin_scraper.stores.mongo import MongoStore

PAGES = 30


def crawl_command(how: str, seeds: Path, tmp_path: Path) -> list[str]:
    if how == "jobdir":
        return ["scrapy", "crawl", "seeds", "-a", f"file={seeds}", "-s", f"JOBDIR={tmp_path}/job"]
    return ["twin_scraper.cli", "crawl", "--resume", str(seeds)]


@pytest.mark.parametrize("how", ["jobdir", "twin_resume"])
def test_sigkill_mid_crawl_then_resume_stores_and_embeds_every_page_once(
    how: str, settings: dict, mongo: MongoStore, store_config: StoreConfig, tmp_path: Path
) -> None:
    env = environment(settings)
    (tmp_path / "site").mkdir()
    with SiteServer(tmp_path / "site", latency=0.5) as site:
        urls = add_articles(site, PAGES)
        seeds = tmp_path / "rowan.yaml"
        seeds.write_text("author: Rowan Vale\nlinks:\n" + "".join(f"  - {u}\n" for u in urls))
        command = crawl_command(how, seeds, tmp_path)

        process = start(command, env, tmp_path / "first.log")
        deadline = time.monotonic() + 120
        while sum(mongo.count_documents().values()) < 5 and time.monotonic() < deadline:
            assert process.poll() is None, (tmp_path / "first.log").read_text()[-3000:]
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait()
        stored_before = sum(mongo.count_documents().values())
        assert 5 <= stored_before < PAGES, "the kill must land mid-crawl"
        assert mongo.latest_runs(1) == []  # killed: no report was written
        hits_before = dict(site.hits)

        resumed = run(command, env)
        assert resumed.returncode == 0, resumed.stderr[-3000:]

    docs = list(mongo.iter_documents())
    assert Counter(d["canonical_url"] for d in docs) == Counter(u.rstrip("/") for u in urls)
    assert mongo.db.raw_pages.count_documents({}) == PAGES

    report = mongo.latest_runs(1)[0]
    totals = report["totals"]
    assert report["finish_reason"] == "finished" and totals["failed"] == 0
    # Pages the killed run settled are not fetched again, and are reported as such.
    assert 0 < totals["resumed"] <= stored_before
    assert (
        totals["resumed"] + totals["new"] + totals["unchanged"] == PAGES == totals["attempted"]
    ), str(totals)
    fetched_again = {
        path: count - hits_before.get(path, 0)
        for path, count in site.hits.items()
        if path.startswith("/notes/")
    }
    assert sum(fetched_again.values()) == PAGES - totals["resumed"]
    assert max(fetched_again.values()) <= 1

    embedded = run(["twin_scraper.cli", "embed"], env)  # what the kill left pending
    assert embedded.returncode == 0, embedded.stderr[-2000:]
    docs = list(mongo.iter_documents())
    assert {d["embed"]["status"] for d in docs} == {"done"}
    points = qdrant_points(store_config)
    assert len(points) == len({p.id for p in points}) == sum(d["embed"]["chunks"] for d in docs)
