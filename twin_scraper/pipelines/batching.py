"""A write-behind batch shared by the MongoDB and embedding pipelines.

Items wait (asynchronously) until their batch is written, so an item that leaves a
pipeline is really stored, and the engine slows down on its own when storage is the
bottleneck. The blocking client work runs on one worker thread, off the reactor.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class BatchWriter(Generic[T]):
    def __init__(
        self, write: Callable[[list[T]], Any], batch_size: int, max_wait: float, name: str
    ) -> None:
        self.write = write
        self.batch_size = batch_size
        self.max_wait = max_wait
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._pending: list[tuple[T, asyncio.Future[Any]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def submit(self, entry: T) -> Any:
        """Queue one entry; returns what `write` returned for its batch, or raises its error."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((entry, future))
        if len(self._pending) >= self.batch_size:
            self.flush()
        elif self._timer is None:
            self._timer = loop.call_later(self.max_wait, self.flush)
        return await future

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        task = asyncio.ensure_future(self._run(batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, batch: list[tuple[T, asyncio.Future[Any]]]) -> None:
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(self._executor, self.write, [e for e, _ in batch])
        except Exception as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
        else:
            for _, future in batch:
                if not future.done():
                    future.set_result(result)

    async def close(self) -> None:
        """Write what is left and wait for every batch in flight."""
        self.flush()
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        self._executor.shutdown(wait=True)
