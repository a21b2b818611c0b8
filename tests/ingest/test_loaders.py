"""Tests for `ingest.loaders.load_file` over every supported format, with generated fixtures."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.core.models import Access, Kind
from bot.errors import IngestError
from ingest.document import ParsedDocument
from ingest.loaders import SUPPORTED_SUFFIXES, LoadOptions, guess_kind, load_file

pytestmark = pytest.mark.unit

WriteFile = Callable[[str, bytes | str], Path]
MakePdf = Callable[..., bytes]


def load_one(path: Path, options: LoadOptions | None = None) -> ParsedDocument:
    result = load_file(path, path.name, f"kennis/{path.name}", options or LoadOptions())
    assert result.errors == []
    assert len(result.documents) == 1
    return result.documents[0]


def load_error(path: Path) -> str:
    with pytest.raises(IngestError) as caught:
        load_file(path, path.name, f"kennis/{path.name}", LoadOptions())
    assert caught.value.source == f"kennis/{path.name}"
    return caught.value.reason


def test_supported_suffixes() -> None:
    assert {".md", ".markdown", ".txt", ".pdf", ".docx", ".html", ".htm", ".jsonl"} == SUPPORTED_SUFFIXES


# Markdown


def test_markdown_front_matter_and_sections(write_file: WriteFile, markdown_text: str) -> None:
    doc = load_one(write_file("agenda.md", markdown_text))

    assert doc.doc_id == "agenda.md"
    assert doc.source == "kennis/agenda.md"
    assert doc.title == "Agenda Maatschappelijke Onrust"
    assert doc.kind is Kind.AGENDA
    assert doc.url == "https://vng.nl/agenda"
    assert doc.version == "2024-05-01"
    assert doc.access is Access.OMO_INTERN
    assert doc.extra == {"auteur": "VNG", "tags": "onrust, preventie"}
    assert [b.section for b in doc.blocks] == [
        (),
        ("Agenda",),
        ("Agenda", "Preventie", "MIA"),
        ("Agenda", "Ondersteuning"),
    ]
    assert doc.blocks[0].text == "Inleiding met extra spaties."


def test_markdown_keeps_lists_and_code_intact(write_file: WriteFile, markdown_text: str) -> None:
    mia = load_one(write_file("agenda.md", markdown_text)).blocks[2].text

    assert "- eerste punt\n  - genest punt\n- tweede punt" in mia
    # Inside a code fence "#" is no heading and spacing is kept.
    assert "```python\n# geen kop\nx  =  1\n```" in mia


def test_markdown_title_falls_back_to_first_h1_then_stem(write_file: WriteFile) -> None:
    with_h1 = load_one(write_file("notitie.md", "Intro.\n\n## Sub\n\nTekst.\n\n# Hoofdtitel\n\nMeer.\n"))
    without = load_one(write_file("handreiking_sociale-onrust.md", "## Alleen een subkop\n\nTekst.\n"))

    assert with_h1.title == "Hoofdtitel"
    assert without.title == "Handreiking sociale onrust"
    assert without.kind is Kind.HANDREIKING


def test_markdown_heading_stack_pops_to_the_right_level(write_file: WriteFile) -> None:
    text = "# A\n\n## B\n\n### C\n\nc\n\n## D\n\nd\n\n# E\n\ne\n"
    doc = load_one(write_file("x.md", text))

    assert [(b.section, b.text) for b in doc.blocks] == [
        (("A", "B", "C"), "c"),
        (("A", "D"), "d"),
        (("E",), "e"),
    ]


@pytest.mark.parametrize(
    ("front_matter", "reason"),
    [
        ("kind: nieuws", "invalid kind 'nieuws'"),
        ("access: geheim", "invalid access 'geheim'"),
        ("- een\n- lijst", "front matter is not a YAML mapping"),
        ("title: [niet gesloten", "invalid YAML front matter"),
    ],
)
def test_markdown_bad_front_matter_fails(write_file: WriteFile, front_matter: str, reason: str) -> None:
    assert load_error(write_file("doc.md", f"---\n{front_matter}\n---\n\nTekst.\n")).startswith(reason)


def test_front_matter_wins_over_the_options(write_file: WriteFile) -> None:
    path = write_file("doc.md", "---\nkind: faq\naccess: omo-intern\n---\nTekst.\n")
    doc = load_one(path, LoadOptions(kind=Kind.MIA, access=Access.OPENBAAR))

    assert doc.kind is Kind.FAQ
    assert doc.access is Access.OMO_INTERN


def test_options_kind_is_the_default(write_file: WriteFile) -> None:
    assert load_one(write_file("notitie.md", "Tekst.\n"), LoadOptions(kind=Kind.MIA)).kind is Kind.MIA


def test_options_access_is_the_default(write_file: WriteFile) -> None:
    doc = load_one(write_file("doc.md", "Tekst.\n"), LoadOptions(access=Access.OMO_INTERN))

    assert doc.access is Access.OMO_INTERN
    assert doc.kind is Kind.OVERIG


def test_front_matter_without_body_has_no_text(write_file: WriteFile) -> None:
    assert load_error(write_file("leeg.md", "---\ntitle: Leeg\n---\n\n# Alleen een kop\n")) == "no text found"


# Plain text and text-level failures


def test_text_title_is_short_first_line(write_file: WriteFile) -> None:
    doc = load_one(
        write_file("notitie.txt", "\n\nVergadering  wijkteam\n\nWe   bespraken de\tsituatie.\n\n\n\nEinde.\n")
    )

    assert doc.title == "Vergadering wijkteam"
    assert len(doc.blocks) == 1
    assert doc.blocks[0].text == "Vergadering wijkteam\n\nWe bespraken de situatie.\n\nEinde."
    assert doc.blocks[0].section == ()


def test_text_long_first_line_falls_back_to_stem(write_file: WriteFile) -> None:
    doc = load_one(write_file("veelgestelde_vragen.txt", "woord " * 40))

    assert doc.title == "Veelgestelde vragen"
    assert doc.kind is Kind.FAQ


def test_bom_is_stripped(write_file: WriteFile) -> None:
    doc = load_one(write_file("bom.txt", b"\xef\xbb\xbfTitel\n\nTekst."))

    assert doc.title == "Titel"
    assert not doc.text.startswith("\ufeff")


@pytest.mark.parametrize("name", ["plaatje.md", "plaatje.txt", "plaatje.jsonl"])
def test_binary_data_is_not_text(write_file: WriteFile, name: str) -> None:
    png_like = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00"
    assert load_error(write_file(name, png_like)) == "not UTF-8 text (binary data?)"


def test_latin1_bytes_are_not_utf8(write_file: WriteFile) -> None:
    assert load_error(write_file("oud.txt", "Café in de wijk".encode("latin-1"))) == "not UTF-8 text (binary data?)"


@pytest.mark.parametrize("content", [b"", b"  \n\t\n", b"\xef\xbb\xbf \n"])
@pytest.mark.parametrize("name", ["leeg.md", "leeg.txt", "leeg.pdf", "leeg.docx", "leeg.html", "leeg.jsonl"])
def test_empty_file(write_file: WriteFile, name: str, content: bytes) -> None:
    assert load_error(write_file(name, content)) == "file is empty"


def test_unsupported_suffix(write_file: WriteFile) -> None:
    assert load_error(write_file("tabel.xlsx", b"PK\x03\x04")) == "unsupported file type '.xlsx'"


def test_missing_file(tmp_path: Path) -> None:
    assert load_error(tmp_path / "weg.md").startswith("cannot read file")


# PDF


def test_pdf_one_block_per_page_with_text(write_file: WriteFile, pdf_bytes: bytes) -> None:
    doc = load_one(write_file("demonstraties.pdf", pdf_bytes))

    assert doc.title == "Handreiking demonstraties 2025"
    assert [b.page for b in doc.blocks] == [1, 3]
    assert "burgemeester is bevoegd" in doc.blocks[0].text
    assert "contact met politie" in doc.blocks[1].text
    assert all(b.section == () for b in doc.blocks)


def test_pdf_without_metadata_title_uses_stem(write_file: WriteFile, make_pdf: MakePdf) -> None:
    doc = load_one(write_file("mia-rapport.pdf", make_pdf(("Eerste pagina.", "Tweede pagina."))))

    assert doc.title == "Mia rapport"
    assert doc.kind is Kind.MIA
    assert [b.page for b in doc.blocks] == [1, 2]


def test_pdf_without_text(write_file: WriteFile, make_pdf: MakePdf) -> None:
    assert load_error(write_file("scan.pdf", make_pdf(("", "")))) == "no text found"


def test_pdf_encrypted_with_user_password(write_file: WriteFile, encrypted_pdf_bytes: bytes) -> None:
    assert load_error(write_file("geheim.pdf", encrypted_pdf_bytes)) == "PDF is encrypted"


def test_pdf_encrypted_with_owner_password_only_is_read(write_file: WriteFile, owner_only_pdf_bytes: bytes) -> None:
    doc = load_one(write_file("beveiligd.pdf", owner_only_pdf_bytes))

    assert [b.page for b in doc.blocks] == [1, 3]
    assert "burgemeester is bevoegd" in doc.text


def test_pdf_truncated(write_file: WriteFile, pdf_bytes: bytes) -> None:
    assert load_error(write_file("half.pdf", pdf_bytes[: len(pdf_bytes) // 2])) == "PDF is corrupt or truncated"


def test_pdf_with_broken_body(write_file: WriteFile, pdf_bytes: bytes) -> None:
    # Header and EOF marker intact, everything between replaced by junk.
    broken = pdf_bytes[:16] + b"\x13\x37 junk " * 200 + pdf_bytes[-16:]
    assert load_error(write_file("kapot.pdf", broken)) == "PDF is corrupt or truncated"


def test_garbage_named_pdf(write_file: WriteFile) -> None:
    assert load_error(write_file("nep.pdf", b"dit is helemaal geen pdf\n" * 50)) == "not a PDF file (no %PDF header)"


# DOCX


def test_docx_sections_paragraphs_and_tables(write_file: WriteFile, docx_bytes: bytes) -> None:
    doc = load_one(write_file("draaiboek.docx", docx_bytes))

    assert doc.title == "Draaiboek maatschappelijke onrust"
    root = "Draaiboek maatschappelijke onrust"
    assert [(b.section, b.text) for b in doc.blocks] == [
        ((root,), "Dit draaiboek beschrijft de aanpak bij onrust in de wijk."),
        ((root, "Voorbereiding"), "Breng de betrokken partners in kaart."),
        (
            (root, "Voorbereiding", "Partners"),
            "Werk samen met wijkagenten en jongerenwerk.\n\n"
            "Rol | Taak\nBurgemeester | Openbare orde\nWijkagent | Signalering",
        ),
        ((root, "Nazorg"), "Evalueer de inzet met alle partners."),
    ]
    assert all(b.page is None for b in doc.blocks)


def test_docx_core_title_wins(write_file: WriteFile, docx_bytes: bytes, tmp_path: Path) -> None:
    import docx

    path = write_file("draaiboek.docx", docx_bytes)
    document = docx.Document(str(path))
    document.core_properties.title = "Draaiboek 2025"
    document.save(str(path))

    assert load_one(path).title == "Draaiboek 2025"


def test_docx_corrupt(write_file: WriteFile, docx_bytes: bytes) -> None:
    assert load_error(write_file("kapot.docx", docx_bytes[:200])) == "DOCX is corrupt or not a Word document"
    assert load_error(write_file("nep.docx", b"geen zip")) == "DOCX is corrupt or not a Word document"


# HTML


def test_html_main_content_only(write_file: WriteFile, html_text: str) -> None:
    doc = load_one(write_file("demonstratierecht.html", html_text))

    assert doc.title == "Demonstratierecht en openbare orde"
    for boilerplate in ("SCRIPT", "NAV", "COOKIE", "SIDEBAR", "FOOTER", "Gemeente Voorbeeld"):
        assert boilerplate not in doc.text
    assert [b.section for b in doc.blocks] == [
        ("Demonstratierecht",),
        ("Demonstratierecht", "Voorbereiding"),
        ("Demonstratierecht", "Voorbereiding", "Politie"),
    ]
    assert doc.blocks[0].text == "Iedereen mag demonstreren. De burgemeester kan voorschriften geven."
    assert (
        doc.blocks[1].text
        == "Overleg met de organisator over de route en het tijdstip.\n\n- Route afstemmen\n- Risico's inschatten"
    )
    assert doc.blocks[2].text == "De politie adviseert over de inzet.\n\nRol | Taak\nBurgemeester | Besluit"


def test_html_municipal_page_keeps_content_and_headings_only(write_file: WriteFile) -> None:
    page = (Path(__file__).parents[1] / "fixtures" / "html" / "gemeente-evenementenvergunning.html").read_bytes()
    doc = load_one(write_file("evenementenvergunning.html", page))

    assert doc.title == "Evenementenvergunning aanvragen"
    for furniture in (
        *("Ga direct naar", "cookies", "Zoek", "Hoofdmenu", "Wonen en leven", "Home"),
        *("Deel deze pagina", "WhatsApp", "nuttig", "Gerelateerde onderwerpen", "Postbus", "Privacyverklaring"),
    ):
        assert furniture not in doc.text
    h1 = "Evenementenvergunning aanvragen"
    assert [b.section for b in doc.blocks] == [
        (h1,),
        (h1, "Wanneer heeft u een vergunning nodig?"),
        (h1, "Aanvragen"),
        (h1, "Aanvragen", "Kosten"),
        (h1, "Demonstraties"),
    ]
    assert doc.blocks[1].text.endswith(
        "- meer dan 250 bezoekers tegelijk\n- versterkte muziek na 23.00 uur\n- afsluiting van een weg"
    )
    assert doc.blocks[3].text.splitlines()[-1] == "Evenement tot 2.000 bezoekers | € 152,60"
    assert "Wet openbare manifestaties" in doc.blocks[4].text


def test_html_title_falls_back_to_title_then_h1(write_file: WriteFile) -> None:
    titled = load_one(
        write_file("a.htm", "<html><head><title> Pagina  titel </title></head><body><p>Tekst.</p></body></html>")
    )
    h1_only = load_one(write_file("b.html", "<html><body><h1>Kop één</h1><p>Tekst.</p></body></html>"))

    assert titled.title == "Pagina titel"
    assert h1_only.title == "Kop één"


def test_html_without_content(write_file: WriteFile) -> None:
    page = "<html><body><nav>Menu</nav><script>x()</script><footer>Voet</footer></body></html>"
    assert load_error(write_file("leeg.html", page)) == "no text found"


def test_html_in_legacy_encoding(write_file: WriteFile) -> None:
    page = '<html><head><meta charset="windows-1252"></head><body><p>Café één</p></body></html>'
    assert load_one(write_file("oud.html", page.encode("cp1252"))).text == "Café één"


# JSONL


def test_jsonl_documents_and_line_errors(write_file: WriteFile, jsonl_text: str) -> None:
    result = load_file(write_file("faq.jsonl", jsonl_text), "faq.jsonl", "kennis/faq.jsonl", LoadOptions())
    docs = {str(doc.doc_id): doc for doc in result.documents}

    assert list(docs) == ["faq-1", "faq-4", "faq-2"]
    first = docs["faq-1"]
    assert first.source == "kennis/faq.jsonl"
    assert first.title == "MIA"
    assert first.kind is Kind.FAQ
    assert first.url == "https://example.org/faq/1"
    assert first.version == "2024-03-01"
    assert first.extra == {"auteur": "VNG", "score": "3", "tags": "a, b"}
    assert docs["faq-4"].access is Access.OMO_INTERN
    assert docs["faq-2"].text == "Tweede versie van vraag twee."
    for doc in result.documents:
        assert all("example" not in block.text and "http" not in block.text for block in doc.blocks)
    assert [(e.source, e.reason) for e in result.errors] == [
        ("kennis/faq.jsonl", "line 3: invalid JSON (Expecting property name enclosed in double quotes)"),
        ("kennis/faq.jsonl", "line 4: missing id"),
        ("kennis/faq.jsonl", "line 5: empty text"),
        ("kennis/faq.jsonl", "line 2: duplicate id 'faq-2', replaced by line 8"),
        (
            "kennis/faq.jsonl",
            "line 9: invalid kind 'nieuws' (expected one of: agenda, mia, handreiking, wet, organisatie, faq, overig)",
        ),
    ]


def test_jsonl_kind_is_guessed_from_the_file_and_title_from_text(write_file: WriteFile) -> None:
    path = write_file("sub/handreikingen.jsonl", '{"id": 7, "text": "Korte eerste regel\\nen meer tekst."}\n')
    result = load_file(path, "sub/handreikingen.jsonl", "kennis/sub/handreikingen.jsonl", LoadOptions())

    (doc,) = result.documents
    assert doc.doc_id == "7"
    assert doc.title == "Korte eerste regel"
    assert doc.kind is Kind.HANDREIKING


def test_jsonl_with_only_bad_lines_fails(write_file: WriteFile) -> None:
    reason = load_error(write_file("stuk.jsonl", '{"id": "a"}\n[1, 2]\n'))
    assert reason == "no valid JSONL lines (first problem: line 1: missing text)"


# Kind guessing


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("Agenda-Maatschappelijke-Onrust.md", Kind.AGENDA),
        ("docs/mia/2024.pdf", Kind.MIA),
        ("rapport_mia.docx", Kind.MIA),
        ("maatschappelijke-impact-afweging.txt", Kind.MIA),
        ("familiaal.md", Kind.OVERIG),
        ("handreiking-demonstraties.pdf", Kind.HANDREIKING),
        ("FAQ.md", Kind.FAQ),
        ("veelgestelde-vragen.html", Kind.FAQ),
        ("nieuwsbrief.md", Kind.OVERIG),
    ],
)
def test_guess_kind(name: str, kind: Kind) -> None:
    assert guess_kind(name) is kind
