"""`scrub`, `split_message` and `render_digest`: personal data out, long digests split, never cut off."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot import prompts
from bot.core.digest import CaseLine, Digest, DocLine, GapLine
from bot.core.digest_text import render_digest, scrub, split_message

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mail jan.jansen@gemeente.nl over de demo", "Mail [e-mail] over de demo"),
        ("Bel 06-12345678 of 06 1234 5678", "Bel [telefoonnummer] of [telefoonnummer]"),
        ("Bel +31 6 12345678 of +31 (0)20 123 4567", "Bel [telefoonnummer] of [telefoonnummer]"),
        ("Bel 020-1234567 vandaag", "Bel [telefoonnummer] vandaag"),
        ("Vraag van @piet:gemeente.nl in de ruimte", "Vraag van [gebruiker] in de ruimte"),
        ("Teams-id 29:1a2B3c4D5e-FGH en 8:orgid:abcdef12", "Teams-id [gebruiker] en [gebruiker]"),
        ("AAD 0f3c7a3e-0000-4000-8000-000000000001 vroeg", "AAD [gebruiker] vroeg"),
        ("BSN 123456789 en dossier 2024001234", "BSN [nummer] en dossier [nummer]"),
        ("IBAN NL91ABNA0417164300", "IBAN [rekeningnummer]"),
        ("Zie https://x.nl/form?naam=Jan&tel=0612345678 nu", "Zie [link] nu"),
        ("Ik woon op 3511 AB 12 in Utrecht", "Ik woon op [adres] in Utrecht"),
        ("Adres 1234AB, 5a graag", "Adres [adres] graag"),
        ("Post naar 2511 CV nr. 7", "Post naar [adres]"),
        # what is not personal stays: plain links, dates, years, short numbers, postcodes of a place
        ("Zie https://vng.nl/agenda van 2024-05-01", "Zie https://vng.nl/agenda van 2024-05-01"),
        ("Artikel 172 Gemeentewet, 3 dagen, in 2026", "Artikel 172 Gemeentewet, 3 dagen, in 2026"),
        (
            "Demonstratie in 3511 AB vandaag, in 2026 in 3 wijken",
            "Demonstratie in 3511 AB vandaag, in 2026 in 3 wijken",
        ),
    ],
)
def test_scrub(text: str, expected: str) -> None:
    assert scrub(text) == expected


def test_scrub_is_idempotent() -> None:
    once = scrub("jan@x.nl 0612345678 @a:b.nl")
    assert scrub(once) == once


def test_split_keeps_short_text_whole() -> None:
    assert split_message("a\nb\n\nc", 100) == ["a\nb\n\nc"]


def test_split_at_line_boundaries_without_losing_anything() -> None:
    lines = [f"- document nummer {i} — https://kb.example/doc-{i}" for i in range(200)]
    text = "Kop\n\n" + "\n".join(lines)
    parts = split_message(text, 500)
    assert len(parts) > 1
    assert all(len(p) <= 500 for p in parts)
    assert all(p == p.strip() for p in parts)  # no part starts or ends with blank lines
    joined = "\n".join(parts).splitlines()
    assert [line for line in joined if line.strip()] == [line for line in text.splitlines() if line.strip()]
    assert all(line in lines or line == "Kop" for p in parts for line in p.splitlines() if line)


def test_split_breaks_an_overlong_line_at_spaces() -> None:
    line = " ".join(["woord"] * 100)  # 599 characters
    parts = split_message("kop\n" + line, 100)
    assert all(len(p) <= 100 for p in parts)
    assert " ".join(" ".join(parts).split()) == "kop " + line
    assert split_message("x" * 250, 100) == ["x" * 100, "x" * 100, "x" * 50]


def test_split_rejects_nonsense_size() -> None:
    with pytest.raises(ValueError):
        split_message("a", 0)


def test_render_full_digest() -> None:
    digest = Digest(
        day=date(2026, 3, 30),
        added=(DocLine("MIA", "https://kb.example/mia"),),
        changed=(DocLine("Agenda", None),),
        removed=(DocLine("Oud", None),),
        cases=(CaseLine("OMO-2026-0001", "hoog", "Demonstratie", 2, 49),),
        gaps=(GapLine("Wat is [e-mail]?", 2, 1),),
    )
    (text,) = render_digest(digest, send_when_empty=False, max_chars=4000)
    assert text.startswith("Goedemorgen! Het overzicht van de Onrust-assistent voor maandag 30 maart 2026.")
    assert "- MIA — https://kb.example/mia" in text and "- Agenda\n" in text and "- Oud" in text
    assert "[hoog] Demonstratie (zaak OMO-2026-0001, open sinds 2 dagen)" in text
    assert "- Wat is [e-mail]? (niet beantwoord: 2×) (👎)" in text
    assert "\n\n\n" not in text


def test_render_splits_a_long_digest() -> None:
    docs = tuple(DocLine(f"Document {i}", f"https://kb.example/{i}") for i in range(300))
    parts = render_digest(Digest(day=date(2026, 3, 30), added=docs), send_when_empty=True, max_chars=1000)
    assert len(parts) > 5 and all(len(p) <= 1000 for p in parts)
    body = "\n".join(parts)
    assert all(f"- Document {i} — https://kb.example/{i}" in body for i in range(300))


def test_render_empty_digest_is_one_line_or_nothing() -> None:
    empty = Digest(day=date(2026, 3, 30), cases=(), gaps=())
    assert render_digest(empty, send_when_empty=True, max_chars=4000) == [
        "Overzicht van maandag 30 maart 2026: niets nieuws sinds het vorige overzicht."
    ]
    assert render_digest(empty, send_when_empty=False, max_chars=4000) == []


def test_every_digest_template_renders() -> None:
    from datetime import time

    names = [n for n in prompts.template_names() if n.startswith("digest_")]
    assert len(names) >= 8
    context = {
        "digest": Digest(day=date(2026, 1, 1), added=(DocLine("a", None),)),
        "sub": None,
        "at": time(8, 30),
        "default": time(8, 30),
        "weekdays": [1, 2, 3, 4, 5],
        "was_on": True,
        "turn": "aan",
        "kind": "Demonstratie",
        "municipality": "Utrecht",
        "claimed": False,
        "now": datetime(2026, 1, 1, tzinfo=UTC),
    }
    for name in names:
        prompts.render(name, **context)
