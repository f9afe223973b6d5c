"""Syncs: periods, validation, the stored syncs (MongoDB through pymongo), the scheduler on
APScheduler, and `twin sync add|list|run|remove` as real processes crawling the demo site."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.test_cli import environment, twin
from twin_scraper.demo.server import SiteServer
from twin_scraper.stores.mongo import MongoStore
from twin_scraper.syncs import (
    Sync,
    SyncError,
    SyncScheduler,
    SyncStore,
    new_sync,
    parse_period,
)

UTC_ZONE = ZoneInfo("UTC")
PARIS = ZoneInfo("Europe/Paris")
#: A Wednesday.
NOW = datetime(2026, 6, 3, 12, 0, tzinfo=UTC_ZONE)


def next_fires(period: str, count: int = 3, zone: ZoneInfo = UTC_ZONE) -> list[datetime]:
    trigger = parse_period(period, zone)
    fires, previous, now = [], None, NOW.astimezone(zone)
    for _ in range(count):
        fire = trigger.get_next_fire_time(previous, now)
        fires.append(fire)
        previous, now = fire, fire + timedelta(microseconds=1)
    return fires


def test_periods_in_words() -> None:
    assert next_fires("every day at 06:00") == [
        datetime(2026, 6, 4, 6, 0, tzinfo=UTC_ZONE),
        datetime(2026, 6, 5, 6, 0, tzinfo=UTC_ZONE),
        datetime(2026, 6, 6, 6, 0, tzinfo=UTC_ZONE),
    ]
    assert next_fires("Every  Monday at 9:30", 2) == [
        datetime(2026, 6, 8, 9, 30, tzinfo=UTC_ZONE),
        datetime(2026, 6, 15, 9, 30, tzinfo=UTC_ZONE),
    ]
    weekdays = next_fires("every weekday at 07:00", 3)
    assert [f.strftime("%a %d") for f in weekdays] == ["Thu 04", "Fri 05", "Mon 08"]
    six_hours = next_fires("every 6 hours", 2)
    assert six_hours[1] - six_hours[0] == timedelta(hours=6)
    hourly = next_fires("hourly", 2)
    assert hourly[1] - hourly[0] == timedelta(hours=1)
    assert next_fires("daily", 1) == [datetime(2026, 6, 4, 0, 0, tzinfo=UTC_ZONE)]
    seconds = next_fires("every 20 seconds", 2)
    assert seconds[1] - seconds[0] == timedelta(seconds=20)
    # Times of day are the sync's time zone's.
    assert next_fires("every day at 06:00", 1, PARIS)[0].astimezone(UTC_ZONE).hour == 4


def test_crontab_weekdays_count_from_sunday() -> None:
    """In a crontab 1-5 is Monday to Friday (APScheduler alone would read Tuesday to
    Saturday), and 0 and 7 are Sunday."""
    fires = next_fires("30 6 * * 1-5", 5)
    assert [f.strftime("%a %H:%M") for f in fires] == [
        "Thu 06:30",
        "Fri 06:30",
        "Mon 06:30",
        "Tue 06:30",
        "Wed 06:30",
    ]
    assert {f.strftime("%a") for f in next_fires("0 8 * * 0,7", 3)} == {"Sun"}
    quarters = next_fires("*/15 * * * *", 2)
    assert quarters == [NOW, NOW + timedelta(minutes=15)]  # 12:00 itself is on the quarter


@pytest.mark.parametrize(
    ("period", "message"),
    [
        ("sometimes", "not understood"),
        ("every day at 25:00", "not a time of day"),
        ("every 0 minutes", "at least 1"),
        ("61 * * * *", "not a valid crontab line"),
    ],
)
def test_bad_periods_are_named(period: str, message: str) -> None:
    with pytest.raises(SyncError, match=message) as error:
        parse_period(period, UTC_ZONE)
    assert repr(period) in str(error.value)


def test_new_sync_validates_its_source(tmp_path: Path) -> None:
    sync = new_sync(
        "ada-blog", " https://ada.example/ ", "every  day at 06:00", UTC_ZONE, "Ada  Quill"
    )
    assert (sync.url, sync.author, sync.period) == (
        "https://ada.example/",
        "Ada Quill",
        "every day at 06:00",
    )
    assert sync.batch().author == "Ada Quill" and sync.batch().links[0].url == sync.url

    seeds = tmp_path / "ada.yaml"
    seeds.write_text("author: Ada Quill\nlinks:\n  - https://ada.example/\n")
    from_file = new_sync("ada", str(seeds), "daily", UTC_ZONE)
    assert from_file.seed_file == str(seeds.resolve()) and from_file.url is None

    with pytest.raises(SyncError, match="sync name 'Ada Blog'"):
        new_sync("Ada Blog", "https://ada.example/", "daily", UTC_ZONE, "Ada Quill")
    with pytest.raises(SyncError, match="needs its author"):
        new_sync("ada", "https://ada.example/", "daily", UTC_ZONE)
    with pytest.raises(SyncError, match="seed file not found"):
        new_sync("ada", str(tmp_path / "missing.yaml"), "daily", UTC_ZONE)
    with pytest.raises(SyncError, match="runner 'cloud'"):
        new_sync("ada", str(seeds), "daily", UTC_ZONE, runner="cloud")
    export = tmp_path / "export.zip"
    export.write_bytes(b"")
    seeds.write_text(f"author: Ada Quill\nlinks:\n  - linkedin_export: {export}\n")
    with pytest.raises(SyncError, match="cannot read"):
        new_sync("ada", str(seeds), "daily", UTC_ZONE, runner="scrapyd")


def test_stored_syncs(mongo: MongoStore) -> None:
    store = SyncStore(mongo)
    sync = new_sync("ada", "https://ada.example/", "every 6 hours", UTC_ZONE, "Ada Quill")
    store.add(sync)
    with pytest.raises(SyncError, match="exists already"):
        store.add(sync)
    when = datetime(2026, 6, 3, 18, 0, tzinfo=UTC)
    store.set_next_run("ada", when)
    store.update("ada", paused=True, last_run={"started_at": when, "exit_code": 0})
    again = store.require("ada")
    assert again.next_run_at == when and again.paused
    assert again.last_run == {"started_at": when, "exit_code": 0}
    assert again.url == sync.url and again.created_at is not None

    owner = {"token": "t1", "pid": 0, "host": "elsewhere", "since": datetime.now(UTC)}
    assert store.claim("ada", owner)
    assert store.require("ada").claimed()  # another host: trusted for a day
    assert not store.claim("ada", owner | {"token": "t2"})
    store.release("ada", "t2")  # not its claim: nothing happens
    assert store.require("ada").claimed()
    store.release("ada", "t1")
    assert not store.require("ada").claimed()
    # A claim by a process of this host that died is taken over.
    dead = {"token": "t3", "pid": 2**22 + 12345, "host": __import__("socket").gethostname()}
    assert store.claim("ada", dead | {"since": datetime.now(UTC)})
    assert store.claim("ada", owner | {"token": "t4"})

    assert [s.name for s in store.all()] == ["ada"]
    assert store.remove("ada") and not store.remove("ada")
    with pytest.raises(SyncError, match="no sync named 'ada'"):
        store.require("ada")


class RecordingRunner:
    """Stands in for SyncRunner in scheduler tests: records which syncs it was asked to run."""

    stopping = False

    def __init__(self) -> None:
        self.runs: list[str] = []
        self.ran = threading.Event()

    def run(self, name: str, echo: Any = None) -> dict[str, Any]:
        self.runs.append(name)
        self.ran.set()
        return {}

    def running(self) -> set[str]:
        return set()

    def stop_all(self) -> None:
        self.stopping = True


@pytest.fixture
def scheduler(mongo: MongoStore) -> Any:
    runner = RecordingRunner()
    scheduler = SyncScheduler(SyncStore(mongo), runner, UTC_ZONE)  # type: ignore[arg-type]
    yield scheduler, runner
    if scheduler.scheduler.running:
        scheduler.shutdown()


def test_scheduler_runs_a_sync_on_its_period(scheduler: Any) -> None:
    scheduler, runner = scheduler
    store = scheduler.store
    store.add(Sync("fast", "every 1 second", url="https://ada.example/", author="Ada Quill"))
    store.add(Sync("daily", "every day at 06:00", url="https://b.example/", author="Ada Quill"))
    scheduler.start()
    assert runner.ran.wait(30), "the one-second sync never ran"
    assert runner.runs[0] == "fast"
    # Each job's next run is stored, for `twin sync list` and the page.
    daily = store.require("daily")
    assert daily.next_run_at is not None and daily.next_run_at > datetime.now(UTC)
    assert (daily.next_run_at.hour, daily.next_run_at.minute) == (6, 0)


def test_scheduler_follows_pause_resume_and_removal(scheduler: Any) -> None:
    scheduler, runner = scheduler
    store = scheduler.store
    store.add(Sync("ada", "every day at 06:00", url="https://ada.example/", author="Ada Quill"))
    scheduler.start()
    assert scheduler.scheduler.get_job("ada") is not None
    store.update("ada", paused=True)  # as `twin sync pause` does, from another process
    scheduler.reconcile()
    assert scheduler.scheduler.get_job("ada") is None
    assert store.require("ada").next_run_at is None
    scheduler.run_now("ada")  # asked for: runs although paused
    assert runner.ran.wait(30) and runner.runs == ["ada"]
    store.update("ada", paused=False, period="every 2 hours")
    scheduler.reconcile()
    job = scheduler.scheduler.get_job("ada")
    assert job is not None and "interval[2:00:00]" in str(job.trigger)
    store.remove("ada")
    scheduler.reconcile()
    assert scheduler.scheduler.get_job("ada") is None


def test_a_run_missed_while_no_scheduler_ran_happens_at_start(scheduler: Any) -> None:
    scheduler, runner = scheduler
    store = scheduler.store
    store.add(Sync("missed", "every day at 06:00", url="https://a.example/", author="Ada Quill"))
    store.set_next_run("missed", datetime.now(UTC) - timedelta(hours=3))
    store.add(Sync("future", "every day at 06:00", url="https://b.example/", author="Ada Quill"))
    store.set_next_run("future", datetime.now(UTC) + timedelta(hours=3))
    scheduler.start()
    assert runner.ran.wait(30) and runner.runs == ["missed"]
    future = scheduler.scheduler.get_job("future")
    assert future.next_run_time > datetime.now(UTC)


def test_sync_commands_crawl_the_demo_site(
    demo_site: SiteServer, settings: dict, mongo: MongoStore, tmp_path: Path
) -> None:
    env = environment(settings) | {"TWIN_ALLOW_PRIVATE": "127.0.0.1/32"}
    added = twin(
        [
            "sync",
            "add",
            "demo",
            demo_site.url("/"),
            "--every",
            "every day at 06:00",
            "--author",
            "Ada Quill",
        ],
        env,
    )
    assert added.returncode == 0, added.stderr
    assert "Sync demo added" in added.stdout
    again = twin(
        ["sync", "add", "demo", demo_site.url("/"), "--every", "daily", "--author", "A B"], env
    )
    assert again.returncode == 1 and "exists already" in again.stderr
    missing = twin(["sync", "add", "other", str(tmp_path / "none.yaml"), "--every", "daily"], env)
    assert missing.returncode == 1 and "seed file not found" in missing.stderr
    bad = twin(["sync", "add", "other", demo_site.url("/"), "--every", "now and then"], env)
    assert bad.returncode == 1 and "not understood" in bad.stderr

    listed = twin(["sync", "list"], env)
    assert listed.returncode == 0 and "every day at 06:00" in listed.stdout
    assert "never" in listed.stdout

    ran = twin(["sync", "run", "demo"], env)
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert "Sync demo: finished" in ran.stdout
    assert "Crawl report: seeds (finished)" in ran.stderr  # the crawl's log, echoed
    (run,) = mongo.db.crawl_runs.find({"sync_id": "demo"})
    assert run["finish_reason"] == "finished" and run["totals"]["new"] == 7
    assert sum(mongo.count_documents().values()) == 7
    sync = SyncStore(mongo).require("demo")
    assert sync.last_run["run_id"] == run["_id"] and sync.last_run["exit_code"] == 0
    assert Path(sync.last_run["log"]).is_file() and not sync.claimed()
    assert "finished: 7 new" in twin(["sync", "list"], env).stdout

    paused = twin(["sync", "pause", "demo"], env)
    assert paused.returncode == 0 and SyncStore(mongo).require("demo").paused
    removed = twin(["sync", "remove", "demo"], env)
    assert removed.returncode == 0 and SyncStore(mongo).get("demo") is None
    assert twin(["sync", "remove", "demo"], env).returncode == 1


def test_stopping_the_server_stops_a_sync_crawl_gracefully(
    settings: dict, mongo: MongoStore, store_config: Any
) -> None:
    """`twin serve` stopping (the scheduler's shutdown) stops the crawl under way as Ctrl-C
    would: its report says `shutdown`, the sync records the run and is no longer claimed."""
    from twin_scraper.config import project_settings
    from twin_scraper.demo.server import SITE_DIR
    from twin_scraper.syncs import SyncRunner

    with SiteServer(SITE_DIR, latency=1.0) as slow:
        store = SyncStore(mongo)
        store.add(new_sync("slow", slow.url("/"), "every day at 06:00", UTC_ZONE, "Ada Quill"))
        runner = SyncRunner(
            store, store_config, project_settings(settings), {"TWIN_ALLOW_PRIVATE": "127.0.0.1/32"}
        )
        scheduler = SyncScheduler(store, runner, UTC_ZONE)
        scheduler.start()
        try:
            scheduler.run_now("slow")
            deadline = datetime.now(UTC) + timedelta(seconds=120)
            while not mongo.db.crawl_progress.find_one(
                {"sync_id": "slow", "pages_done": {"$gte": 2}}
            ):
                assert datetime.now(UTC) < deadline, "the sync's crawl never got going"
                threading.Event().wait(0.3)
            assert runner.running() == {"slow"} and store.require("slow").claimed()
        finally:
            scheduler.shutdown()
    sync = store.require("slow")
    assert sync.last_run["finish_reason"] == "shutdown", sync.last_run
    assert not sync.claimed() and runner.running() == set()
    assert store.last_crawl_run("slow")["finish_reason"] == "shutdown"
