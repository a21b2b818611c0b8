"""`Scheduler`: runs jobs at start and on their triggers, owns their tasks, logs failures by name, stops cleanly."""

from __future__ import annotations

import asyncio
import logging
from zoneinfo import ZoneInfo

import pytest

from bot.adapters.scheduler import Scheduler

pytestmark = pytest.mark.unit

AMS = ZoneInfo("Europe/Amsterdam")


async def test_runs_at_start_then_every_interval() -> None:
    runs: list[float] = []

    async def job() -> None:
        runs.append(asyncio.get_running_loop().time())

    scheduler = Scheduler(AMS)
    scheduler.every("tick", 0.2, job)
    scheduler.start()
    try:
        await asyncio.sleep(0.55)
    finally:
        await scheduler.stop()
    assert 2 <= len(runs) <= 4  # at start (catch-up), then every 0.2 s


async def test_failure_is_logged_with_the_job_name_and_the_schedule_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    calls = 0

    async def broken() -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("database away")

    scheduler = Scheduler(AMS)
    scheduler.every("digest", 0.1, broken)
    with caplog.at_level(logging.ERROR, logger="bot.adapters.scheduler"):
        scheduler.start()
        await asyncio.sleep(0.35)
        await scheduler.stop()
    assert calls >= 2
    assert any(r.getMessage() == "scheduled job digest failed" and r.exc_info for r in caplog.records)


async def test_stop_cancels_running_jobs_and_cancellation_propagates() -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def slow() -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    scheduler = Scheduler(AMS)
    scheduler.every("slow", 0.05, slow)
    scheduler.start()
    await asyncio.wait_for(started.wait(), 5)
    await asyncio.sleep(0.2)  # later turns come while it still runs: skipped, not stacked
    assert len(scheduler.tasks) == 1
    (task,) = scheduler.tasks
    await scheduler.stop()
    assert cancelled.is_set() and task.cancelled()
    assert not scheduler.tasks


async def test_names_are_unique_and_cron_jobs_need_no_start_run() -> None:
    runs: list[str] = []
    ran = asyncio.Event()

    async def job() -> None:
        runs.append("morning")

    async def other() -> None:
        runs.append("every")
        ran.set()

    scheduler = Scheduler(AMS)
    scheduler.cron("morning", job, hour=8, minute=30, day_of_week="mon-fri")
    with pytest.raises(ValueError):
        scheduler.every("morning", 60, job)
    scheduler.every("every", 3600, other)  # runs at start: shows that start runs what is due
    scheduler.start()
    await asyncio.wait_for(ran.wait(), 5)
    await asyncio.sleep(0.1)  # a start run of the cron job would have come by now
    await scheduler.stop()
    assert runs == ["every"]
