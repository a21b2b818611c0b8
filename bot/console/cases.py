"""Console pages for the OMO team: the case list (filter, sort) and one case with claim, answer and close.

Changes go through `EscalationService.apply`, the same path as the team's `pak`/`antwoord`/`sluit`
commands: the case, its audit row and its outbox messages (the answer to the official, the notice in
the OMO room) are written in one transaction, and the outbox delivers them.
"""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from bot.adapters.accounts import Role
from bot.adapters.cases import SqlCaseStore
from bot.console.web import CONSOLE, allow, page, session_of
from bot.core.clock import utc
from bot.core.escalation import URGENCIES, Answer, Case, CaseEvent, CaseState, Claim, Close, TransitionError, parse_ref
from bot.core.escalation_ports import CaseNotFound

__all__ = ["routes"]

_SORTS = {
    "oudste": (lambda c: c.created_at, False),
    "nieuwste": (lambda c: c.created_at, True),
    "gemeente": (lambda c: c.request.municipality.lower(), False),
    "urgentie": (lambda c: (URGENCIES.index(c.request.urgency), c.created_at), False),
}
_STATES = {"open": (CaseState.NEW, CaseState.CLAIMED), "gesloten": (CaseState.CLOSED,), "alle": tuple(CaseState)}

routes = web.RouteTableDef()


def _store(request: web.Request) -> SqlCaseStore:
    return SqlCaseStore(request.app[CONSOLE].services.engine)


@routes.get("/cases")
@allow(Role.OMO)
async def case_list(request: web.Request) -> web.StreamResponse:
    query = request.query
    state = query.get("status", "open") if query.get("status") in _STATES else "open"
    sort = query.get("sort", "oudste") if query.get("sort") in _SORTS else "oudste"
    urgency = query.get("urgentie", "") if query.get("urgentie") in URGENCIES else ""
    municipality = query.get("gemeente", "").strip()
    cases: list[Case] = [
        c
        for c in await _store(request).list_cases(open_only=False)
        if c.state in _STATES[state]
        and (not urgency or c.request.urgency == urgency)
        and municipality.lower() in c.request.municipality.lower()
    ]
    key, reverse = _SORTS[sort]
    cases.sort(key=key, reverse=reverse)
    filters = {"status": state, "sort": sort, "urgentie": urgency, "gemeente": municipality}
    return page(request, "cases.html.j2", cases=cases, filters=filters, sorts=list(_SORTS))


@routes.get("/cases/{ref}")
@allow(Role.OMO)
async def case_page(request: web.Request) -> web.StreamResponse:
    ref = parse_ref(request.match_info["ref"])
    case = await _store(request).get(ref) if ref else None
    if ref is None or case is None:
        return page(request, "error.html.j2", status=404, error="not_found")
    audit = await _store(request).audit(ref)
    limit = request.app[CONSOLE].services.settings.answer.max_question_chars
    return page(request, "case.html.j2", case=case, audit=audit, notice=request.query.get("melding"), limit=limit)


@routes.post("/cases/{ref}/{action:claim|answer|close}")
@allow(Role.OMO)
async def case_action(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    ref = parse_ref(request.match_info["ref"])
    if ref is None:
        return page(request, "error.html.j2", status=404, error="not_found")
    action = request.match_info["action"]
    text = str((await request.post()).get("text", "")).strip()
    user, now = session_of(request).user, utc()
    actor = f"console:{user.name}"
    limit = console.services.settings.answer.max_question_chars
    event: CaseEvent
    if action == "claim":
        event = Claim(actor, user.name, now)
    elif action == "answer":
        if not text or len(text) > limit:
            return _back(ref, "empty_text" if not text else "too_long")
        event = Answer(actor, user.name, now, text)
    else:
        event = Close(actor, user.name, now, text[:limit] or None)
    try:
        await console.escalation.apply(ref, event)
    except CaseNotFound:
        return page(request, "error.html.j2", status=404, error="not_found")
    except TransitionError as exc:
        return _back(ref, exc.reason)
    await console.record(request, f"case_{action}", target=ref)
    return _back(ref, action)


def _back(ref: str, notice: str) -> web.StreamResponse:
    raise web.HTTPSeeOther(f"/console/cases/{ref}?{urlencode({'melding': notice})}")
