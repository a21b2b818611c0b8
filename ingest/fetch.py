"""Download one URL for ingestion, with a total timeout and a hard cap on the body size."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp

from bot.config import IngestSettings
from bot.errors import IngestError

__all__ = ["Fetched", "fetch"]

_CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Fetched:
    """A successful response: the body and the media type and charset from `Content-Type` (lower case)."""

    url: str
    body: bytes
    content_type: str | None
    charset: str | None


async def fetch(url: str, session: aiohttp.ClientSession, settings: IngestSettings) -> Fetched:
    """GET `url` (redirects followed) within `settings.url_timeout_s` seconds for the whole exchange.

    The body is read in chunks and reading stops as soon as it passes `settings.url_max_bytes` bytes
    (a larger `Content-Length` fails before reading). Raises `IngestError(url, reason)` for a non-http(s)
    URL, a non-2xx status ("HTTP 404 Not Found"), a timeout ("timed out after 20 s"), a body that is too
    large or empty, and connection failures.
    """
    if urlsplit(url).scheme not in ("http", "https"):
        raise IngestError(url, "unsupported URL scheme (expected http or https)")
    try:
        async with asyncio.timeout(settings.url_timeout_s), session.get(url) as response:
            if not 200 <= response.status < 300:
                raise IngestError(url, f"HTTP {response.status} {response.reason or ''}".rstrip())
            body = await _read_capped(response, url, settings.url_max_bytes)
            # aiohttp reports application/octet-stream when the header is missing.
            content_type = response.content_type.lower() if "Content-Type" in response.headers else None
            charset = response.charset.lower() if response.charset else None
    except TimeoutError as exc:
        raise IngestError(url, f"timed out after {settings.url_timeout_s:g} s") from exc
    except aiohttp.ClientError as exc:
        raise IngestError(url, f"request failed: {exc}") from exc
    if not body.strip():
        raise IngestError(url, "response body is empty")
    return Fetched(url=url, body=body, content_type=content_type, charset=charset)


async def _read_capped(response: aiohttp.ClientResponse, url: str, max_bytes: int) -> bytes:
    too_large = f"response larger than {max_bytes} bytes"
    if response.content_length is not None and response.content_length > max_bytes:
        raise IngestError(url, too_large)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(_CHUNK_BYTES):
        size += len(chunk)
        if size > max_bytes:
            raise IngestError(url, too_large)
        chunks.append(chunk)
    return b"".join(chunks)
