"""Scrapyd components named in scrapyd.conf: scheduling never answers "ok" for a job that
cannot start.

Scrapyd puts every spider argument and setting of a job on its command line. Linux refuses
one argument over 128 KiB (MAX_ARG_STRLEN) and a command line with its environment over
ARG_MAX, and Scrapyd 1.6 then loses the job without a word and one of its `max_proc`
slots until it is restarted. So, in a Scrapyd started by `twin scrapyd`:

- a seed file sent as `yaml=` (curl's `--data-urlencode yaml@FILE`, `twin schedule`) is
  kept in `seeds/<project>/<job>.yaml` under Scrapyd's directory, readable by its owner
  only, and the job reads it from there (`file=`); it is removed when the job ends;
- any other argument or setting too long for a command line is refused at once, by name;
- a job id that is not a plain name is refused (Scrapyd would fail making its log's path);
- a job that still cannot start is logged, listed as finished, its log says why, and its
  slot is free again.
"""

from __future__ import annotations

import datetime
import os
import re
import uuid
from pathlib import Path
from typing import Any

from scrapyd import launcher, webservice
from scrapyd.launcher import ScrapyProcessProtocol
from twisted.logger import Logger
from twisted.web import error, http

log = Logger()

#: Linux's limit on one command-line argument (MAX_ARG_STRLEN), its final NUL included.
MAX_ARGUMENT_BYTES = 128 * 1024
#: Largest seed file a job is given (about 100,000 links).
MAX_SEEDS_BYTES = 10 * 1024 * 1024
#: Under Scrapyd's directory (its working directory, and its jobs').
SEEDS_DIR = Path("seeds")
JOB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
#: Schedule's own parameters: the others are spider arguments.
SCHEDULE_PARAMETERS = {b"project", b"spider", b"_version", b"jobid", b"priority", b"setting"}


def seeds_path(project: str, job: str) -> Path:
    return SEEDS_DIR / project / f"{job}.yaml"


def forget_seeds(project: str, job: str) -> None:
    """Remove a job's kept seed file (job ids from before this Scrapyd may be anything)."""
    if JOB_ID.fullmatch(job) and "/" not in project:
        seeds_path(project, job).unlink(missing_ok=True)


def _refuse(message: str) -> error.Error:
    """Scrapyd answers this as {"status": "error", "message": ...}."""
    return error.Error(code=http.OK, message=message.encode())


def _first(args: dict[bytes, list[bytes]], name: bytes) -> str | None:
    values = args.get(name)
    return values[0].decode(errors="replace") if values else None


def check_command_line(args: dict[bytes, list[bytes]]) -> None:
    """Refuse what would not fit on the job's command line, naming it."""
    pieces: list[tuple[str, int]] = []  # (what, bytes on the command line)
    for name, values in args.items():
        if name == b"setting":
            for value in values:
                setting = value.decode(errors="replace").partition("=")[0]
                pieces.append((f"setting {setting}", len(value) + 1))
        elif name not in SCHEDULE_PARAMETERS:
            pieces.append(
                (f"argument {name.decode(errors='replace')}", len(name) + len(values[0]) + 2)
            )
    for what, size in pieces:
        if size > MAX_ARGUMENT_BYTES:
            raise _refuse(
                f"{what} is {size:,} bytes: a job's command line takes at most "
                f"{MAX_ARGUMENT_BYTES:,} bytes per argument; give a long list of links as a "
                "seed file (spider=seeds, yaml=FILE's content)"
            )
    environment = sum(len(k) + len(v) + 2 + 8 for k, v in os.environb.items())
    room = os.sysconf("SC_ARG_MAX") - environment - 64 * 1024  # the runner's own arguments
    total = sum(size + 8 for _, size in pieces)
    if total > room:
        raise _refuse(
            f"the job's arguments and settings come to {total:,} bytes, more than the "
            f"{room:,} its command line has room for; give the links as a seed file (yaml=)"
        )


class Schedule(webservice.Schedule):
    """schedule.json, with seed files kept on disk and command lines checked first."""

    def render_POST(self, txrequest: Any) -> dict[str, Any]:
        args: dict[bytes, list[bytes]] = txrequest.args
        job = _first(args, b"jobid")
        if job is None:
            job = uuid.uuid1().hex
            args[b"jobid"] = [job.encode()]
        elif not JOB_ID.fullmatch(job):
            raise _refuse(
                f"jobid {job[:120]!r}: a job id is letters, digits, '.', '_' and '-' "
                "(at most 100, starting with a letter or digit)"
            )
        project, spider = _first(args, b"project"), _first(args, b"spider")
        kept = None
        if spider == "seeds" and b"yaml" in args and project in self.root.poller.queues:
            if b"file" in args:
                raise _refuse("give either file= or yaml= (the seed file's content), not both")
            kept = self._keep_seeds(project, job, args.pop(b"yaml")[0])
            args[b"file"] = [str(kept).encode()]
        try:
            check_command_line(args)
            return super().render_POST(txrequest)
        except Exception:
            if kept:
                kept.unlink(missing_ok=True)
            raise

    def _keep_seeds(self, project: str, job: str, content: bytes) -> Path:
        if len(content) > MAX_SEEDS_BYTES:
            raise _refuse(
                f"the seed file is {len(content):,} bytes, over the {MAX_SEEDS_BYTES:,} a job "
                "takes: split it into several files"
            )
        directory = SEEDS_DIR / project
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._forget_finished(project, directory)
        path = seeds_path(project, job)
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        return path

    def _forget_finished(self, project: str, directory: Path) -> None:
        """Seed files of jobs cancelled before they ran (a job that ran removes its own)."""
        active = {m.get("_job") for m in self.root.poller.queues[project].list()}
        active |= {p.job for p in self.root.launcher.processes.values()}
        for path in directory.glob("*.yaml"):
            if path.stem not in active:
                path.unlink(missing_ok=True)


class Launcher(launcher.Launcher):
    """Scrapyd's launcher, which frees the slot of a job that cannot start and says why."""

    def _spawn_process(self, message: dict[str, Any], slot: int) -> None:
        try:
            super()._spawn_process(message, slot)
        except Exception as exc:  # Scrapyd would leave the slot taken and the job lost
            self._could_not_start(message, slot, exc)

    def _process_finished(self, result: Any, slot: int) -> None:
        process = self.processes.get(slot)
        super()._process_finished(result, slot)
        if process is not None:
            forget_seeds(process.project, process.job)

    def _could_not_start(self, message: dict[str, Any], slot: int, exc: Exception) -> None:
        project, spider, job = message["_project"], message["_spider"], message["_job"]
        reason = f"{type(exc).__name__}: {exc}"[:1000]
        log.error(
            "Job {job!r} of {project!r} ({spider!r}) could not start: {reason}",
            job=job,
            project=project,
            spider=spider,
            reason=reason,
        )
        log_file = message.get("settings", {}).get("LOG_FILE")
        if log_file:
            with open(log_file, "a", encoding="utf-8") as out:
                out.write(f"The job could not start: {reason}\n")
        process = ScrapyProcessProtocol(project, spider, job, env={}, args=[])
        process.end_time = datetime.datetime.now()
        self.finished.add(process)
        forget_seeds(project, job)
        self._get_message(slot)


class TwinStatus(webservice.WsResource):
    """twin.json: tells `twin schedule` that this Scrapyd keeps seed files on disk, and up
    to what size (another Scrapyd puts them on the job's command line)."""

    def render_GET(self, txrequest: Any) -> dict[str, Any]:
        return {"max_seeds_bytes": MAX_SEEDS_BYTES}
