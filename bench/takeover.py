"""How long after an instance is SIGKILLed mid-burst its questions are answered, at the default takeover.

Not a test (`tests/bot/test_serve_instances.py` runs the same scenario with a short takeover). Starts a
throw-away Synapse and PostgreSQL, two `onrust serve` processes on one database and one ingested
document, and a chat-completions stand-in that takes 2 s per answer (so claims are held at the kill).
Prints lost, answered twice, the claims the killed instance held and the last answer's delay after the
kill. Usage: `python bench/takeover.py [--takeover-s 30]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout: reuse the test harness

from bot.adapters.db import create_engine, migrate  # noqa: E402
from bot.config import StateSettings  # noqa: E402
from tests.bot.serve_harness import DOCUMENT, describe, ingest, kill_mid_burst  # noqa: E402
from tests.conftest import postgres_server  # noqa: E402
from tests.synapse import Synapse  # noqa: E402


async def run(takeover_s: float) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="onrust-takeover-"))
    (tmp / "corpus").mkdir()
    shutil.copy(DOCUMENT, tmp / "corpus")
    ingest(tmp / "store", tmp / "corpus")
    synapse = Synapse()
    synapse.start()
    try:
        with postgres_server() as pg:
            url = pg.new_database()
            engine = create_engine(url)
            await migrate(engine)
            try:
                result = await kill_mid_burst(synapse, url, engine, tmp / "store", tmp, takeover_s, start_timeout_s=600)
            finally:
                await engine.dispose()
    finally:
        synapse.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return {"claim_takeover_s": takeover_s, **describe(result)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--takeover-s", type=float, default=StateSettings().claim_takeover_s)
    print(json.dumps(asyncio.run(run(parser.parse_args().takeover_s)), indent=2))


if __name__ == "__main__":
    main()
