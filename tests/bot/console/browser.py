"""Debian's headless Chromium (`/usr/bin/chromium`, driven by Playwright) for the console's browser tests."""

from __future__ import annotations

from playwright.async_api import Page

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
