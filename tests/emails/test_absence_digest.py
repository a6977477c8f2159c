"""The catch-up digest: on the first working day back, one email of what the
leads got in one's stead, and of one's late tasks; never twice, never empty."""

from __future__ import annotations

import datetime

from core.models import Absence, OutboundEmail
from core.services.absence_digest import digest_key, queue_absence_digests
from core.services.daily_check import run_deadline_check
from tests.conftest import World
from tests.factories import TacheFactory, UserFactory

DAY = datetime.timedelta(days=1)
# March 2027: Monday 1st to Friday 5th, the weekend, Monday 8th.
MON, WED, THU, FRI = (datetime.date(2027, 3, d) for d in (1, 3, 4, 5))
SAT, SUN, NEXT_MON = (datetime.date(2027, 3, d) for d in (6, 7, 8))


def digests() -> list[OutboundEmail]:
    return list(OutboundEmail.objects.filter(dedup_key__startswith="absence-digest:"))


def every_day(first: datetime.date, last: datetime.date) -> list[int]:
    """Run the daily check each day; the digests queued each day."""
    queued = []
    while first <= last:
        run_deadline_check(today=first)
        queued.append(len(digests()))
        first += DAY
    return queued


def test_an_absence_ending_on_friday_gets_its_digest_on_monday(world: World) -> None:
    absence = Absence.objects.create(utilisateur=world.bob, debut=MON, fin=FRI)
    TacheFactory(projet=world.projet, responsable=world.bob, nom="Recette", date_echeance=WED)
    TacheFactory(projet=world.projet, responsable=world.bob, nom="Bascule", date_echeance=NEXT_MON)
    TacheFactory(projet=world.projet, responsable=world.bob, nom="Livrée", date_echeance=MON)
    TacheFactory(projet=world.projet, responsable=world.alice, nom="Budget", date_echeance=MON)

    assert every_day(MON, NEXT_MON) == [0, 0, 0, 0, 0, 0, 0, 1]
    run_deadline_check(today=NEXT_MON)  # a rerun queues nothing again

    (email,) = digests()
    assert (email.recipient, email.dedup_key) == (world.bob, digest_key(absence.pk))
    assert email.kind == OutboundEmail.Kind.ALERTS
    text, html = email.body_text, email.body_html
    assert "Bonjour Bob Durand," in text
    assert "du 1er mars 2027 au 5 mars 2027" in text.replace("\xa0", " ")
    # Recette: due today on Wednesday, then late Thursday and Friday; Bascule: its
    # advance alert on Friday (its two days before fall on the weekend); Livrée
    # and Budget: late all week (Budget is alice's own, never delegated).
    for name in ("Recette", "Bascule", "Livrée"):
        assert name in text and name in html
    assert "Budget" not in text
    assert "Alice Martin" in text
    assert "11 alertes ont été envoyées à votre place" in text
    # In the order they came: Monday's first.
    assert text.index("Le 1er\xa0mars 2027") < text.index("Le 5\xa0mars 2027")
    # Late today: Recette (due Wednesday) and Livrée (due Monday), oldest first.
    late = text.split("de vos tâches sont en retard")[1]
    assert late.index("Livrée") < late.index("Recette") and "Bascule" not in late
    assert "Welcome" not in text and "Welcome" not in email.subject
    assert email.subject.startswith("Bon retour")


def test_an_absence_ending_midweek_gets_its_digest_the_next_day(world: World) -> None:
    Absence.objects.create(utilisateur=world.bob, debut=MON, fin=WED)
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=WED)

    assert every_day(MON, FRI) == [0, 0, 0, 1, 1]


def test_no_digest_on_a_non_working_day_nor_when_away_again(world: World) -> None:
    Absence.objects.create(utilisateur=world.bob, debut=MON, fin=THU)
    Absence.objects.create(utilisateur=world.bob, debut=FRI, fin=FRI)
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=MON)

    assert queue_absence_digests(today=SAT) == 0
    assert queue_absence_digests(today=FRI) == 0  # away again: not back yet
    assert queue_absence_digests(today=NEXT_MON) == 1  # the second absence's


def test_nothing_to_catch_up_on_no_email(world: World) -> None:
    Absence.objects.create(utilisateur=world.bob, debut=MON, fin=FRI)
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=NEXT_MON + 7 * DAY)

    assert every_day(MON, NEXT_MON)[-1] == 0


def test_opted_out_users_get_no_digest(world: World) -> None:
    world.bob.email_alerts = False
    world.bob.save()
    Absence.objects.create(utilisateur=world.bob, debut=MON, fin=FRI)
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=MON)

    assert every_day(MON, NEXT_MON)[-1] == 0


def test_chunks_of_users_each_get_their_own_digest(world: World) -> None:
    others = [UserFactory() for _ in range(3)]
    for user in [world.bob, *others]:
        world.projet.membres.add(user)
        Absence.objects.create(utilisateur=user, debut=MON, fin=FRI)
        TacheFactory(
            projet=world.projet, responsable=user, nom=f"T-{user.username}", date_echeance=THU
        )
    for day in (THU, FRI):
        run_deadline_check(today=day)

    assert queue_absence_digests(today=NEXT_MON, chunk_size=2) == 4
    assert queue_absence_digests(today=NEXT_MON, chunk_size=2) == 0
    for email in digests():
        assert f"T-{email.recipient.username}" in email.body_text
        # Thursday's and Friday's alerts, the task late today; nobody else's.
        assert email.body_text.count("T-") == 3
