"""Fixtures of the console's browser tests: one Chromium per test module (`browser`), a fresh tab per test (`page`)."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator

import pytest_asyncio
from playwright.async_api import BrowserContext, Page, async_playwright

from tests.bot.console.browser import CHROMIUM, CHROMIUM_ARGS


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[BrowserContext]:
    async with async_playwright() as pw:
        with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
            context = await pw.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            try:
                yield context
            finally:
                await context.close()


@pytest_asyncio.fixture(loop_scope="module")
async def page(browser: BrowserContext) -> AsyncIterator[Page]:
    await browser.clear_cookies()
    tab = await browser.new_page()
    try:
        yield tab
    finally:
        await tab.close()
