"""A full disk: every page is stored, journaled, or the crawl fails loudly (non-zero
exit, a message naming the disk) so that it is fetched again, and the crawl report
survives. Real: the data directory is a 5 MB tmpfs, mounted in a mount namespace of the
test's own (`unshare`, which needs no root where user namespaces are enabled), so the
mount never outlives the test.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.helpers import REPO, article_html, environment, own_data_dir
from twin_scraper.demo.server import Route, SiteServer

PAGES = 80


def big_article(n: int, base: str) -> bytes:
    """A post of about 45 kB that compresses poorly: 80 of them do not fit in 5 MB."""
    rnd = random.Random(n)
    words = " ".join(
        "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rnd.randint(3, 9)))
        for _ in range(6000)
    )
    return article_html(n, base).replace(b"</article>", f"<p>{words}</p></article>".encode())


def namespace_command() -> list[str]:
    """How to get a private mount namespace here, or fail saying why (never skip)."""
    unshare = shutil.which("unshare")
    assert unshare, "the disk-full test needs util-linux's unshare"
    probe = subprocess.run(
        [unshare, "--mount", "--map-root-user", "true"], capture_output=True, text=True
    )
    assert probe.returncode == 0, (
        "the disk-full test mounts a tmpfs in a private mount namespace; this machine "
        f"allows neither root nor user namespaces: {probe.stderr.strip()}"
    )
    return [unshare, "--mount", "--map-root-user"]


@pytest.fixture
def outcome(tmp_path: Path, model_dir: Path) -> dict[str, Any]:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (tmp_path / "site").mkdir()
    (tmp_path / "tmp").mkdir()
    settings = own_data_dir(data_dir, model_dir)
    with SiteServer(tmp_path / "site") as site:
        urls = []
        for n in range(PAGES + 1):
            site.routes[f"/notes/{n}/"] = Route(big_article(n, site.base))
            urls.append(site.url(f"/notes/{n}/"))
        site.routes["/robots.txt"] = Route(b"User-agent: *\nAllow: /\n", "text/plain")
        seeds = tmp_path / "notes.yaml"
        seeds.write_text(
            "author: Rowan Vale\nlinks:\n" + "".join(f"  - url: {u}\n" for u in urls[:PAGES])
        )
        spec = {
            "data_dir": str(data_dir),
            "database": "twin",
            "repo": str(REPO),
            "small": "5m",
            "large": "100m",
            # Embedding is not what is tested here: documents would wait for `twin embed`.
            "env": {
                **environment(settings, TWIN_EMBED="false"),
                "TMPDIR": str(tmp_path / "tmp"),
            },
            "first": ["twin_scraper.cli", "crawl", str(seeds)],
            "second": ["scrapy", "crawl", "article", "-a", f"url={urls[PAGES]}"],
        }
        (tmp_path / "spec.json").write_text(json.dumps(spec))
        driver = subprocess.run(
            [
                *namespace_command(),
                sys.executable,
                "-m",
                "tests.reliability.disk_full_run",
                str(tmp_path / "spec.json"),
                str(tmp_path / "result.json"),
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=900,
        )
    assert driver.returncode == 0, driver.stderr[-3000:]
    result = json.loads((tmp_path / "result.json").read_text())
    result["urls"] = urls
    result["saved_reports"] = [
        json.loads(p.read_text()) for p in sorted((tmp_path / "tmp").glob("crawl_run-*.json"))
    ]
    return result


def test_a_full_disk_stops_the_crawl_loudly_and_loses_nothing(outcome: dict[str, Any]) -> None:
    urls, full, after = outcome["urls"], outcome["full"], outcome["after_full"]
    kept = set(after["stored"]) | set(after["journaled"])
    assert len(kept) < PAGES  # the disk really filled up
    # Not a success: `twin crawl` and `scrapy crawl` exit non-zero, naming the disk.
    assert full["returncode"] != 0
    assert "No space left on the disk of" in full["stderr"]
    assert "/data/journal" in full["stderr"]
    assert outcome["still_full"]["returncode"] != 0
    assert "No space left on the disk of" in outcome["still_full"]["stderr"]
    # The report is not lost: MongoDB could not take it, so it went to a whole file.
    (report,) = [r for r in outcome["saved_reports"] if r["spider"] == "seeds"]
    assert report["finish_reason"] == "disk_full"
    reasons = {k: v for d in report["domains"] for k, v in d["reasons"].items()}
    assert reasons.get("disk full", 0) >= 1
    assert "saved it to" in full["stderr"]
    # Once there is room, the same crawl again stores every page: none was lost.
    again = outcome["again"]
    assert again["returncode"] == 0, again["stderr"][-3000:]
    assert outcome["after_again"]["stored"] == sorted(urls[:PAGES])
    assert outcome["after_again"]["journaled"] == []
