"""Syncs: crawls that keep the corpus current by themselves.

A sync names a seed file (read again at every run) or a single source (one link and its
author: a blog, a Medium user, a Substack publication, a GitHub user), a period ("every
day at 06:00", "every 6 hours", a crontab line) and where it runs: a local crawl process
or a job on Scrapyd. Syncs are stored in MongoDB (`syncs`), so they survive restarts;
`twin serve` runs them with APScheduler, `twin sync run` runs one now. Each run's crawl
report names its sync (`crawl_runs.sync_id`).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, TextIO

import yaml
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from pymongo.errors import DuplicateKeyError
from scrapy.settings import BaseSettings

from twin_scraper.config import StoreConfig
from twin_scraper.jobpolicy import SYNC_NAME
from twin_scraper.seeds import LinkKind, SeedBatch, SeedFileError, load_seed_file, parse_seeds
from twin_scraper.service import MAX_SEEDS_BYTES, ScrapydApi, ScrapydError
from twin_scraper.stores.mongo import MongoStore
from twin_scraper.stores.private import private_dir
from twin_scraper.urls import is_http_url

logger = logging.getLogger(__name__)

COLLECTION = "syncs"
RUNNERS = ("local", "scrapyd")
#: How often the scheduler reads the stored syncs again (syncs added by `twin sync add`).
RECONCILE_SECONDS = 5.0
#: A stopped crawl gets this long to finish its requests and write its report.
STOP_GRACE_SECONDS = 60.0

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = {
    **{day: day for day in DAYS},
    "monday": "mon",
    "tuesday": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
    "weekday": "mon-fri",
    "weekend": "sat,sun",
}
UNITS = {"second": "seconds", "minute": "minutes", "hour": "hours", "day": "days", "week": "weeks"}
PERIOD_EXAMPLES = (
    '"every day at 06:00", "every monday at 09:30", "every weekday at 07:00", '
    '"every 6 hours", "every 30 minutes", "hourly", "daily", or a crontab line such as '
    '"0 6 * * 1-5"'
)
_INTERVAL = re.compile(r"^every\s+(?:(\d+)\s+)?(second|minute|hour|day|week)s?$")
_AT = re.compile(r"^(?:every\s+)?(\w+)\s+at\s+(\d{1,2}):(\d{2})$")


class SyncError(ValueError):
    """A sync that cannot be added or run; the message says which and why."""


def parse_period(text: str, timezone: tzinfo) -> BaseTrigger:
    """An APScheduler trigger for a period in words (or a crontab line), in `timezone`."""
    words = " ".join(text.lower().split())
    words = {"hourly": "every hour", "daily": "every day at 00:00"}.get(words, words)
    words = {"weekly": "every monday at 00:00"}.get(words, words)
    interval = _INTERVAL.match(words)
    if interval:
        count = int(interval.group(1) or 1)
        if count < 1:
            raise SyncError(f"period {text!r}: the count must be at least 1")
        return IntervalTrigger(timezone=timezone, **{UNITS[interval.group(2)]: count})
    at = _AT.match(words)
    if at:
        day, hour, minute = at.group(1), int(at.group(2)), int(at.group(3))
        if hour > 23 or minute > 59:
            raise SyncError(f"period {text!r}: {hour}:{minute:02d} is not a time of day")
        if day in ("day", "daily"):
            return CronTrigger(hour=hour, minute=minute, timezone=timezone)
        if day in DAY_NAMES:
            return CronTrigger(
                day_of_week=DAY_NAMES[day], hour=hour, minute=minute, timezone=timezone
            )
    fields = words.split()
    if len(fields) == 5 and all(re.fullmatch(r"[\d*/,\-a-z]+", f) for f in fields):
        minute, hour, day, month, weekday = fields
        try:
            return CronTrigger(
                minute=minute,
                hour=hour,
                day=day,
                month=month,
                day_of_week=_cron_weekdays(weekday),
                timezone=timezone,
            )
        except ValueError as exc:
            raise SyncError(f"period {text!r} is not a valid crontab line: {exc}") from None
    raise SyncError(f"period {text!r} is not understood; use for example {PERIOD_EXAMPLES}")


def _cron_weekdays(value: str) -> str:
    """Crontab numbers days from Sunday (0 or 7); APScheduler from Monday (0): use names."""
    return re.sub(r"(?<![/\d])\d+", lambda m: DAYS[(int(m.group()) - 1) % 7], value)


def local_timezone(settings: BaseSettings) -> tzinfo:
    from zoneinfo import ZoneInfo

    import tzlocal

    name = settings.get("SYNC_TIMEZONE")
    return ZoneInfo(name) if name else tzlocal.get_localzone()


@dataclass
class Sync:
    """One stored sync: a seed file or a single source (`url` + `author`)."""

    name: str
    period: str
    runner: str = "local"
    seed_file: str | None = None
    url: str | None = None
    author: str | None = None
    paused: bool = False
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    next_run_at: datetime | None = None
    last_run: dict[str, Any] | None = None
    running: dict[str, Any] | None = None

    def claimed(self) -> bool:
        """Whether a live process runs this sync now."""
        return bool(self.running) and _alive(self.running or {})

    @property
    def source(self) -> str:
        return self.seed_file or f"{self.url} ({self.author})"

    def batch(self) -> SeedBatch:
        """The links this sync crawls, validated now (a seed file may have changed)."""
        if self.seed_file:
            return load_seed_file(self.seed_file)
        return parse_seeds(self.seed_text(), f"sync {self.name}")

    def seed_text(self) -> str:
        """The seed file's content, or a seed file made of the single source."""
        if self.seed_file:
            return Path(self.seed_file).read_text(encoding="utf-8")
        return yaml.safe_dump({"author": self.author, "links": [self.url]}, sort_keys=False)

    def record(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k not in ("name", "next_run_at")}
        return {"_id": self.name, **data, "next_run": {"at": self.next_run_at}}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Sync:
        fields = {k: v for k, v in record.items() if k in cls.__dataclass_fields__}
        fields["next_run_at"] = (record.get("next_run") or {}).get("at")
        fields["paused"] = bool(record.get("paused"))  # nx-27017 gives a `$set` True back as 1
        return cls(name=record["_id"], **fields)


def new_sync(
    name: str,
    source: str,
    period: str,
    timezone: tzinfo,
    author: str | None = None,
    runner: str = "local",
) -> Sync:
    """A validated sync: `source` is an http(s) URL (then `author` is needed) or the path of
    a seed file."""
    name = name.strip()
    if not SYNC_NAME.match(name):
        raise SyncError(
            f"sync name {name!r}: use 1 to 64 lowercase letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
    if runner not in RUNNERS:
        raise SyncError(f"runner {runner!r}: use one of {', '.join(RUNNERS)}")
    parse_period(period, timezone)
    source = source.strip()
    if is_http_url(source):
        if not author or not author.split():
            raise SyncError(f"sync {name}: a single source needs its author's full name")
        sync = Sync(
            name, " ".join(period.split()), runner, url=source, author=" ".join(author.split())
        )
    else:
        path = Path(source).expanduser().resolve()
        sync = Sync(name, " ".join(period.split()), runner, seed_file=str(path))
    try:
        batch = sync.batch()
    except SeedFileError as exc:
        raise SyncError(str(exc)) from None
    if runner == "scrapyd":
        check_for_scrapyd(sync, batch)
    return sync


def check_for_scrapyd(sync: Sync, batch: SeedBatch) -> None:
    if any(link.kind == LinkKind.LINKEDIN_EXPORT for link in batch.links):
        raise SyncError(
            f"sync {sync.name}: its seed file names a LinkedIn export, which a Scrapyd server "
            "cannot read: run this sync locally"
        )
    if len(sync.seed_text().encode()) > MAX_SEEDS_BYTES:
        raise SyncError(
            f"sync {sync.name}: the seed file is over {MAX_SEEDS_BYTES // 1000} kB, too big for "
            "a Scrapyd job argument: split it, or run this sync locally"
        )


class SyncStore:
    """The `syncs` collection, and the crawl runs that name a sync."""

    def __init__(self, mongo: MongoStore) -> None:
        self.mongo = mongo
        self.collection = mongo.db[COLLECTION]

    def add(self, sync: Sync) -> None:
        try:
            self.collection.insert_one(sync.record())
        except DuplicateKeyError:
            raise SyncError(f"a sync named {sync.name!r} exists already") from None

    def get(self, name: str) -> Sync | None:
        record = self.collection.find_one({"_id": name})
        return Sync.from_record(record) if record else None

    def require(self, name: str) -> Sync:
        sync = self.get(name)
        if sync is None:
            raise SyncError(f"no sync named {name!r} (see `twin sync list`)")
        return sync

    def all(self) -> list[Sync]:
        return [Sync.from_record(r) for r in self.collection.find().sort("_id", 1)]

    def remove(self, name: str) -> bool:
        return self.collection.delete_one({"_id": name}).deleted_count == 1

    def update(self, name: str, **values: Any) -> None:
        """Set fields. Not a date at the top level: nx-27017 stores a `$set` top-level
        datetime as a string (in a sub-document it stays a date), hence `set_next_run`."""
        self.collection.update_one({"_id": name}, {"$set": values})

    def set_next_run(self, name: str, when: datetime | None) -> None:
        self.collection.update_one({"_id": name}, {"$set": {"next_run": {"at": when}}})

    def claim(self, name: str, owner: dict[str, Any]) -> bool:
        """Mark the sync running, unless a live process runs it already (the scheduler of
        `twin serve` and `twin sync run` never crawl the same sync at once)."""
        if self.collection.update_one(
            {"_id": name, "running": None}, {"$set": {"running": owner}}
        ).modified_count:
            return True
        current = self.get(name)
        if current is None:
            return False
        if current.running and _alive(current.running):
            return False
        result = self.collection.update_one(
            {"_id": name, "running.token": (current.running or {}).get("token")},
            {"$set": {"running": owner}},
        )
        return bool(result.modified_count)

    def release(self, name: str, token: str) -> None:
        self.collection.update_one(
            {"_id": name, "running.token": token}, {"$set": {"running": None}}
        )

    def last_crawl_run(self, name: str) -> dict[str, Any] | None:
        """The latest crawl report of this sync's runs (local or on Scrapyd)."""
        runs = self.mongo.db.crawl_runs.find({"sync_id": name}).sort("started_at", -1).limit(1)
        return next(iter(runs), None)


def _alive(owner: dict[str, Any]) -> bool:
    """Whether the process that claimed a sync still runs (only knowable on its host)."""
    if owner.get("host") != socket.gethostname():
        started = owner.get("since")
        return bool(started and datetime.now(UTC) - started < timedelta(hours=24))
    try:
        os.kill(int(owner.get("pid", 0)), 0)
    except (OSError, ValueError):
        return False
    return True


def child_environment(config: StoreConfig) -> dict[str, str]:
    """The environment of a sync's crawl process: this one's (TWIN_ALLOW_PRIVATE and the
    other switches pass through), with the stores pinned to the ones this process uses."""
    return {
        **os.environ,
        "SCRAPY_SETTINGS_MODULE": "twin_scraper.settings",
        "TWIN_DATA_DIR": str(config.data_dir),
        "MONGODB_URI": config.mongo_uri,
        "TWIN_MONGO_DATABASE": config.mongo_database,
        "QDRANT_URL": config.qdrant_url,
        "TWIN_QDRANT_PATH": str(config.qdrant_path),
        "TWIN_QDRANT_COLLECTION": config.qdrant_collection,
        "TWIN_MODEL_DIR": str(config.model_dir),
    }


class SyncRunner:
    """Runs a sync once: a `scrapy crawl seeds` process on this machine (its output in a
    log file under `$TWIN_DATA_DIR/syncs/logs/`), or a `seeds` job on Scrapyd."""

    def __init__(
        self,
        store: SyncStore,
        config: StoreConfig,
        settings: BaseSettings,
        child_env: dict[str, str] | None = None,
    ) -> None:
        self.store = store
        self.child_env = child_env or {}
        self.config = config
        self.settings = settings
        self.logs = config.data_dir / "syncs" / "logs"
        self._processes: dict[str, subprocess.Popen] = {}
        self._lock = threading.Lock()
        self.stopping = False

    def running(self) -> set[str]:
        with self._lock:
            return set(self._processes)

    def run(self, name: str, echo: TextIO | None = None) -> dict[str, Any]:
        """Run the sync now and record how it went in its `last_run`; returns that."""
        sync = self.store.require(name)
        token = f"{os.getpid()}-{threading.get_ident()}-{datetime.now(UTC).timestamp()}"
        owner = {
            "token": token,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": datetime.now(UTC),
        }
        if not self.store.claim(name, owner):
            raise SyncError(f"sync {name} is running already")
        try:
            try:
                batch = sync.batch()
            except (SeedFileError, OSError) as exc:
                last = {"started_at": datetime.now(UTC), "runner": sync.runner, "error": str(exc)}
            else:
                if sync.runner == "scrapyd":
                    last = self._run_scrapyd(sync, batch)
                else:
                    last = self._run_local(sync, echo)
            self.store.update(name, last_run=last)
            return last
        finally:
            self.store.release(name, token)

    def _run_local(self, sync: Sync, echo: TextIO | None) -> dict[str, Any]:
        started = datetime.now(UTC)
        private_dir(self.config.data_dir)  # the crawl runs there; its log is kept there
        directory = self.logs / sync.name
        directory.mkdir(parents=True, exist_ok=True)
        log = directory / f"{started:%Y%m%dT%H%M%S}.log"
        source = f"file={sync.seed_file}" if sync.seed_file else f"yaml={sync.seed_text()}"
        command = [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            "seeds",
            "-a",
            source,
            "-s",
            f"TWIN_SYNC_ID={sync.name}",
        ]
        logger.info("Sync %s: crawling %s (log: %s)", sync.name, sync.source, log)
        with open(log, "w", encoding="utf-8") as handle:
            process = subprocess.Popen(
                command,
                cwd=self.config.data_dir,
                env=child_environment(self.config) | self.child_env,
                stdin=subprocess.DEVNULL,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C of `twin serve` is not the crawl's
            )
            with self._lock:
                self._processes[sync.name] = process
            try:
                code = self._wait(process, echo, log)
            finally:
                with self._lock:
                    self._processes.pop(sync.name, None)
        self._prune_logs(directory)
        run = self._crawl_run(sync.name, started)
        last: dict[str, Any] = {
            "started_at": started,
            "finished_at": datetime.now(UTC),
            "runner": "local",
            "exit_code": code,
            "log": str(log),
            "run_id": run["_id"] if run else None,
            "finish_reason": run.get("finish_reason") if run else None,
        }
        if code != 0 and not run:
            last["error"] = _last_line(log) or f"the crawl exited with code {code}"
        return last

    def _wait(self, process: subprocess.Popen, echo: TextIO | None, log: Path) -> int:
        """Wait for the crawl (echoing its log when asked); one over SYNC_MAX_SECONDS is
        stopped like Ctrl-C (its report says `shutdown`), then killed if it hangs."""
        limit = self.settings.getfloat("SYNC_MAX_SECONDS")
        deadline = datetime.now(UTC) + timedelta(seconds=limit)
        with contextlib.ExitStack() as stack:
            reader = stack.enter_context(open(log, encoding="utf-8", errors="replace"))
            while True:
                try:
                    code = process.wait(timeout=0.5)
                except subprocess.TimeoutExpired:
                    code = None
                except KeyboardInterrupt:  # Ctrl-C of `twin sync run`: stop the crawl too
                    code = _stop(process)
                if echo is not None:
                    echo.write(reader.read())
                    echo.flush()
                if code is not None:
                    return code
                if self.stopping:  # the server is shutting down
                    return _stop(process)
                if datetime.now(UTC) > deadline:
                    logger.warning("Sync crawl ran over %.0f s: stopping it", limit)
                    return _stop(process)

    def _run_scrapyd(self, sync: Sync, batch: SeedBatch) -> dict[str, Any]:
        started = datetime.now(UTC)
        last: dict[str, Any] = {"started_at": started, "runner": "scrapyd"}
        try:
            check_for_scrapyd(sync, batch)
            api = ScrapydApi(
                self.settings.get("SCRAPYD_URL"),
                self.settings.get("SCRAPYD_USERNAME"),
                self.settings.get("SCRAPYD_PASSWORD"),
            )
            job = api.schedule(
                self.settings.get("SCRAPYD_PROJECT"),
                "seeds",
                {"yaml": sync.seed_text()},
                {"TWIN_SYNC_ID": sync.name},
            )
        except (ScrapydError, SyncError) as exc:
            return last | {"error": str(exc)}
        logger.info("Sync %s: scheduled job %s on %s", sync.name, job, api.where)
        return last | {"job": job, "scrapyd": api.where}

    def _crawl_run(self, name: str, started: datetime) -> dict[str, Any] | None:
        run = self.store.last_crawl_run(name)
        if run and run["started_at"] >= started - timedelta(seconds=1):
            return run
        return None

    def _prune_logs(self, directory: Path) -> None:
        keep = self.settings.getint("SYNC_LOGS_KEPT")
        for old in sorted(directory.glob("*.log"))[:-keep]:
            old.unlink(missing_ok=True)

    def stop_all(self) -> None:
        """Stop the crawls under way, and any about to start (the server is shutting
        down): each run's wait sends its crawl one SIGINT, Scrapy's graceful stop (a
        second one would force an unclean stop)."""
        self.stopping = True


def _stop(process: subprocess.Popen) -> int:
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGINT)  # Scrapy's graceful stop
    try:
        return process.wait(timeout=STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def _last_line(path: Path) -> str:
    try:
        lines = [line.strip() for line in path.read_text(errors="replace").splitlines()]
    except OSError:
        return ""
    return next((line for line in reversed(lines) if line), "")[:500]


@contextlib.contextmanager
def scheduler_lock(data_dir: Path) -> Iterator[bool]:
    """Held by the one process that runs the syncs of a data directory; yields False if
    another one holds it (a second `twin serve` shows the syncs, the first runs them)."""
    private_dir(data_dir)
    with open(data_dir / "syncs.lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class SyncScheduler:
    """The stored syncs, on APScheduler: each active sync a job with its period's trigger,
    run one at a time (local Qdrant admits one writer, and the machine has few cores).
    The stored syncs are read again every few seconds, so `twin sync add|remove|pause`
    from another terminal take effect; a run missed while no scheduler ran happens once
    at start."""

    def __init__(self, store: SyncStore, runner: SyncRunner, timezone: tzinfo) -> None:
        self.store = store
        self.runner = runner
        self.timezone = timezone
        self.scheduler = BackgroundScheduler(
            executors={"syncs": ThreadPoolExecutor(1), "default": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=timezone,
        )
        self._known: dict[str, tuple[Any, ...]] = {}
        self._queued: set[str] = set()
        self._lock = threading.Lock()
        self._closing = False
        self._active = 0
        self._idle = threading.Condition()

    def start(self) -> None:
        self.scheduler.start()
        self.reconcile(startup=True)
        self.scheduler.add_job(
            self.reconcile, "interval", seconds=RECONCILE_SECONDS, id="reconcile"
        )

    def shutdown(self) -> None:
        """Stop the crawls under way (gracefully), wait for their runs to be recorded, then
        stop APScheduler. Its own shutdown waits for running jobs while holding the lock
        every job call needs, so our jobs are finished first and none starts again."""
        self._closing = True
        self.scheduler.pause()
        self.runner.stop_all()
        with self._idle:
            self._idle.wait_for(lambda: self._active == 0, timeout=STOP_GRACE_SECONDS + 30)
        self.scheduler.shutdown(wait=False)

    @contextlib.contextmanager
    def _busy(self) -> Iterator[bool]:
        """Counts work under way; yields False once shutting down (then do nothing)."""
        with self._idle:
            if self._closing:
                yield False
                return
            self._active += 1
        try:
            yield True
        finally:
            with self._idle:
                self._active -= 1
                self._idle.notify_all()

    def reconcile(self, startup: bool = False) -> None:
        """Make the scheduler's jobs the stored syncs, and store each one's next run."""
        with self._busy() as working, self._lock:
            if working:
                self._reconcile(startup)

    def _reconcile(self, startup: bool) -> None:
        now = datetime.now(self.timezone)
        syncs = {s.name: s for s in self.store.all()}
        for name in list(self._known):
            if name not in syncs:
                self._remove_job(name)
        for name, sync in syncs.items():
            key = (sync.period, sync.paused, sync.runner, sync.seed_file, sync.url)
            if sync.paused:
                self._remove_job(name)
                self._known[name] = key
            elif self._known.get(name) != key or self.scheduler.get_job(name) is None:
                missed = startup and sync.next_run_at is not None and sync.next_run_at < now
                options = {"next_run_time": now} if missed else {}
                self.scheduler.add_job(
                    self._run,
                    parse_period(sync.period, self.timezone),
                    args=[name],
                    id=name,
                    executor="syncs",
                    replace_existing=True,
                    **options,
                )
                self._known[name] = key
            job = self.scheduler.get_job(name)
            next_run = job.next_run_time if job else None
            if not _same_time(next_run, sync.next_run_at):
                self.store.set_next_run(name, next_run)

    def _remove_job(self, name: str) -> None:
        self._known.pop(name, None)
        if self.scheduler.get_job(name):
            self.scheduler.remove_job(name)

    def run_now(self, name: str) -> None:
        """Queue a run of the sync (paused or not) behind any run under way."""
        self.store.require(name)
        self._queued.add(name)
        self.scheduler.add_job(
            self._run,
            "date",
            run_date=datetime.now(self.timezone),
            args=[name, True],
            id=f"now:{name}",
            executor="syncs",
            replace_existing=True,
        )

    def queued(self) -> set[str]:
        """Syncs asked to run now that have not started yet."""
        return set(self._queued)

    def _run(self, name: str, asked: bool = False) -> None:
        if asked:
            self._queued.discard(name)
        with self._busy() as working:
            if not working:
                return
            sync = self.store.get(name)
            if sync is None or (sync.paused and not asked):
                return
            try:
                last = self.runner.run(name)
            except SyncError as exc:  # running already (from `twin sync run`): next time then
                logger.warning("%s", exc)
                return
            except Exception:
                logger.exception("Sync %s failed", name)
                return
            if last.get("error"):
                logger.warning("Sync %s: %s", name, last["error"])
        self.reconcile()


def _same_time(a: datetime | None, b: datetime | None) -> bool:
    """Equal to the millisecond, as MongoDB stores dates."""
    if a is None or b is None:
        return a is b
    return abs(a - b) < timedelta(milliseconds=1)
