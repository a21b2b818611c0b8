"""Two `onrust serve` processes on one Synapse and one PostgreSQL: one is SIGKILLed during a burst."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.adapters.db import create_engine, migrate
from tests.bot.serve_harness import DOCUMENT, describe, ingest, kill_mid_burst
from tests.conftest import Postgres
from tests.synapse import Synapse

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(240)]


async def test_an_instance_killed_mid_burst_loses_nothing_and_repeats_nothing(
    synapse: Synapse, postgres: Postgres, tmp_path: Path
) -> None:
    store, corpus = tmp_path / "store", tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(DOCUMENT, corpus)
    ingest(store, corpus)
    url = postgres.new_database()
    engine = create_engine(url)
    await migrate(engine)
    try:
        result = await kill_mid_burst(synapse, url, engine, store, tmp_path, takeover_s=3.0)
    finally:
        await engine.dispose()
    figures = describe(result)
    assert figures["claims_held_by_killed_instance"] > 0  # the kill did strand claims
    assert (figures["lost"], figures["answered_twice"]) == (0, 0), figures
    assert result.last_answer_after_kill_s < 35, figures
