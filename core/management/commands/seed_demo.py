"""Fill an empty database with a realistic French IT department (demo data).

Run by ``python dev.py run`` on every start: when the database already holds
users or projects it says so and does nothing, so it never mixes demo rows with
real ones. Passwords come from ``DEMO_PASSWORD`` or are generated once, printed,
and kept in ``var/demo_password.txt`` (never in the repository).
"""

from __future__ import annotations

import datetime
import os
import random
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.management.commands._demo_history import demo_history
from core.models import Etape, MembreProjet, Projet, Tache, User
from core.services import portfolio_figures

DOMAIN = "dsi.example.fr"
LEADS = [
    ("sophie.lefevre", "Sophie", "Lefèvre"),
    ("thomas.moreau", "Thomas", "Moreau"),
    ("nathalie.girard", "Nathalie", "Girard"),
    ("julien.fournier", "Julien", "Fournier"),
]
MEMBERS = [
    ("camille.bernard", "Camille", "Bernard"),
    ("lucas.roux", "Lucas", "Roux"),
    ("emma.fontaine", "Emma", "Fontaine"),
    ("hugo.lambert", "Hugo", "Lambert"),
    ("chloe.mercier", "Chloé", "Mercier"),
    ("antoine.faure", "Antoine", "Faure"),
    ("lea.rousseau", "Léa", "Rousseau"),
    ("maxime.blanc", "Maxime", "Blanc"),
    ("manon.garnier", "Manon", "Garnier"),
    ("nicolas.chevalier", "Nicolas", "Chevalier"),
]


@dataclass(frozen=True)
class ProjetSpec:
    code: str
    nom: str
    lead: int  # index in LEADS
    statut: str
    members: tuple[int, ...]  # indexes in MEMBERS
    start_offset: int  # days from today
    weight: int  # share of the tasks


S = Projet.Statut
PROJETS = [
    ProjetSpec("messagerie", "Migration de la messagerie", 0, S.EN_COURS, (0, 2, 3, 4), -120, 5),
    ProjetSpec("intranet", "Refonte du portail intranet", 1, S.EN_COURS, (1, 4, 5, 6), -90, 5),
    ProjetSpec("sirh", "Déploiement du nouveau SIRH", 2, S.EN_COURS, (6, 7, 8, 9), -60, 4),
    ProjetSpec(
        "reseau-agences", "Modernisation du réseau des agences", 3, S.PLANIFIE, (0, 8, 9), 5, 3
    ),
    ProjetSpec("factures", "Dématérialisation des factures", 0, S.TERMINE, (2, 3), -400, 1),
    ProjetSpec("pra", "Plan de reprise d'activité", 1, S.SUSPENDU, (5, 7), -100, 1),
]
# Lucas Roux left the intranet project ten days ago, still owning one of its tasks:
# the check must skip him and say so.
LEFT_MEMBER = ("intranet", 1)

PHASES = ["Cadrage", "Conception", "Réalisation", "Recette", "Mise en production"]
PHASE_DAYS = 36  # the five phases fill the project's 180 planned days
TASK_NAMES = [
    "Rédiger le cahier des charges",
    "Recenser les besoins des directions métier",
    "Valider l'architecture technique",
    "Chiffrer le budget prévisionnel",
    "Présenter le projet au comité de pilotage",
    "Rédiger le dossier de sécurité",
    "Analyser les risques RGPD",
    "Commander les licences",
    "Installer l'environnement de recette",
    "Paramétrer l'annuaire LDAP",
    "Migrer les données historiques",
    "Développer les interfaces avec la comptabilité",
    "Écrire les scénarios de recette",
    "Conduire la recette utilisateurs",
    "Corriger les anomalies bloquantes",
    "Former les référents métier",
    "Rédiger le guide utilisateur",
    "Planifier la bascule",
    "Mettre à jour la documentation d'exploitation",
    "Configurer la supervision",
    "Réaliser le test de charge",
    "Valider le plan de sauvegarde",
    "Organiser la conduite du changement",
    "Mettre en place le support de niveau 1",
    "Dresser le bilan de fin de projet",
    "Résilier l'ancien contrat de maintenance",
    "Inventorier les postes de travail",
    "Auditer les droits d'accès",
]
T = Tache.Statut
STATUT_WEIGHTS = {T.A_FAIRE: 35, T.EN_COURS: 30, T.BLOQUEE: 8, T.EN_PAUSE: 5, T.TERMINEE: 17}
STATUT_WEIGHTS[T.ANNULEE] = 5
P = Tache.Priorite
PRIORITE_WEIGHTS = {P.BASSE: 15, P.NORMALE: 55, P.HAUTE: 22, P.CRITIQUE: 8}
# Open tasks at these offsets from today, so a newcomer sees every alert type at once.
SHOWCASE_OFFSETS = (0, 1, 2, -1, -6)
DUE_RANGE = (-20, 30)
NO_OWNER_RATE = 0.08


class Command(BaseCommand):
    help = _("Fill an empty database with demo data (a French IT department).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--tasks", type=int, default=100, help=_("Number of tasks (default 100).")
        )
        parser.add_argument("--seed", type=int, help=_("Random seed, for reproducible data."))

    def handle(self, *args: Any, **options: Any) -> None:
        tasks: int = options["tasks"]
        if tasks < len(SHOWCASE_OFFSETS):
            raise CommandError(
                _("--tasks must be at least %(minimum)d.") % {"minimum": len(SHOWCASE_OFFSETS)}
            )
        if User.objects.exists() or Projet.objects.exists():
            self.stdout.write(_("The database already holds data: demo data not created."))
            return
        password, generated = _demo_password()
        with transaction.atomic():
            counts = seed(
                rng=random.Random(options["seed"]),  # noqa: S311 (demo data, not crypto)
                today=timezone.localdate(),
                tasks=tasks,
                password=password,
            )
        self._report(counts, password=password, generated=generated)

    def _report(self, counts: dict[str, int], *, password: str, generated: bool) -> None:
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Demo data created: %(users)d users, %(projets)d projects, "
                    "%(etapes)d phases, %(taches)d tasks."
                )
                % counts
            )
        )
        if generated:
            self.stdout.write(
                _("Password of every demo account (user 'admin' included): %(password)s")
                % {"password": password}
            )
            self.stdout.write(_("Saved in %(path)s.") % {"path": _password_file()})
        else:
            self.stdout.write(_("Demo accounts use the password from DEMO_PASSWORD."))


def _password_file() -> Path:
    return Path(settings.VAR_DIR) / "demo_password.txt"


def _demo_password() -> tuple[str, bool]:
    """The demo password and whether it was generated (then saved, owner-only)."""
    from_env = os.environ.get("DEMO_PASSWORD", "").strip()
    if from_env:
        return from_env, False
    password = secrets.token_urlsafe(12)
    path = _password_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(password + "\n", encoding="utf-8")
    path.chmod(0o600)
    return password, True


def seed(*, rng: random.Random, today: datetime.date, tasks: int, password: str) -> dict[str, int]:
    """Create the whole demo organisation; return how many rows of each kind."""
    password_hash = make_password(password)  # hashed once: the slow part of user creation
    User.objects.create(
        username="admin",
        email=f"admin@{DOMAIN}",
        first_name="Admin",
        last_name="DSI",
        is_staff=True,
        is_superuser=True,
        password=password_hash,
    )
    leads = _users(LEADS, password_hash=password_hash)
    members = _users(MEMBERS, password_hash=password_hash)
    projets = [_projet(spec, leads=leads, today=today) for spec in PROJETS]
    _memberships(projets, members=members, today=today)
    etapes = _etapes(projets, today=today)
    taches = _taches(projets, etapes=etapes, members=members, rng=rng, today=today, total=tasks)
    demo_history(taches, rng=rng, today=today)
    # Written in bulk with a history back in time: the portfolio's figures and
    # trend points as the morning run leaves them.
    portfolio_figures.morning_refresh(today=today)
    return {
        "users": 1 + len(leads) + len(members),
        "projets": len(projets),
        "etapes": sum(len(e) for e in etapes.values()),
        "taches": len(taches),
    }


def _users(people: list[tuple[str, str, str]], *, password_hash: str) -> list[User]:
    return User.objects.bulk_create(
        User(
            username=username,
            first_name=first,
            last_name=last,
            email=f"{username}@{DOMAIN}",
            password=password_hash,
        )
        for username, first, last in people
    )


def _projet(spec: ProjetSpec, *, leads: list[User], today: datetime.date) -> Projet:
    start = today + datetime.timedelta(days=spec.start_offset)
    end = start + datetime.timedelta(days=PHASE_DAYS * len(PHASES) - 1)
    return Projet.objects.create(
        code=spec.code,
        nom=spec.nom,
        description=_demo_description(spec),
        chef_de_projet=leads[spec.lead],
        statut=spec.statut,
        date_debut=start,
        date_fin_prevue=end,
    )


def _demo_description(spec: ProjetSpec) -> str:
    return f"{spec.nom} : projet de démonstration de la DSI."


def _memberships(projets: list[Projet], *, members: list[User], today: datetime.date) -> None:
    rows = []
    for spec, projet in zip(PROJETS, projets, strict=True):
        for index in spec.members:
            left = (spec.code, index) == LEFT_MEMBER
            rows.append(
                MembreProjet(
                    projet=projet,
                    utilisateur=members[index],
                    role=MembreProjet.Role.MEMBRE,
                    # Staffed before a planned project starts, so its members have access.
                    date_debut=min(projet.date_debut or today, today),
                    date_fin=today - datetime.timedelta(days=10) if left else None,
                )
            )
    MembreProjet.objects.bulk_create(rows)


def _etapes(projets: list[Projet], *, today: datetime.date) -> dict[int, list[Etape]]:
    rows = []
    for projet in projets:
        start = projet.date_debut or today
        for ordre, nom in enumerate(PHASES, start=1):
            rows.append(
                Etape(
                    projet=projet,
                    nom=nom,
                    ordre=ordre,
                    date_debut_prevue=start + datetime.timedelta(days=PHASE_DAYS * (ordre - 1)),
                    date_fin_prevue=start + datetime.timedelta(days=PHASE_DAYS * ordre - 1),
                )
            )
    by_project: dict[int, list[Etape]] = {}
    for etape in Etape.objects.bulk_create(rows):
        by_project.setdefault(etape.projet_id, []).append(etape)
    return by_project


def _taches(
    projets: list[Projet],
    *,
    etapes: dict[int, list[Etape]],
    members: list[User],
    rng: random.Random,
    today: datetime.date,
    total: int,
) -> list[Tache]:
    owners = {
        p.pk: _owners(spec, p, members=members) for spec, p in zip(PROJETS, projets, strict=True)
    }
    weights = [spec.weight for spec in PROJETS]
    showcase = _showcase(projets, etapes=etapes, members=members, today=today)
    rows = list(showcase)
    names: dict[tuple[int, str], int] = {}
    for _index in range(total - len(showcase)):
        projet = rng.choices(projets, weights=weights)[0]
        rows.append(
            _random_task(
                projet, etapes=etapes[projet.pk], owners=owners[projet.pk], rng=rng, today=today
            )
        )
    for row in rows:
        seen = names.get((row.projet_id, row.nom), 0) + 1
        names[(row.projet_id, row.nom)] = seen
        if seen > 1:
            row.nom = f"{row.nom} (lot {seen})"
    return Tache.objects.bulk_create(rows)


def _owners(spec: ProjetSpec, projet: Projet, *, members: list[User]) -> list[User]:
    """Who may own a task: the lead and the members still in the project."""
    current = [members[i] for i in spec.members if (spec.code, i) != LEFT_MEMBER]
    return [projet.chef_de_projet, *current]


def _showcase(
    projets: list[Projet],
    *,
    etapes: dict[int, list[Etape]],
    members: list[User],
    today: datetime.date,
) -> list[Tache]:
    """A few open tasks of active projects due today, soon and late; one owned by a leaver."""
    by_code = {p.code: p for p in projets}
    rows: list[Tache] = []
    for offset, (code, owner_index) in zip(
        SHOWCASE_OFFSETS,
        [("messagerie", 0), ("sirh", 7), ("messagerie", 2), ("intranet", 1), ("sirh", 9)],
        strict=True,
    ):
        due = today + datetime.timedelta(days=offset)
        rows.append(
            Tache(
                projet=by_code[code],
                etape=_phase_of(due, etapes[by_code[code].pk]),
                nom=TASK_NAMES[len(rows) * 3],
                responsable=members[owner_index],
                statut=T.EN_COURS,
                priorite=P.HAUTE,
                date_echeance=due,
                avancement=50,
            )
        )
    return rows


def _random_task(
    projet: Projet,
    *,
    etapes: list[Etape],
    owners: list[User],
    rng: random.Random,
    today: datetime.date,
) -> Tache:
    """A task due inside one of its project's phases; a finished project's are closed."""
    statut = _statut_for(projet, rng=rng)
    due = _due_date(projet, etapes=etapes, rng=rng, today=today)
    done_on = None
    if statut == T.TERMINEE:
        done_on = min(today, due + datetime.timedelta(days=rng.randint(-5, 3)))
    return Tache(
        projet=projet,
        etape=_phase_of(due, etapes),
        nom=rng.choice(TASK_NAMES),
        description="",
        responsable=None if rng.random() < NO_OWNER_RATE else rng.choice(owners),
        statut=statut,
        priorite=rng.choices(list(PRIORITE_WEIGHTS), weights=list(PRIORITE_WEIGHTS.values()))[0],
        date_echeance=due,
        date_fin_reelle=done_on,
        avancement=_progress(statut, rng=rng),
    )


def _due_date(
    projet: Projet, *, etapes: list[Etape], rng: random.Random, today: datetime.date
) -> datetime.date:
    """Around today for a running project, within its phases whatever its status."""
    first = etapes[0].date_debut_prevue or today
    last = etapes[-1].date_fin_prevue or today
    if projet.statut == S.TERMINE:
        low, high = first, last
    else:
        low = max(first, today + datetime.timedelta(days=DUE_RANGE[0]))
        high = min(last, today + datetime.timedelta(days=DUE_RANGE[1]))
    return low + datetime.timedelta(days=rng.randint(0, max(0, (high - low).days)))


def _phase_of(due: datetime.date, etapes: list[Etape]) -> Etape:
    """The phase whose planned dates hold ``due`` (the last one otherwise)."""
    for etape in etapes:
        start, end = etape.date_debut_prevue, etape.date_fin_prevue
        if start is not None and end is not None and start <= due <= end:
            return etape
    return etapes[-1]


def _progress(statut: str, *, rng: random.Random) -> int:
    if statut == T.TERMINEE:
        return 100
    if statut in (T.EN_COURS, T.BLOQUEE, T.EN_PAUSE):
        return rng.randrange(10, 90, 10)
    return 0


def _statut_for(projet: Projet, *, rng: random.Random) -> str:
    if projet.statut == S.TERMINE:
        return rng.choices([T.TERMINEE, T.ANNULEE], weights=[9, 1])[0]
    return rng.choices(list(STATUT_WEIGHTS), weights=list(STATUT_WEIGHTS.values()))[0]
