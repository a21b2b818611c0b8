"""The one scheduler of `onrust serve`: APScheduler's triggers, with the job runs owned here (after maubot's).

APScheduler (`AsyncIOScheduler`) only decides *when*: each trigger calls a launcher that starts the
job in a task this `Scheduler` keeps. So `stop()` cancels every running job and waits for it, a
job's `CancelledError` propagates (APScheduler would log it as a failure and swallow it), a failure
is logged with the job's name and never ends the schedule, and a job still running when its next
turn comes is not started twice. Times are aware, in the scheduler's time zone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

__all__ = ["Job", "Scheduler"]

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[object]]


class Scheduler:
    """Named jobs on triggers. Add jobs, then `start()` inside the running loop; `await stop()` at shutdown."""

    def __init__(self, timezone: ZoneInfo) -> None:
        self.timezone = timezone
        self._aps = AsyncIOScheduler(timezone=timezone)
        self._jobs: dict[str, Job] = {}
        self._running: dict[str, asyncio.Task[None]] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        """Every job run in progress (for tests and for `stop`)."""

    def every(self, name: str, seconds: float, job: Job, *, at_start: bool = True) -> None:
        """Run `job` every `seconds`; with `at_start` also right when the scheduler starts (catch-up)."""
        first = datetime.now(self.timezone) if at_start else None
        self._add(name, IntervalTrigger(seconds=seconds, timezone=self.timezone), job, first)

    def cron(self, name: str, job: Job, **fields: str | int) -> None:
        """Run `job` on a cron schedule in the scheduler's zone (`hour=8, minute=30, day_of_week="mon-fri"`)."""
        self._add(name, CronTrigger(timezone=self.timezone, **fields), job, None)

    def _add(self, name: str, trigger: BaseTrigger, job: Job, first: datetime | None) -> None:
        if name in self._jobs:
            raise ValueError(f"a job named {name!r} is scheduled already")
        self._jobs[name] = job
        extra = {"next_run_time": first} if first is not None else {}
        # misfire_grace_time=None: a late turn (a busy loop, a suspended laptop) still runs, once
        self._aps.add_job(
            self._launch, trigger, args=(name,), id=name, name=name, coalesce=True, misfire_grace_time=None, **extra
        )

    def start(self) -> None:
        """Start the triggers; must be called with the event loop running."""
        self._aps.start()
        log.info("scheduler started with jobs: %s", ", ".join(self._jobs) or "none")

    async def _launch(self, name: str) -> None:
        """Called by APScheduler: start the job in a task of ours and return at once."""
        self.run_now(name)

    def run_now(self, name: str) -> asyncio.Task[None] | None:
        """Start job `name` now unless it is still running; returns its task (None if skipped)."""
        if name in self._running:
            log.warning("job %s is still running; this turn is skipped", name)
            return None
        task = asyncio.create_task(self._run(name, self._jobs[name]), name=f"job:{name}")
        self._running[name] = task
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        task.add_done_callback(lambda _t: self._running.pop(name, None))
        return task

    async def _run(self, name: str, job: Job) -> None:
        try:
            await job()
        except asyncio.CancelledError:
            raise
        except Exception:  # boundary: a failing job is logged and runs again at its next turn
            log.exception("scheduled job %s failed", name)

    async def stop(self) -> None:
        """Stop the triggers, cancel every running job and wait for them to end."""
        if self._aps.running:
            self._aps.shutdown(wait=False)
        tasks = list(self.tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
