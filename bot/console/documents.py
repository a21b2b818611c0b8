"""Console page for editors: every document in the knowledge base, adding one (a file or a URL), removing one.

An upload is written to a private folder under the data dir and ingested through `ingest`'s own
`Ingestor` (the same loaders, chunking, embedding and ingest log as `onrust ingest`), then deleted:
the knowledge base holds the text from then on. A URL is fetched by that same pipeline. `omo-intern`
documents are listed, added and removed only by the omo and admin roles.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import BodyPartReader, web

from bot.adapters.accounts import Role
from bot.adapters.chroma import StoredDocument
from bot.adapters.console_store import DocumentStats
from bot.console.web import CONSOLE, Console, allow, multipart_rest, page, session_of
from bot.core.clock import utc
from bot.core.models import Access, DocId, IngestAction, IngestEvent
from ingest.loaders import SUPPORTED_SUFFIXES, LoadOptions
from ingest.pipeline import Ingestor, IngestReport

__all__ = ["routes"]

UPLOAD_SUFFIXES = frozenset({".md", ".markdown", ".pdf", ".docx", ".html", ".htm", ".txt"}) & SUPPORTED_SUFFIXES
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_URL_CHARS = 2000

routes = web.RouteTableDef()


def _visible(request: web.Request) -> frozenset[Access]:
    role = session_of(request).user.role
    return frozenset({Access.OPENBAAR}) if role is Role.EDITOR else frozenset(Access)


async def _documents(console: Console, access: frozenset[Access]) -> list[StoredDocument]:
    async with asyncio.timeout(console.services.settings.store.timeout_s):
        docs = await asyncio.to_thread(console.services.store.documents)
    return sorted((d for d in docs.values() if d.info.access in access), key=lambda d: d.info.title.lower())


async def _listing(
    request: web.Request, *, status: int = 200, report: IngestReport | None = None, error: str | None = None
) -> web.Response:
    console = request.app[CONSOLE]
    access = _visible(request)
    docs = await _documents(console, access)
    stats = DocumentStats(console.services.engine)
    votes, ingested = await stats.votes(), await stats.last_ingests()
    return page(
        request,
        "documents.html.j2",
        status=status,
        documents=docs,
        votes=votes,
        ingested=ingested,
        access_choices=sorted(a.value for a in access),
        suffixes=sorted(UPLOAD_SUFFIXES),
        report=report,
        error=error,
        notice=request.query.get("melding"),
    )


@routes.get("/documents")
@allow(Role.EDITOR, Role.OMO)
async def document_list(request: web.Request) -> web.StreamResponse:
    return await _listing(request)


async def _save_upload(reader_part: BodyPartReader, folder: Path, max_bytes: int) -> Path | None:
    """The uploaded file under `folder`, or None when it is larger than `max_bytes`."""
    name = _SAFE_NAME.sub("-", Path(reader_part.filename or "upload").name).strip("-.") or "upload"
    target = folder / name
    size = 0
    with target.open("wb") as out:
        while chunk := await reader_part.read_chunk():
            size += len(chunk)
            if size > max_bytes:
                return None
            out.write(chunk)
    return target


@routes.post("/documents")
@allow(Role.EDITOR, Role.OMO)
async def document_upload(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    services = console.services
    access, upload = Access.OPENBAAR, None
    reader = multipart_rest(request)
    services.settings.data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=services.settings.data_dir, prefix="upload-") as folder:
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "access":
                value = (await part.text()).strip()
                if value not in {a.value for a in Access}:
                    return await _listing(request, status=400, error="access")
                access = Access(value)
            elif part.name == "file" and part.filename:
                upload = await _save_upload(part, Path(folder), console.settings.max_upload_bytes)
                if upload is None:
                    return await _listing(request, status=413, error="too_large")
        if upload is None:
            return await _listing(request, status=400, error="no_file")
        if upload.suffix.lower() not in UPLOAD_SUFFIXES:
            return await _listing(request, status=400, error="file_type")
        return await _ingest(request, str(upload), upload.name, access)


@routes.post("/documents/url")
@allow(Role.EDITOR, Role.OMO)
async def document_url(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    url = str(form.get("url", "")).strip()
    access = str(form.get("access", Access.OPENBAAR.value))
    if access not in {a.value for a in Access}:
        return await _listing(request, status=400, error="access")
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname or len(url) > _MAX_URL_CHARS:
        return await _listing(request, status=400, error="url")
    return await _ingest(request, url, url, Access(access))


async def _ingest(request: web.Request, target: str, name: str, access: Access) -> web.StreamResponse:
    """Ingest one file or URL through the pipeline `onrust ingest` uses, and show the result."""
    console = request.app[CONSOLE]
    services = console.services
    if access not in _visible(request):
        return await _listing(request, status=403, error="access")
    ingestor = Ingestor(services.store, services.embeddings, services.ingest_log, services.settings.ingest)
    report = await ingestor.run([target], options=LoadOptions(access=access), prune=False)
    await console.record(request, "document_upload", target=name, detail=report.summary())
    return await _listing(request, status=200 if not report.failed else 422, report=report)


@routes.post("/documents/remove")
@allow(Role.EDITOR, Role.OMO)
async def document_remove(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    services = console.services
    doc_id = DocId(str((await request.post()).get("doc_id", "")))
    async with asyncio.timeout(services.settings.store.timeout_s):  # that document's first chunk, not the list
        info = (await asyncio.to_thread(services.store.document_infos, [doc_id])).get(doc_id)
    if info is None or info.access not in _visible(request):
        return page(request, "error.html.j2", status=404, error="not_found")
    await asyncio.to_thread(services.store.delete_document, doc_id)
    await asyncio.to_thread(services.store.bump_generation)
    event = IngestEvent(
        run_id=uuid.uuid4().hex,
        at=utc(),
        action=IngestAction.REMOVED,
        doc_id=doc_id,
        title=info.title,
        url=info.url,
        access=info.access,
        detail="removed in the console",
    )
    await services.ingest_log.append([event])
    await console.record(request, "document_remove", target=doc_id)
    raise web.HTTPSeeOther("/console/documents?melding=removed")
