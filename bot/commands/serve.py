"""`onrust serve`: run every configured channel (Matrix sync, later Teams) and `/healthz` in one server."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.commands import Subcommands
    from bot.config import Settings

__all__ = ["register", "run_serve"]

log = logging.getLogger(__name__)


def register(sub: Subcommands) -> None:
    serve = sub.add_parser(
        "serve",
        help="start every configured channel",
        description="Run the bot: Matrix sync (if matrix.homeserver is set), the Teams endpoint (if enabled) "
        "GET /healthz (liveness) and GET /readyz (database, store and channels), until interrupted.",
    )
    serve.add_argument("--host", help="address to listen on (default: teams.host)")
    serve.add_argument("--port", type=int, help="port to listen on (default: teams.port)")
    serve.set_defaults(handler=run_serve)


async def run_serve(args: argparse.Namespace, settings: Settings) -> int:
    # Imported here, not at the top: `onrust --help` reads this module, and the app loads every chat SDK.
    from aiohttp import web

    from bot.app import build_app

    host = args.host or settings.teams.host
    port = settings.teams.port if args.port is None else args.port
    runner = web.AppRunner(build_app(settings))
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        log.info("listening on http://%s:%d (GET /healthz, /readyz)", host, port)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        log.info("stopping")
    finally:
        await runner.cleanup()
    return 0
