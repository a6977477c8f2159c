"""factory-boy factories for the domain."""

from __future__ import annotations

import datetime
from typing import Any

import factory
from django.contrib.auth.models import Permission
from django.utils import timezone

from core.models import (
    Etape,
    HistoriqueTache,
    MembreProjet,
    NotificationTache,
    Projet,
    Tache,
    User,
)
from core.services import portfolio_figures


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    email = factory.LazyAttribute(lambda u: f"{u.username}@dsi.example.org")
    password = factory.django.Password("motdepasse-test")


def grant(user: User, *perms: str) -> User:
    """Give ``user`` the permissions named ``"app_label.codename"`` (directly, not
    through the migration's groups: a transactional test's flush drops groups)."""
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


# What the two groups of migration 0008 give.
PORTFOLIO = ("core.view_portfolio",)
SUPERVISION = ("core.view_supervision", "core.run_job")


class ProjetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Projet

    nom = factory.Sequence(lambda n: f"Projet {n}")
    code = factory.Sequence(lambda n: f"prj-{n}")
    chef_de_projet = factory.SubFactory(UserFactory)
    statut = Projet.Statut.EN_COURS


class MembreProjetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MembreProjet

    projet = factory.SubFactory(ProjetFactory)
    utilisateur = factory.SubFactory(UserFactory)
    date_debut = datetime.date(2020, 1, 1)


class EtapeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Etape

    projet = factory.SubFactory(ProjetFactory)
    nom = factory.Sequence(lambda n: f"Étape {n}")
    ordre = factory.Sequence(lambda n: n + 1)


class TacheFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tache

    projet = factory.SubFactory(ProjetFactory)
    nom = factory.Sequence(lambda n: f"Tâche {n}")
    statut = Tache.Statut.A_FAIRE
    date_echeance = factory.LazyFunction(timezone.localdate)

    @classmethod
    def _create(cls, model_class: type[Tache], *args: Any, **kwargs: Any) -> Tache:
        """Saved as the application's writes save a task: its project's portfolio
        figures counted again in the same transaction."""
        tache: Tache = super()._create(model_class, *args, **kwargs)
        portfolio_figures.refresh_projects([tache.projet_id])
        return tache


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NotificationTache

    destinataire = factory.SubFactory(UserFactory)
    tache = factory.SubFactory(TacheFactory)
    type_notification = NotificationTache.Type.ALERTE_RETARD
    titre = factory.Sequence(lambda n: f"Notification {n}")
    message = "Message de test."


def add_comments(tache: Tache, n: int, *, auteur: User | None = None) -> None:
    """``n`` comments in ``tache``'s history, a minute apart, the newest now and
    numbered from the oldest ("Note 0") to the newest, in one insert."""
    now = timezone.now()
    HistoriqueTache.objects.bulk_create(
        HistoriqueTache(
            tache=tache,
            auteur=auteur,
            champ=HistoriqueTache.Champ.COMMENTAIRE,
            date=now - datetime.timedelta(minutes=n - 1 - i),
            motif=f"Note {i}",
        )
        for i in range(n)
    )


def add_projects(n: int, *, lead: User, member: User | None = None, tasks: int = 3) -> None:
    """``n`` more projects led by ``lead`` (``member`` one of each), named so that
    the list's order is their number's, with a late, an open and a done task."""
    start, today = Projet.objects.count(), timezone.localdate()
    projets = Projet.objects.bulk_create(
        Projet(nom=f"Projet {i:05d}", code=f"p{i:05d}", chef_de_projet=lead)
        for i in range(start, start + n)
    )
    statuts = [Tache.Statut.A_FAIRE, Tache.Statut.EN_COURS, Tache.Statut.TERMINEE]
    Tache.objects.bulk_create(
        Tache(
            projet=projet,
            nom=f"Tâche {k}",
            statut=statuts[k % 3],
            date_echeance=today + datetime.timedelta(days=k - 1),
        )
        for projet in projets
        for k in range(tasks)
    )
    if member is not None:
        for projet in projets:
            MembreProjetFactory(projet=projet, utilisateur=member)
