"""Fixture generators for the loader tests: every PDF, DOCX, HTML and JSONL file is built here, none is committed."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import docx
import pytest
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

PDF_PAGES = (
    "Handreiking demonstraties. De burgemeester is bevoegd om voorschriften te geven aan een demonstratie.",
    "",  # a page without text: it must be skipped, and the page numbers after it must stay right
    "Tijdens de demonstratie houdt de gemeente contact met politie en organisator over de route.",
)

MakePdf = Callable[..., bytes]
WriteFile = Callable[[str, bytes | str], Path]


@pytest.fixture
def write_file(tmp_path: Path) -> WriteFile:
    """Write bytes or UTF-8 text under `tmp_path` and return the path."""

    def write(name: str, content: bytes | str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return path

    return write


@pytest.fixture
def make_pdf() -> MakePdf:
    """Build a real PDF with fpdf2: one page per string (an empty string gives a page with only a drawing)."""

    def make(pages: tuple[str, ...] = PDF_PAGES, title: str | None = None) -> bytes:
        pdf = FPDF()
        if title is not None:
            pdf.set_title(title)
        pdf.set_font("Helvetica", size=12)
        for text in pages:
            pdf.add_page()
            if text:
                pdf.multi_cell(0, 8, text)
            else:
                pdf.rect(20, 20, 50, 30)
        return bytes(pdf.output())

    return make


@pytest.fixture
def pdf_bytes(make_pdf: MakePdf) -> bytes:
    return make_pdf(PDF_PAGES, title="Handreiking demonstraties 2025")


def _encrypt(pdf: bytes, user_password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password=user_password, owner_password="eigenaar-geheim", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture
def encrypted_pdf_bytes(pdf_bytes: bytes) -> bytes:
    """Needs a user password to open."""
    return _encrypt(pdf_bytes, user_password="geheim")


@pytest.fixture
def owner_only_pdf_bytes(pdf_bytes: bytes) -> bytes:
    """Encrypted with an owner password only: opens with the empty user password."""
    return _encrypt(pdf_bytes, user_password="")


@pytest.fixture
def docx_bytes() -> bytes:
    document = docx.Document()
    document.add_heading("Draaiboek maatschappelijke onrust", level=0)  # style "Title"
    document.add_paragraph("Dit draaiboek beschrijft de aanpak   bij onrust in de wijk.")
    document.add_heading("Voorbereiding", level=1)
    document.add_paragraph("Breng de betrokken partners in kaart.")
    document.add_heading("Partners", level=2)
    document.add_paragraph("Werk samen met wijkagenten en jongerenwerk.")
    table = document.add_table(rows=3, cols=2)
    for row, (role, task) in zip(
        table.rows, [("Rol", "Taak"), ("Burgemeester", "Openbare orde"), ("Wijkagent", "Signalering")], strict=True
    ):
        row.cells[0].text = role
        row.cells[1].text = task
    document.add_heading("Nazorg", level=1)
    document.add_paragraph("Evalueer de inzet met alle partners.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


MARKDOWN = """\ufeff---
title: Agenda Maatschappelijke Onrust
kind: agenda
url: https://vng.nl/agenda
date: 2024-05-01
access: omo-intern
auteur: VNG
tags: [onrust, preventie]
---

Inleiding   met  extra   spaties.

# Agenda

Over de agenda.

## Preventie

### MIA

De MIA helpt bij het afwegen van maatschappelijke impact.

- eerste punt
  - genest punt
- tweede punt

```python
# geen kop
x  =  1
```

## Ondersteuning

Het OMO ondersteunt gemeenten.
"""

HTML = """<!doctype html>
<html lang="nl"><head>
<meta charset="utf-8">
<title>Demonstratierecht | Gemeente Voorbeeld</title>
<meta property="og:title" content="Demonstratierecht en openbare orde">
<script>window.tracker = "SCRIPT_BOILERPLATE";</script>
<style>.x { color: red; }</style>
</head><body>
<header><a href="/">Gemeente Voorbeeld</a>
<nav><ul><li><a href="/">Home</a></li><li>NAV_BOILERPLATE</li></ul></nav></header>
<div class="cookie-banner">COOKIE_BOILERPLATE: wij gebruiken cookies.</div>
<div class="layout">
<aside>SIDEBAR_BOILERPLATE</aside>
<article>
<header><h1>Demonstratierecht</h1></header>
<p>Iedereen mag   demonstreren. De burgemeester kan voorschriften geven.</p>
<h2>Voorbereiding</h2>
<p>Overleg met de organisator over de <b>route</b> en het tijdstip.</p>
<ul><li>Route afstemmen</li><li>Risico's inschatten</li></ul>
<h3>Politie</h3>
<p>De politie adviseert over de inzet.</p>
<table><tr><th>Rol</th><th>Taak</th></tr><tr><td>Burgemeester</td><td>Besluit</td></tr></table>
</article>
</div>
<footer>FOOTER_BOILERPLATE Copyright Gemeente Voorbeeld</footer>
<script>console.log("SCRIPT_BOILERPLATE")</script>
</body></html>
"""

JSONL = "\n".join(
    [
        '{"id": "faq-1", "text": "Wat is de MIA? Een afwegingskader.", "title": "MIA",'
        ' "url": "https://example.org/faq/1", "kind": "faq", "lastmodified": "2024-03-01",'
        ' "auteur": "VNG", "score": 3, "tags": ["a", "b"], "nested": {"x": 1}}',
        '{"id": "faq-2", "text": "Eerste versie van vraag twee."}',
        "{not json",
        '{"text": "zonder id"}',
        '{"id": "faq-3", "text": "   "}',
        "",
        '{"id": "faq-4", "text": "Intern antwoord.", "access": "omo-intern", "url": "https://intranet.example/faq-4"}',
        '{"id": "faq-2", "text": "Tweede versie van vraag twee."}',
        '{"id": "faq-5", "text": "Foute soort.", "kind": "nieuws"}',
    ]
)


@pytest.fixture
def markdown_text() -> str:
    """Front matter (with a BOM before it), text before the first heading, nested headings, a list and code."""
    return MARKDOWN


@pytest.fixture
def html_text() -> str:
    """An article wrapped in header, nav, cookie banner, aside, footer and scripts; boilerplate is marked."""
    return HTML


@pytest.fixture
def jsonl_text() -> str:
    """Good lines, an invalid line, a line without id, one with blank text, a duplicate id and a bad kind."""
    return JSONL
