"""What the console's browser tests share: Debian's headless Chromium (`/usr/bin/chromium`, driven by Playwright),
signing in through the form, and a data dir with two accounts and a two-document knowledge base."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from playwright.async_api import Page

from bot.adapters.accounts import Role, UserStore
from bot.config import load_settings
from bot.services import open_services
from ingest.loaders import LoadOptions
from ingest.pipeline import Ingestor

PASSWORDS = {"eva": "eva-haar-wachtwoord", "omar": "omar-zijn-wachtwoord"}
DOCS = {
    "mia.md": "---\ntitle: De Maatschappelijke Impact Afweging\nkind: mia\n---\n# MIA\n\n"
    "De Maatschappelijke Impact Afweging helpt gemeenten de gevolgen van onrust voor de samenleving te wegen.\n",
    "draaiboek.md": "---\ntitle: Intern draaiboek OMO\naccess: omo-intern\n---\n# Draaiboek\n\n"
    "Het OMO-team belt de burgemeester binnen een uur na een melding met spoed.\n",
}
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


async def sign_in(page: Page, url: str, name: str, password: str) -> None:
    """Sign in through the console's form at `url` (the server's root)."""
    await page.goto(f"{url}/console/login")
    await page.get_by_label("Naam").fill(name)
    await page.get_by_label("Wachtwoord").fill(password)
    await page.get_by_role("button", name="Aanmelden").click()


async def prepare(data: Path) -> None:
    """Accounts and the knowledge base, before the server starts (as an operator would)."""
    settings = load_settings(environ={}, data_dir=data)
    folder = data / "kennis"
    folder.mkdir()
    for name, text in DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")
    async with open_services(settings) as services:
        for name, password in PASSWORDS.items():
            role = Role.EDITOR if name == "eva" else Role.OMO
            await UserStore(services.engine).add(name, role, password, datetime.now(UTC))
        ingestor = Ingestor(services.store, services.embeddings, services.ingest_log, settings.ingest)
        report = await ingestor.run([str(folder)], options=LoadOptions())
        assert report.added == 2, report.failed
