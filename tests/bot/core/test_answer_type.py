"""The answer-type check: which questions ask for a kind of fact, and which texts hold one."""

from __future__ import annotations

import pytest

from bot.core.answer_type import AnswerType, counted, expected_type, satisfies

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Wat is het telefoonnummer van het OMO?", AnswerType.PHONE),
        ("Op welk e-mailadres bereik ik het OMO?", AnswerType.EMAIL),
        ("Wat is de url van het forum?", AnswerType.LINK),
        ("Hoeveel gemeenten doen mee?", AnswerType.NUMBER),
        ("Kost advies van het OMO geld?", AnswerType.AMOUNT),
        ("Hoeveel geld krijgt mijn gemeente?", AnswerType.AMOUNT),
        ("Welke boete staat op het overtreden van een noodverordening?", AnswerType.AMOUNT),
        ("Wat is het budget voor de agenda?", AnswerType.AMOUNT),
        ("En wat staat erop als iemand zich er niet aan houdt?", AnswerType.PENALTY),
        ("Hoe lang mag een bestuurlijke ophouding duren?", AnswerType.DURATION),
        ("Hoeveel tijd van tevoren moet ik een demonstratie melden?", AnswerType.DURATION),
        ("Wanneer is de volgende leerkring?", AnswerType.DATE),
        ("Hoe laat begint het overleg?", AnswerType.TIME),
        ("Sinds wanneer is doxing strafbaar?", AnswerType.DATE),
        ("Wie beslist over een noodverordening?", AnswerType.PERSON),
        # "wanneer" mostly means "in which case": not a request for a date
        ("Wanneer moet ik een vergunning aanvragen voor een demonstratie?", None),
        ("Stuurt de gemeente een antwoord op mijn e-mail?", None),
        ("Kan ik het ondersteuningsteam 's nachts bellen?", None),
        ("Wat is de MIA?", None),
    ],
)
def test_expected_type(question: str, kind: AnswerType | None) -> None:
    assert expected_type(question) is kind


def test_citation_markers_do_not_count_as_numbers() -> None:
    assert not satisfies(AnswerType.NUMBER, "Het OMO geeft advies op maat. [1]")
    assert satisfies(AnswerType.NUMBER, "De agenda kent zeven actielijnen. [1]")
    assert satisfies(AnswerType.NUMBER, "Ongeveer 25 zaken per jaar. [2]")


@pytest.mark.parametrize(
    "text",
    [
        "De Agenda Maatschappelijke Onrust 2024-2026 kent drie thema's. [1]",
        "Dat staat in artikel 175 van de Gemeentewet. [1]",
        "Zie artikel 5, lid 2 van de Wet openbare manifestaties. [1]",
        "Het beleid geldt sinds 2021. [1]",
    ],
)
def test_years_ranges_and_article_numbers_are_no_phone_numbers_or_amounts(text: str) -> None:
    assert not satisfies(AnswerType.PHONE, text)
    assert not satisfies(AnswerType.AMOUNT, text)
    assert not satisfies(AnswerType.NUMBER, text.replace("drie", "enkele"))


def test_evidence_of_each_kind() -> None:
    assert satisfies(AnswerType.PHONE, "Bel 070 - 373 83 14. [1]") and not satisfies(AnswerType.PHONE, "Bel ons. [1]")
    assert satisfies(AnswerType.EMAIL, "Mail naar omo@example.nl. [1]") and not satisfies(AnswerType.EMAIL, "Mail ons.")
    assert satisfies(AnswerType.LINK, "Zie https://example.nl/forum. [1]") and not satisfies(
        AnswerType.LINK, "Zie VNG Fora."
    )
    assert satisfies(AnswerType.AMOUNT, "Het kost € 75. [2]") and satisfies(
        AnswerType.AMOUNT, "Aan een melding zijn geen kosten verbonden."
    )
    assert not satisfies(AnswerType.AMOUNT, "Het kabinet trekt geld uit. [1]")
    assert satisfies(AnswerType.PENALTY, "Hechtenis van maximaal twee maanden. [1]")
    assert satisfies(AnswerType.DURATION, "De ophouding duurt maximaal 12 uur. [1]")
    assert satisfies(AnswerType.DURATION, "Het bevel geldt ten hoogste drie maanden. [1]")
    assert not satisfies(AnswerType.DURATION, "Het bevel geldt in de hele gemeente. [1]")
    assert satisfies(AnswerType.DATE, "Op 12 maart. [1]") and not satisfies(AnswerType.DATE, "Binnenkort. [1]")
    assert satisfies(AnswerType.TIME, "De vergadering begint om 19.30 uur. [1]")
    assert not satisfies(AnswerType.TIME, "Op zondag gelden extra regels voor geluid. [1]")
    assert satisfies(AnswerType.PERSON, "Dat beslist de burgemeester. [1]")
    assert not satisfies(AnswerType.PERSON, "dat gebeurt zo snel mogelijk. [1]")
    assert satisfies(None, "Wat dan ook.")


def test_a_count_needs_a_figure_beside_what_is_counted() -> None:
    assert counted("Hoeveel leden heeft het forum?") == "leden"
    assert counted("Om hoeveel zelfverklaarde soevereinen gaat het?") == "soevereinen"
    assert counted("Hoeveel mensen zijn er opgepakt?") is None and counted("met hoeveel waren ze?") is None
    text = "Het forum kent drie thema's en heeft leden uit alle gemeenten. [1]"
    assert not satisfies(AnswerType.NUMBER, text, "leden")
    assert satisfies(AnswerType.NUMBER, "Het forum heeft ruim 400 leden. [1]", "leden")
    assert satisfies(AnswerType.NUMBER, "Er doen 25 gemeenten mee. [1]", "gemeenten")
    assert satisfies(AnswerType.NUMBER, "Het gaat om enkele tienduizenden soevereinen. [1]", "soevereinen")


def test_a_question_for_someone_by_name_needs_a_name() -> None:
    assert expected_type("Hoe heet de voorzitter van het OMO?") is AnswerType.NAME
    assert expected_type("Wie zitten er in het OMO-team?") is AnswerType.NAME
    assert expected_type("Wie beslist over een noodbevel?") is AnswerType.PERSON
    assert satisfies(AnswerType.NAME, "Het team wordt geleid door Jan de Vries. [1]")
    assert not satisfies(AnswerType.NAME, "Het OMO is een netwerk van de VNG en het Rijk. [1]")


def test_who_takes_part_in_a_body_is_told_by_functions_as_well_as_by_names() -> None:
    question = "Wie zit er in de driehoek?"
    assert expected_type(question) is AnswerType.NAME
    roles = "De driehoek bestaat uit de burgemeester, de officier van justitie en de politiechef. [1]"
    assert satisfies(AnswerType.NAME, roles, question=question)
    assert not satisfies(AnswerType.NAME, "In de driehoek overlegt de burgemeester geregeld. [1]", question=question)
    team = "In het OMO werken de ministeries, de VNG, de politie en de burgemeesters samen. [1]"
    assert not satisfies(AnswerType.NAME, team, question="Wie zitten er in het OMO-team?")  # no one's function
    assert not satisfies(AnswerType.NAME, roles, question="Hoe heet de burgemeester?")  # a name, not a function


def test_a_name_asked_for_is_a_new_one_not_an_organisation_or_the_questions_own() -> None:
    question = "Wie is bij de VNG de contactpersoon voor maatschappelijke onrust?"
    assert expected_type(question) is AnswerType.NAME
    assert not satisfies(
        AnswerType.NAME, "Het Forum Maatschappelijke Onrust is een forum van de VNG. [1]", question=question
    )
    assert satisfies(AnswerType.NAME, "Contactpersoon is Hugo de Jonge. [1]", question=question)
    assert not satisfies(AnswerType.NAME, "Hugo de Jonge leidt het.", question="Wat doet Hugo de Jonge?")


def test_a_name_asked_for_by_its_role_is_given_as_the_holder_of_that_role() -> None:
    question = "Wie is de huidige voorzitter van het Netwerk Weerbaar Bestuur?"
    ambassador = "Oud-commandant Tom Middendorp was in 2019 ambassadeur van het netwerk. [1]"
    assert not satisfies(AnswerType.NAME, ambassador, question=question)
    assert satisfies(AnswerType.NAME, f"{ambassador} Voorzitter is Jan de Vries. [2]", question=question)


def test_which_municipality_asks_for_a_place_and_which_ministry_for_a_ministry() -> None:
    assert expected_type("In welke gemeente werd het gemeentehuis bestormd?") is AnswerType.PLACE
    assert satisfies(AnswerType.PLACE, "Dat gebeurde in Steenbergen. [1]", question="In welke gemeente?")
    assert satisfies(AnswerType.PLACE, "In Steenbergen werd de ingang geforceerd. [1]", question="Welke gemeente?")
    assert not satisfies(AnswerType.PLACE, "Een groep azc-tegenstanders had zich verzameld. [1]")
    assert expected_type("Welk ministerie financiert de agenda?") is AnswerType.MINISTRY
    assert satisfies(AnswerType.MINISTRY, "Het ministerie van BZK betaalt mee. [1]")
    assert satisfies(AnswerType.MINISTRY, "De VNG krijgt geld van SZW. [1]")
    assert not satisfies(AnswerType.MINISTRY, "De Vereniging van Nederlandse Gemeenten maakte het plan. [1]")


def test_how_many_fines_is_a_count_not_an_amount() -> None:
    assert expected_type("Hoeveel boetes zijn er uitgedeeld?") is AnswerType.NUMBER
    assert counted("Hoeveel boetes zijn er uitgedeeld?") == "boetes"
    assert expected_type("Welke boete staat erop?") is AnswerType.AMOUNT


def test_a_count_stands_in_a_sentence_about_what_the_question_asks() -> None:
    question = "Hoeveel gemeenten doen mee met de agenda?"
    other = "Uit een peiling bleek dat de helft van de gemeenten desinformatie tegenkwam. [1]"
    assert not satisfies(AnswerType.NUMBER, other, counted(question), question)
    assert satisfies(AnswerType.NUMBER, "Aan de agenda doen 120 gemeenten mee. [1]", counted(question), question)
    assert counted("hoeveel daarvan zijn gewelddadig?") is None


def test_a_thing_counted_under_another_name_is_still_counted() -> None:
    question = "Hoeveel casussen doet het team per jaar?"
    cases = "Het team behandelt jaarlijks ongeveer 25 zaken van agressie. [1]"
    assert satisfies(AnswerType.NUMBER, cases, counted(question), question)
    assert not satisfies(AnswerType.NUMBER, "Het team bestaat vijf jaar. [1]", counted(question), question)


def test_a_sum_of_money_must_be_about_what_the_question_is_about() -> None:
    question = "Hoeveel budget heeft de VNG voor deze agenda uitgetrokken?"
    request = "De VNG vroeg in 2021 om 5,8 miljoen euro per jaar voor de aanpak van onrust. [1]"
    assert not satisfies(AnswerType.AMOUNT, request, question=question)
    assert satisfies(AnswerType.AMOUNT, "Voor de agenda trekt de VNG 2 miljoen euro uit. [1]", question=question)
    assert satisfies(AnswerType.AMOUNT, "Een paspoort kost € 77,85. [1]", question="Wat kost een paspoort?")
