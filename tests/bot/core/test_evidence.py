"""The names and figures a question hinges on must be in the cited passages; a follow-up must share a word."""

from __future__ import annotations

import pytest

from bot.core.answer_type import AnswerType
from bot.core.evidence import (
    admits_gap,
    long_past,
    missing_predicate,
    missing_specifics,
    shares_words,
    typed_off_subject,
)
from bot.core.models import Citation
from tests.fakes import make_passage

pytestmark = pytest.mark.unit


def cited(text: str, title: str = "Noodverordening") -> list[Citation]:
    return [Citation(1, make_passage("d.md", text, title=title))]


def test_a_place_or_year_no_passage_mentions_is_missing() -> None:
    passages = cited("In Rotterdam gold in 2021 een noodverordening voor het centrum.")
    assert missing_specifics("Hoe hoog is de boete in Tilburg in 2027?", passages) == ["Tilburg", "2027"]
    assert missing_specifics("Welke noodverordening gold in Rotterdam in 2021?", passages) == []


def test_inflections_names_taken_for_granted_and_abbreviations_are_found() -> None:
    passages = cited("Een uittreksel uit de BRP van een Utrechtse inwoner kost niets.")
    assert missing_specifics("Wat kost een uittreksel in Utrecht?", passages) == []
    assert missing_specifics("Geldt dit overal in Nederland?", passages) == []
    assert missing_specifics("Hoe vraag ik een uittreksel uit de Basisregistratie Personen (BRP)?", passages) == []


def test_a_sentence_start_and_short_abbreviations_are_no_names() -> None:
    passages = cited("Het team is dag en nacht bereikbaar.")
    assert missing_specifics("Tilburg vraagt: is het OT ook 's nachts bereikbaar?", passages) == []


def test_an_age_is_weighed_against_the_rule_not_looked_up() -> None:
    passages = cited("De burgemeester kan ouders van kinderen onder de twaalf jaar een bevel geven.")
    assert missing_specifics("Kan ik iets doen tegen de ouders van een kind van 11 bij rellen?", passages) == []
    assert missing_specifics("Mag dat ook bij 11-jarigen?", passages) == []
    assert missing_specifics("Kan ik ouders van een kind van 11 een bevel geven in 2027?", passages) == ["2027"]


def test_a_platform_is_found_in_a_text_about_threats_online() -> None:
    online = cited("Een bedreiging via sociale media meld je bij de politie, net als een bedreiging op straat.")
    offline = cited("Een bedreiging meld je bij de politie.")
    assert missing_specifics("Een raadslid wordt bedreigd via Facebook, wat nu?", online) == []
    assert missing_specifics("Een raadslid wordt bedreigd via Facebook, wat nu?", offline) == ["Facebook"]
    assert missing_specifics("Een raadslid wordt bedreigd door Jansen, wat nu?", online) == ["Jansen"]


def test_a_followup_must_share_a_word_with_what_would_be_quoted() -> None:
    passages = cited("De gemeenteraad moet de noodverordening bekrachtigen.", title="Noodverordening artikel 176")
    assert shares_words("En wie moet die dan bekrachtigen?", "De raad bekrachtigt haar. [1]", passages)
    assert not shares_words("Hoe warm wordt het aan zee?", "De raad bekrachtigt haar. [1]", passages)


def test_a_law_named_in_the_question_must_be_in_the_passages() -> None:
    about_172a = cited("Een gebiedsverbod op grond van artikel 172a duurt hoogstens 24 maanden.")
    question = "Hoeveel dagen mag een huisverbod volgens de Wet tijdelijk huisverbod duren?"
    assert missing_specifics(question, about_172a) == ["tijdelijk huisverbod"]
    wom = cited("De Wet openbare manifestaties regelt de kennisgeving.")
    assert missing_specifics("Wat regelt de Wet openbare manifestaties?", wom) == []


def test_a_sentence_that_says_the_sources_are_silent_is_no_answer() -> None:
    gap = "De agenda onderscheidt zeven actielijnen, maar de VNG-pagina somt die actielijnen niet op. [1]"
    assert admits_gap(gap, None, None, "Wat houden de actielijnen in?")
    assert not admits_gap(gap, AnswerType.NUMBER, "actielijnen", "Hoeveel actielijnen heeft de agenda?")
    dated = "Een verbod bestaat nog niet; de gebruikte bronnen noemen geen datum (stand februari 2026). [1]"
    assert admits_gap(dated, AnswerType.DATE, None, "Per welke datum gaat het verbod in?")
    then = f"{dated} Op overtreding staat hechtenis van ten hoogste twee maanden. [2]"
    assert not admits_gap(then, AnswerType.PENALTY, None, "Wat staat erop?")
    assert not admits_gap("Je hoeft de vaktermen uit de bronnen niet te kennen. [1]", None, None, "Hoe vraag ik?")


def test_a_later_sentence_saying_the_sources_name_no_such_fact_outweighs_a_figure_from_elsewhere() -> None:
    question = "Hoeveel subsidie krijgt mijn gemeente in 2026 uit de agenda?"
    text = (
        "De agenda is het plan van de VNG. [1] De bronnen over de Agenda Maatschappelijke Onrust noemen geen "
        "subsidie of bedrag per gemeente. [2] De VNG vroeg in 2021 om 5,8 miljoen euro per jaar. [3]"
    )
    assert admits_gap(text, AnswerType.AMOUNT, None, question)
    # a later gap about another kind of fact does not refuse the amount asked for
    other = "Gemeenten krijgen 2,5 miljoen euro per jaar. [1] De bronnen noemen geen datum van de regeling. [2]"
    assert not admits_gap(other, AnswerType.AMOUNT, None, question)


def test_a_fact_of_the_kind_asked_must_come_from_a_passage_about_what_is_named() -> None:
    ngb = Citation(1, make_passage("ngb", "Het piket van het NGB is dag en nacht bereikbaar: 06 - 2940 1416."))
    text = "Het piket van het NGB is dag en nacht bereikbaar: 06 - 2940 1416. [1]"
    question = "Wat is het telefoonnummer van het OMO?"
    assert typed_off_subject(question, AnswerType.PHONE, None, text, [ngb]) == ["OMO"]
    via_ngb = "Het OMO is in een crisis via het piket van het NGB bereikbaar: 06 - 2940 1416."
    omo = Citation(1, make_passage("omo", via_ngb))
    assert typed_off_subject(question, AnswerType.PHONE, None, f"{via_ngb} [1]", [omo]) == []
    # In a passage about the OMO, a sentence that gives another organisation's number is still not the OMO's.
    about_omo = Citation(1, make_passage("omo", f"Het OMO is op werkdagen bereikbaar. {text[:-4]}"))
    assert typed_off_subject(question, AnswerType.PHONE, None, text, [about_omo]) == ["OMO"]


def test_a_yes_no_question_about_a_status_needs_the_status_in_the_text() -> None:
    assert (
        missing_predicate("Is de MIA verplicht voor gemeenten?", "De MIA is nuttig bij een besluit. [1]") == "verplicht"
    )
    assert missing_predicate("Is het forum openbaar?", "Het forum is niet openbaar, maar besloten. [1]") is None
    assert missing_predicate("Wat doet de MIA?", "De MIA is nuttig. [1]") is None
    scene = "Een inwoner stuurt steeds dreigende mails. Is dat al strafbaar?"  # the question after the scene
    assert missing_predicate(scene, "Bij een ernstige dreiging kan een noodbevel volgen. [1]") == "strafbaar"
    assert missing_predicate(scene, "Een bedreiging is strafbaar als iemand dreigt met geweld. [1]") is None


def test_a_thing_of_a_named_whole_must_be_in_passages_about_that_whole() -> None:
    mia = cited("De MIA is een gesprek aan de hand van vaste dialoogvragen.", title="MIA")
    assert missing_specifics("Welke vragen staan er in het MIA-formulier?", mia) == ["formulier"]
    assert missing_specifics("Is dit een OOV-probleem?", mia) == []  # the passages do not speak of OOV at all


def test_a_question_for_the_next_occasion_is_not_met_by_past_years() -> None:
    question = "Wanneer is de volgende leerkring van het OMO?"
    assert long_past(question, "Het OMO was in december 2020 al actief. [1]", 2026)
    assert not long_past(question, "De volgende leerkring is in maart 2027. [1]", 2026)
    assert not long_past("Wanneer was de eerste leerkring?", "In december 2020. [1]", 2026)


def test_a_question_for_when_a_rule_takes_effect_is_met_by_a_date_it_applies_from_not_by_past_news() -> None:
    question = "Per welke datum gaat het verbod op gezichtsbedekking in?"
    news = "Het verbod bestaat nog niet. Burgemeesters waren er in december 2025 tegen. [1]"
    assert long_past(question, news, 2026)
    assert not long_past(question, "Het verbod geldt sinds 1 januari 2025. [1]", 2026)
    assert not long_past(question, "Het verbod gaat in op 1 juli 2027. [1]", 2026)
    assert long_past("Wanneer treedt de wet in werking?", "Het wetsvoorstel is van maart 2024. [1]", 2026)
    assert not long_past("Wat gebeurde er in 2020?", news, 2026)
