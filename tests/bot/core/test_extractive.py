"""The extractive answerer quotes the most relevant sentences with their passage's marker."""

from __future__ import annotations

import pytest

from bot.core.citations import Draft, cite
from bot.core.extractive import ExtractiveAnswerer
from tests.fakes import make_passage

pytestmark = pytest.mark.unit


def one_passage_draft(question: str, text: str, meanings: list[float], max_sentences: int = 3) -> Draft:
    """The draft from one passage whose sentences have these similarities to the question, in order."""
    passage = make_passage("p", text)
    return ExtractiveAnswerer(max_sentences).draft(
        question, [passage], {passage.chunk.chunk_id: dict(enumerate(meanings))}
    )


def test_picks_the_sentence_that_answers_and_cites_its_passage() -> None:
    passages = [
        make_passage(
            "mia.md",
            "De VNG wil gemeenten helpen bij onderzoek. De Maatschappelijke Impact Afweging (MIA) brengt in beeld "
            "welke gevolgen beleidskeuzes hebben voor onrust en anti-overheidssentiment. Het weer was goed.",
        ),
        make_passage("omo.md", "Het OMO organiseert leerkringen voor gemeenten die kennis willen uitwisselen."),
    ]
    draft = ExtractiveAnswerer(max_sentences=1).draft("Wat brengt de impact afweging in beeld?", passages)
    assert draft.text.startswith("De Maatschappelijke Impact Afweging (MIA) brengt in beeld")
    assert draft.text.endswith("[1]")
    assert cite(draft, passages).citations[0].passage.doc.doc_id == "mia.md"


def test_the_lead_comes_first_and_a_close_second_source_follows() -> None:
    passages = [
        make_passage("a", "Leerkringen zijn bijeenkomsten waarin gemeenten ervaringen delen over onrust."),
        make_passage("b", "Het OMO geeft op maat gemaakt advies van experts aan gemeenten in onrustige situaties."),
    ]
    meaning = {passages[0].chunk.chunk_id: {0: 0.905}, passages[1].chunk.chunk_id: {0: 0.91}}
    draft = ExtractiveAnswerer(max_sentences=2).draft("Wat doet het OMO met leerkringen en advies?", passages, meaning)
    assert draft.text.startswith("Het OMO geeft") and draft.text.index("[2]") < draft.text.index("[1]")
    cited = cite(draft, passages)
    assert [c.passage.doc.doc_id for c in cited.citations] == ["b", "a"]


def test_a_loosely_related_sentence_from_another_document_is_left_out() -> None:
    passages = [
        make_passage("a", "Het OMO geeft op maat gemaakt advies van experts aan gemeenten in onrustige situaties."),
        make_passage("b", "Een burgemeester in Rotterdam maakte een video over advies aan jongeren."),
    ]
    meaning = {passages[0].chunk.chunk_id: {0: 0.91}, passages[1].chunk.chunk_id: {0: 0.86}}
    draft = ExtractiveAnswerer(max_sentences=3).draft("Welk advies geeft het OMO?", passages, meaning)
    assert "[2]" not in draft.text


def test_list_stays_with_its_introduction() -> None:
    passages = [make_passage("p", "De partners zijn onder meer:\n- de politie\n- het CCV\n- de NCTV")]
    draft = ExtractiveAnswerer(max_sentences=1).draft("Wie zijn de partners?", passages)
    assert "politie" in draft.text and "NCTV" in draft.text


def test_a_long_list_with_its_introduction_is_quoted_but_the_answer_stays_short() -> None:
    items = "\n".join(
        f"- het noodbevel en de noodverordening verschillen in punt {n} van de vergelijking" for n in range(6)
    )
    listed = make_passage("p", f"Het NGB zet de verschillen tussen noodbevel en noodverordening op een rij:\n{items}")
    draft = ExtractiveAnswerer(max_sentences=3).draft(
        "Wat is het verschil tussen noodbevel en noodverordening?", [listed]
    )
    assert "punt 5" in draft.text  # one claim of over 400 characters, list and all
    # A companion that brings new facts still stays out once the answer would pass 750 characters.
    detail = " ".join(["met voorschriften over route, tijd, plaats, geluid en het aantal deelnemers"] * 3)
    facts = f"Het noodbevel en de noodverordening golden in 2020 in de binnenstad, {detail}."
    both = make_passage("p", f"{listed.text}\n\n{facts}")
    long = ExtractiveAnswerer(max_sentences=3).draft(
        "Wat is het verschil tussen noodbevel en noodverordening in de binnenstad?", [both]
    )
    assert "punt 5" in long.text and "2020" not in long.text


def test_a_lead_that_announces_a_number_of_things_brings_the_sentence_that_names_them() -> None:
    text = (
        "De burgemeester mag op grond van artikel 174a Gemeentewet een woning of lokaal sluiten op drie gronden. "
        "Het CCV geeft die gronden letters:\n"
        "- a-grond: verstoring van de openbare orde rond het pand;\n- b-grond: ernstig geweld;\n- c-grond: een wapen."
        "\n\nDe sluiting geldt voor een bepaalde tijd."
    )
    draft = one_passage_draft("Wanneer mag ik een woning sluiten?", text, [0.9, 0.8, 0.8], max_sentences=2)
    assert draft.text.startswith("De burgemeester mag op grond van") and "c-grond" in draft.text
    penalty = make_passage(
        "q",
        "Op doxing staat volgens artikel 285d van het Wetboek van Strafrecht een gevangenisstraf van maximaal twee "
        "jaar. Het Openbaar Ministerie vervolgt daarbij ook wie de gegevens verder verspreidt.",
    )
    alone = ExtractiveAnswerer(max_sentences=2).draft("Welke straf staat op doxing?", [penalty])
    assert "verspreidt" not in alone.text  # "twee jaar" is a fact of its own, no announcement


def test_no_usable_sentence_gives_an_empty_draft() -> None:
    assert ExtractiveAnswerer().draft("Wat?", [make_passage("p", "Kort.")]).text == ""


def test_markdown_emphasis_is_not_quoted() -> None:
    passages = [
        make_passage(
            "p", "De VNG werkt samen met:\n- **de politie**;\n- **het CCV**: het Centrum voor Criminaliteitspreventie."
        )
    ]
    draft = ExtractiveAnswerer(max_sentences=1).draft("Met wie werkt de VNG samen?", passages)
    assert "**" not in draft.text and "de politie" in draft.text


def test_the_same_fact_from_two_documents_is_quoted_once() -> None:
    passages = [
        make_passage("mia.md", "De MIA is een instrument dat in beeld brengt wat beleidskeuzes betekenen voor onrust."),
        make_passage("faq.md", "De MIA is een instrument dat in beeld brengt wat beleidskeuzes voor onrust betekenen."),
        make_passage("omo.md", "Gemeenten gebruiken de MIA voordat zij een gevoelig besluit nemen."),
    ]
    meaning = {p.chunk.chunk_id: {0: sim} for p, sim in zip(passages, (0.93, 0.93, 0.92), strict=True)}
    draft = ExtractiveAnswerer(max_sentences=3).draft("Wat is de MIA en wat brengt zij in beeld?", passages, meaning)
    assert "[1]" in draft.text and "[2]" not in draft.text


def test_sentences_are_chosen_by_meaning_and_the_best_leads() -> None:
    text = (
        "De burgemeester kan een noodverordening vaststellen bij oproerige bewegingen. "
        "De gemeenteraad moet de noodverordening in de eerstvolgende vergadering bekrachtigen. "
        "Het gemeentehuis is op werkdagen open."
    )
    draft = one_passage_draft("Moet de raad de verordening nog goedkeuren?", text, [0.84, 0.93, 0.80])
    assert draft.text.startswith("De gemeenteraad moet de noodverordening")
    assert "gemeentehuis" not in draft.text
    assert draft.lead_similarity == pytest.approx(0.93)


def test_a_question_or_the_title_line_is_never_quoted() -> None:
    passage = make_passage(
        "mia.md",
        "Preventie en MIA\n\nWaarvoor gebruikt een gemeente de MIA?\n\nMet de MIA schat een gemeente in of een besluit "
        "spanning oproept.",
        title="Preventie en MIA",
    )
    draft = ExtractiveAnswerer(max_sentences=3).draft("Waarvoor gebruikt een gemeente de MIA?", [passage])
    assert draft.text == "Met de MIA schat een gemeente in of een besluit spanning oproept. [1]"


def test_a_scraped_title_line_with_a_dated_note_is_not_quoted() -> None:
    title = "Huisbezoek politie aan demonstrant binnen de regels, maar zet demonstratierecht wel onder druk"
    passage = make_passage(
        "huisbezoek.md",
        f'{title} (EenVandaag, maart 2025)\n\nEen hoogleraar: "Het is niet aan de politie om bij demonstranten thuis '
        'te komen."',
        title=title,
    )
    draft = ExtractiveAnswerer(max_sentences=3).draft("Mag de politie bij een demonstrant thuis komen?", [passage])
    assert "EenVandaag" not in draft.text
    # A quote that ends the sentence inside its quotation marks gets no second full stop.
    assert 'thuis te komen." [1]' in draft.text


def test_a_question_in_two_parts_gets_a_sentence_for_each_kind_of_fact() -> None:
    passage = make_passage(
        "ot.md",
        "Het ondersteuningsteam is dag en nacht bereikbaar voor bedreigde ambtsdragers. "
        "Het team behandelt jaarlijks ongeveer 25 zaken.",
    )
    meaning = {passage.chunk.chunk_id: {0: 0.90, 1: 0.84}}
    draft = ExtractiveAnswerer(max_sentences=3).draft(
        "Is het team 's nachts bereikbaar? En hoeveel casussen doen ze?", [passage], meaning
    )
    assert "dag en nacht" in draft.text and "25 zaken" in draft.text


def test_each_part_of_a_question_gets_the_sentence_closest_to_it() -> None:
    passage = make_passage(
        "driehoek",
        "Het driehoeksoverleg staat in artikel 13 van de Politiewet 2012. In de driehoek overleggen burgemeester, "
        "politiechef en officier. De burgemeester heeft geen zeggenschap over de officier van justitie.",
    )
    cid = passage.chunk.chunk_id
    whole = {cid: {0: 0.91, 1: 0.89, 2: 0.86}}
    parts = [{cid: {0: 0.92, 1: 0.88, 2: 0.80}}, {cid: {0: 0.80, 1: 0.86, 2: 0.90}}]
    question = "Waar staat de driehoek in de wet? En heb ik iets te zeggen over de officier?"
    answerer = ExtractiveAnswerer(max_sentences=2)
    assert "zeggenschap" in answerer.draft(question, [passage], whole, parts).text
    assert "zeggenschap" not in answerer.draft(question, [passage], whole).text  # without parts: the close second


def test_a_list_of_sources_is_quoted_only_for_a_question_about_sources() -> None:
    facts = make_passage("agenda", "De agenda loopt van 2024 tot en met 2026.", section="Agenda > Looptijd")
    sources = make_passage(
        "agenda", "Artikel 'VNG: 6 miljoen nodig voor aanpak onrust' in Binnenlands Bestuur.", section="Bronnen"
    )
    answerer = ExtractiveAnswerer(max_sentences=1)
    meaning = {facts.chunk.chunk_id: {0: 0.85}, sources.chunk.chunk_id: {0: 0.9}}
    assert "2024" in answerer.draft("Hoeveel budget heeft de agenda?", [sources, facts], meaning).text
    assert "Binnenlands Bestuur" in answerer.draft("Waar vind ik meer informatie?", [sources, facts], meaning).text


def test_a_yes_no_question_about_a_status_quotes_the_sentence_that_states_it() -> None:
    passages = [
        make_passage("a", "Een gemeente kan meer statushouders in één woning onderbrengen."),
        make_passage("b", "Gemeenten hebben de taak om statushouders woonruimte te geven."),
    ]
    meaning = {passages[0].chunk.chunk_id: {0: 0.91}, passages[1].chunk.chunk_id: {0: 0.85}}
    draft = ExtractiveAnswerer(max_sentences=2).draft(
        "Zijn gemeenten verplicht statushouders te huisvesten?", passages, meaning
    )
    assert "de taak" in draft.text
    assert "de taak" not in ExtractiveAnswerer(max_sentences=2).draft("Wat doen gemeenten?", passages, meaning).text


def test_a_yes_or_no_that_starts_a_sentence_is_kept_only_for_a_yes_no_question() -> None:
    text = "Ja: een bedreigde bestuurder kan beveiliging voor de eigen woning krijgen."
    asked_open = one_passage_draft("Wat kan ik doen om mijn huis te laten beveiligen?", text, [0.9], max_sentences=1)
    asked_yes_no = one_passage_draft("Kan ik mijn huis laten beveiligen?", text, [0.9], max_sentences=1)
    assert asked_open.text == "Een bedreigde bestuurder kan beveiliging voor de eigen woning krijgen. [1]"
    assert asked_yes_no.text == f"{text} [1]"


def test_asked_what_to_do_a_rule_leads_over_an_account_of_a_past_case() -> None:
    text = (
        "In Zeist vorderde de griffier in 2015 dat demonstranten die de vergadering verstoorden vertrokken. "
        "De voorzitter mag toehoorders die de vergadering verstoren de zaal uit sturen."
    )
    meanings = [0.85, 0.84]
    asked = one_passage_draft("Wat kan ik doen als de tribune de vergadering verstoort?", text, meanings, 1)
    told = one_passage_draft("Wat deed de griffier van Zeist toen de tribune de orde verstoorde?", text, meanings, 1)
    arranged = one_passage_draft("Wat moet ik regelen als de tribune de vergadering verstoort?", text, meanings, 1)
    assert asked.text.startswith("De voorzitter mag toehoorders")
    assert arranged.text.startswith("De voorzitter mag toehoorders")
    assert told.text.startswith("In Zeist vorderde de griffier")


def test_asked_what_an_article_regulates_the_section_that_asks_it_leads() -> None:
    defined = make_passage(
        "172a",
        "Artikel 172a geeft de burgemeester de bevoegdheid om een gebiedsverbod op te leggen aan wie de orde "
        "herhaaldelijk verstoort.",
        section="Gebiedsverbod > Wat is artikel 172a van de Gemeentewet?",
    )
    compared = make_passage(
        "172a",
        "Artikel 172a is het zwaardere instrument, en de APV mag de grenzen ervan niet oprekken.",
        section="Gebiedsverbod > Hoe verhoudt artikel 172a zich tot de APV?",
    )
    both = make_passage(
        "154a",
        "Artikel 154a is bedoeld voor voorzienbare situaties die de raad in de APV heeft geregeld.",
        section="Ophouding > Wat is het verschil tussen artikel 154a en artikel 176a?",
    )
    own = make_passage(
        "154a",
        "De burgemeester mag op grond van artikel 154a een groep die de APV overtreedt ophouden.",
        section="Ophouding > Wat regelt artikel 154a?",
    )
    answerer = ExtractiveAnswerer(max_sentences=1)
    # The embedder's preference: a short sentence that opens with the question's own words.
    meaning = {p.chunk.chunk_id: {0: m} for p, m in ((compared, 0.92), (defined, 0.89), (both, 0.92), (own, 0.89))}
    asked = answerer.draft("wat houdt artikel 172a in?", [compared, defined], meaning)
    assert asked.text.startswith("Artikel 172a geeft de burgemeester")
    assert answerer.draft("Hoe verhoudt artikel 172a zich tot de APV?", [compared, defined], meaning).text.startswith(
        "Artikel 172a is het zwaardere"
    )
    # A heading that names another article as well does not define this one.
    assert answerer.draft("wat regelt artikel 154a", [both, own], meaning).text.startswith("De burgemeester mag")
    assert answerer.draft("wat regelt artikel 176a", [both, own], meaning).text.startswith("Artikel 154a is bedoeld")


def test_asked_about_one_paragraph_of_an_article_the_other_paragraph_does_not_define_it() -> None:
    second = make_passage(
        "172",
        "De burgemeester mag overtredingen van openbare-ordevoorschriften beletten.",
        section="Wat regelt artikel 172 lid 2?",
    )
    third = make_passage(
        "172",
        "De burgemeester mag bevelen geven bij ernstige vrees voor wanordelijkheden.",
        section="Wat regelt artikel 172 lid 3?",
    )
    meaning = {second.chunk.chunk_id: {0: 0.9}, third.chunk.chunk_id: {0: 0.88}}
    answerer = ExtractiveAnswerer(max_sentences=1)
    assert "bevelen geven" in answerer.draft("wat houdt artikel 172 lid 3 in?", [second, third], meaning).text
    assert "beletten" in answerer.draft("wat houdt artikel 172 lid 2 in?", [second, third], meaning).text
