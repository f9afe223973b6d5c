"""A write-behind batch shared by the MongoDB and embedding pipelines.

Items wait (asynchronously) until their batch is written, so an item that leaves a
pipeline is really stored, and the engine slows down on its own when storage is the
bottleneck. Batches form by themselves: while one is being written, new entries gather
and go together as soon as the worker is free (or the batch is full), so a lone item is
never kept waiting for company. The blocking client work runs on one worker thread, off
the reactor.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class BatchWriter(Generic[T]):
    def __init__(self, write: Callable[[list[T]], Any], batch_size: int, name: str) -> None:
        self.write = write
        self.batch_size = batch_size
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._pending: list[tuple[T, asyncio.Future[Any]]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._flush_scheduled = False

    async def submit(self, entry: T) -> Any:
        """Queue one entry; returns what `write` returned for its batch, or raises its error."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((entry, future))
        if len(self._pending) >= self.batch_size:
            self.flush()
        elif not self._tasks and not self._flush_scheduled:
            # Idle worker: go at the next loop turn, with whatever arrived meanwhile.
            self._flush_scheduled = True
            loop.call_soon(self.flush)
        return await future

    def flush(self) -> None:
        self._flush_scheduled = False
        while self._pending:
            batch, self._pending = (
                self._pending[: self.batch_size],
                self._pending[self.batch_size :],
            )
            task = asyncio.ensure_future(self._run(batch))
            self._tasks.add(task)
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if self._pending and not self._tasks:
            self.flush()

    async def _run(self, batch: list[tuple[T, asyncio.Future[Any]]]) -> None:
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(self._executor, self.write, [e for e, _ in batch])
        except Exception as exc:  # handed to every waiting item
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
