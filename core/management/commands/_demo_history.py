"""The demo tasks' history: created by their lead, some due dates pushed back,
the reasons of the blocked ones (so the portfolio and the task pages have
something to show on the first start)."""

from __future__ import annotations

import datetime
import random

from django.utils import timezone

from core.models import HistoriqueTache, Tache, User

Champ = HistoriqueTache.Champ
SLIP_RATE = 0.2
# Statuses a task leaves "open" for: the day it took one is in its history.
CLOSED = (Tache.Statut.TERMINEE, Tache.Statut.ANNULEE, Tache.Statut.EN_PAUSE)
SLIP_REASONS = [
    "Livraison du fournisseur décalée.",
    "Arbitrage du comité de pilotage : priorité donnée à la recette.",
    "Ressource absente deux semaines.",
    "Dépendance à la mise à jour de l'annuaire.",
]
BLOCK_REASONS = [
    "En attente des accès au serveur de recette.",
    "Bon de commande non signé par la direction financière.",
    "Anomalie bloquante chez l'éditeur, ticket ouvert.",
]


def demo_history(taches: list[Tache], *, rng: random.Random, today: datetime.date) -> int:
    """Write the history rows in one insert; return how many.

    A history the portfolio's trend can read: created weeks ago with the due date
    it had then, pushed back since for some, and the day a closed, paused or
    blocked task took its status."""
    rows: list[HistoriqueTache] = []
    for tache in taches:
        lead = tache.projet.chef_de_projet
        created_on = today - datetime.timedelta(days=rng.randint(45, 90))
        if tache.date_echeance:
            created_on = min(created_on, tache.date_echeance - datetime.timedelta(days=30))
        slips = []
        if tache.is_open and tache.date_echeance and rng.random() < SLIP_RATE:
            slips = _slips(tache, author=lead, rng=rng, today=today)
        first_due = slips[-1].ancienne_echeance if slips else tache.date_echeance
        tache.date_creation = _moment(created_on)
        rows.append(_created(tache, author=lead, when=tache.date_creation, due=first_due))
        rows += slips
        if tache.statut == Tache.Statut.BLOQUEE:
            rows.append(_blocked(tache, rng=rng, today=today))
        elif tache.statut in CLOSED:
            rows.append(_closed(tache, author=lead, rng=rng, today=today, after=created_on))
    HistoriqueTache.objects.bulk_create(rows)
    last_change = {row.tache_id: row.date for row in sorted(rows, key=lambda row: row.date)}
    for tache in taches:
        tache.date_modification = last_change[tache.pk]
    Tache.objects.bulk_update(taches, ["date_creation", "date_modification"], batch_size=1000)
    return len(rows)


def _moment(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(9, 30)))


def _created(
    tache: Tache, *, author: User | None, when: datetime.datetime, due: datetime.date | None
) -> HistoriqueTache:
    return HistoriqueTache(
        tache=tache,
        auteur=author,
        date=when,
        champ=Champ.CREATION,
        nouveau_statut=Tache.Statut.A_FAIRE,
        nouvelle_echeance=due,
        nouveau_responsable=tache.responsable,
    )


def _slips(
    tache: Tache, *, author: User | None, rng: random.Random, today: datetime.date
) -> list[HistoriqueTache]:
    """One or two pushes back ending on today's due date."""
    assert tache.date_echeance is not None
    rows = []
    due = tache.date_echeance
    for n in range(rng.choice([1, 1, 2])):
        earlier = due - datetime.timedelta(days=rng.choice([7, 10, 14]))
        rows.append(
            HistoriqueTache(
                tache=tache,
                auteur=author,
                date=_moment(today - datetime.timedelta(days=10 + 12 * n)),
                champ=Champ.ECHEANCE,
                ancienne_echeance=earlier,
                nouvelle_echeance=due,
                motif=rng.choice(SLIP_REASONS),
            )
        )
        due = earlier
    return rows


def _blocked(tache: Tache, *, rng: random.Random, today: datetime.date) -> HistoriqueTache:
    return HistoriqueTache(
        tache=tache,
        auteur=tache.responsable or tache.projet.chef_de_projet,
        date=_moment(today - datetime.timedelta(days=rng.randint(1, 6))),
        champ=Champ.STATUT,
        ancien_statut=Tache.Statut.EN_COURS,
        nouveau_statut=Tache.Statut.BLOQUEE,
        motif=rng.choice(BLOCK_REASONS),
    )


def _closed(
    tache: Tache,
    *,
    author: User | None,
    rng: random.Random,
    today: datetime.date,
    after: datetime.date,
) -> HistoriqueTache:
    """Done on its completion date; cancelled or paused some days ago."""
    day = tache.date_fin_reelle or today - datetime.timedelta(days=rng.randint(1, 30))
    return HistoriqueTache(
        tache=tache,
        auteur=tache.responsable or author,
        date=_moment(max(day, after + datetime.timedelta(days=1))),
        champ=Champ.STATUT,
        ancien_statut=Tache.Statut.EN_COURS,
        nouveau_statut=tache.statut,
    )
