"""The write-behind batch: batches form under load, a lone item is not kept waiting,
and a failed write reaches every item of its batch."""

from __future__ import annotations

import asyncio
import threading
import time

from scrapy.utils.defer import deferred_f_from_coro_f

from twin_scraper.pipelines.batching import BatchWriter


@deferred_f_from_coro_f
async def test_entries_gather_while_the_worker_is_busy() -> None:
    batches: list[list[int]] = []

    def write(batch: list[int]) -> int:
        assert threading.current_thread() is not threading.main_thread()
        time.sleep(0.05)
        batches.append(batch)
        return len(batch)

    writer: BatchWriter[int] = BatchWriter(write, batch_size=10, name="test")
    results = await asyncio.gather(*(writer.submit(i) for i in range(25)))
    await writer.close()
    assert sorted(x for batch in batches for x in batch) == list(range(25))
    assert max(len(b) for b in batches) == 10 and len(batches) <= 4
    assert results[0] == len(batches[0])


@deferred_f_from_coro_f
async def test_a_lone_entry_goes_at_once() -> None:
    batches: list[list[str]] = []
    writer: BatchWriter[str] = BatchWriter(batches.append, batch_size=50, name="test")
    await writer.submit("only")  # returns once written: nothing waits for company
    assert batches == [["only"]]
    await writer.submit("next")
    assert batches == [["only"], ["next"]]
    await writer.close()


@deferred_f_from_coro_f
async def test_a_failed_write_fails_every_entry_of_its_batch() -> None:
    def write(batch: list[int]) -> None:
        raise ConnectionError("store went away")

    writer: BatchWriter[int] = BatchWriter(write, batch_size=5, name="test")
    results = await asyncio.gather(*(writer.submit(i) for i in range(3)), return_exceptions=True)
    await writer.close()
    assert all(isinstance(r, ConnectionError) and "went away" in str(r) for r in results)
