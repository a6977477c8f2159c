"""Writes to a project, its phases and its members, with their history.

Every write locks the project row (``select_for_update``), compares with what is
stored, saves, and writes one ``HistoriqueProjet`` row per changed field in the
same transaction: the history never misses a change made through the
application, nor records one rolled back. Locking the project serialises the
writes to its phases and members too (the phase numbers, the memberships).

Values are kept as stored: a status or role code, an ISO date, a user's id; the
history page shows them in the reader's language (``core.selectors.project_history``).
Each function works on one object, so a bulk import calls them row by row.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Max
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from core.models import Etape, HistoriqueProjet, MembreProjet, NotificationTache, Projet, User

Action = HistoriqueProjet.Action
Sujet = HistoriqueProjet.Sujet

# What the lead edits on the project (the code stays as created: others refer to it).
PROJECT_FIELDS = ("nom", "description", "statut", "date_debut", "date_fin_prevue")
# What a project starts with, in its history.
CREATION_FIELDS = ("code", "nom", "chef_de_projet", *PROJECT_FIELDS[1:])
PHASE_FIELDS = ("nom", "ordre", "date_debut_prevue", "date_fin_prevue")
VALUE_MAX = 200  # HistoriqueProjet.ancienne_valeur / nouvelle_valeur
TITLE_MAX = 255  # NotificationTache.titre
UP, DOWN = "up", "down"


def stored(value: object) -> str:
    """A value as the history keeps it: ISO dates, ids, codes; long text cut."""
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return str(value.pk)
    text = str(value)
    return text if len(text) <= VALUE_MAX else text[: VALUE_MAX - 1] + "…"


def check_dates(start: datetime.date | None, end: datetime.date | None) -> None:
    """A planned end before its start is refused (the project's and a phase's)."""
    if start is not None and end is not None and end < start:
        raise ValidationError(
            _("The planned end (%(end)s) is before the start (%(start)s)."),
            code="dates_order",
            params={"end": short_date(end), "start": short_date(start)},
        )


def check_lead(user: User) -> None:
    if not user.is_active:
        raise ValidationError(
            _("The account of %(name)s is deactivated: it cannot lead a project."),
            code="inactive_lead",
            params={"name": str(user)},
        )


def short_date(value: datetime.date) -> str:
    return formats.date_format(value, "SHORT_DATE_FORMAT")


class _History:
    """The rows of one change, written at once."""

    def __init__(self, projet: Projet, author: User | None, *, reason: str = "") -> None:
        self.projet, self.author, self.reason = projet, author, reason
        self.now = timezone.now()
        self.rows: list[HistoriqueProjet] = []

    def add(
        self, action: str, champ: str = "", old: object = None, new: object = None, **about: Any
    ) -> None:
        self.rows.append(
            HistoriqueProjet(
                projet=self.projet,
                auteur=self.author,
                date=self.now,
                action=action,
                champ=champ,
                ancienne_valeur=stored(old),
                nouvelle_valeur=stored(new),
                motif=self.reason,
                **about,
            )
        )

    def changes(
        self, action: str, before: Mapping[str, object], after: object, **about: Any
    ) -> None:
        """One row per field of ``before`` whose stored value differs on ``after``."""
        for champ, old in before.items():
            new = getattr(after, champ)
            if stored(new) != stored(old):
                self.add(action, champ, old, new, **about)

    def save(self) -> list[HistoriqueProjet]:
        return HistoriqueProjet.objects.bulk_create(self.rows)


def _lock(projet_id: int) -> Projet:
    return Projet.objects.select_for_update().get(pk=projet_id)


def _values(obj: object, fields: tuple[str, ...]) -> dict[str, object]:
    return {field: getattr(obj, field) for field in fields}


# The project


def create_project(
    *,
    code: str,
    nom: str,
    chef_de_projet: User,
    author: User | None,
    statut: str = Projet.Statut.EN_COURS,
    date_debut: datetime.date | None = None,
    date_fin_prevue: datetime.date | None = None,
    description: str = "",
) -> Projet:
    """A new project, its history opened with the values it starts with."""
    check_lead(chef_de_projet)
    check_dates(date_debut, date_fin_prevue)
    projet = Projet(
        code=code,
        nom=nom,
        chef_de_projet=chef_de_projet,
        statut=statut,
        date_debut=date_debut,
        date_fin_prevue=date_fin_prevue,
        description=description,
    )
    with transaction.atomic():
        try:
            with transaction.atomic():
                projet.save()
        except IntegrityError as error:  # two creations of one code at once
            raise ValidationError(
                _("The code %(code)s is already used by another project."),
                code="code_taken",
                params={"code": code},
            ) from error
        history = _History(projet, author)
        for champ in CREATION_FIELDS:
            if stored(getattr(projet, champ)):
                history.add(Action.CREATION, champ, None, getattr(projet, champ))
        history.save()
    return projet


def update_project(
    *, projet_id: int, author: User, values: Mapping[str, object], reason: str = ""
) -> list[HistoriqueProjet]:
    """The lead's edit of ``PROJECT_FIELDS``: one history row per changed field."""
    unknown = set(values) - set(PROJECT_FIELDS)
    if unknown:
        raise ValueError(f"not editable here: {sorted(unknown)}")
    with transaction.atomic():
        projet = _lock(projet_id)
        before = _values(projet, tuple(values))
        for field, value in values.items():
            setattr(projet, field, value)
        check_dates(projet.date_debut, projet.date_fin_prevue)
        history = _History(projet, author, reason=reason)
        history.changes(Action.MODIFICATION, before, projet)
        if history.rows:
            projet.save(update_fields=[*values, "date_modification"])
        return history.save()


def save_project(*, projet: Projet, author: User | None) -> list[HistoriqueProjet]:
    """The administrators' save of every field (the Django admin): the history as
    for the lead's edits, the opening rows of a new project included."""
    with transaction.atomic():
        if projet.pk is None:
            projet.save()
            history = _History(projet, author)
            for champ in CREATION_FIELDS:
                if stored(getattr(projet, champ)):
                    history.add(Action.CREATION, champ, None, getattr(projet, champ))
            return history.save()
        before = _values(_lock(projet.pk), CREATION_FIELDS)
        projet.save()
        history = _History(projet, author)
        history.changes(Action.MODIFICATION, before, projet)
        return history.save()


def hand_over(
    *, projet_id: int, new_lead: User, author: User, today: datetime.date, reason: str = ""
) -> list[HistoriqueProjet]:
    """Another lead for the project; the old one stays (or becomes again) a member."""
    check_lead(new_lead)
    with transaction.atomic():
        projet = _lock(projet_id)
        old_lead = projet.chef_de_projet
        if old_lead.pk == new_lead.pk:
            raise ValidationError(
                _("%(name)s already leads this project."),
                code="same_lead",
                params={"name": str(new_lead)},
            )
        projet.chef_de_projet = new_lead
        projet.save(update_fields=["chef_de_projet", "date_modification"])
        history = _History(projet, author, reason=reason)
        history.add(Action.PASSATION, "chef_de_projet", old_lead, new_lead)
        _keep_as_member(projet, old_lead, today=today, history=history)
        if new_lead.pk != author.pk:
            _tell_new_lead(projet, author=author, reason=reason)
        return history.save()


def _tell_new_lead(projet: Projet, *, author: User, reason: str) -> NotificationTache:
    """In the notification centre, in the site's language as the events are.
    Not emailed: the events email speaks of tasks (``task_events``)."""
    with override(settings.LANGUAGE_CODE):
        values = {"projet": projet.nom, "auteur": str(author)}
        message = _('%(auteur)s handed the project "%(projet)s" over to you: you lead it now.')
        message %= values
        if reason.strip():
            message += " " + _("Reason: %(motif)s") % {"motif": reason.strip()}
        return NotificationTache.objects.create(
            destinataire=projet.chef_de_projet,
            projet=projet,
            type_notification=NotificationTache.Type.PASSATION,
            titre=(_("Project handed over to you: %(projet)s") % values)[:TITLE_MAX],
            message=message,
        )


def _keep_as_member(projet: Projet, user: User, *, today: datetime.date, history: _History) -> None:
    membership = MembreProjet.objects.filter(projet=projet, utilisateur=user).first()
    if membership is not None and membership.date_fin is None:
        return
    _join(projet, user, role=MembreProjet.Role.MEMBRE, date_debut=today, history=history)


# Phases


def add_phase(
    *,
    projet_id: int,
    author: User,
    nom: str,
    ordre: int | None = None,
    date_debut_prevue: datetime.date | None = None,
    date_fin_prevue: datetime.date | None = None,
) -> Etape:
    """A new phase, numbered after the last one unless ``ordre`` is given (free)."""
    check_dates(date_debut_prevue, date_fin_prevue)
    with transaction.atomic():
        projet = _lock(projet_id)
        if ordre is None:
            ordre = _last_number(projet) + 1
        else:
            _require_free_number(projet, ordre)
        etape = Etape.objects.create(
            projet=projet,
            nom=nom,
            ordre=ordre,
            date_debut_prevue=date_debut_prevue,
            date_fin_prevue=date_fin_prevue,
        )
        history = _History(projet, author)
        for champ in PHASE_FIELDS:
            if stored(getattr(etape, champ)):
                history.add(
                    Action.CREATION,
                    champ,
                    None,
                    getattr(etape, champ),
                    sujet=Sujet.ETAPE,
                    etape=etape,
                    etape_nom=etape.nom,
                )
        history.save()
    return etape


def edit_phase(
    *, etape_id: int, author: User, values: Mapping[str, object]
) -> list[HistoriqueProjet]:
    """Name, number and planned dates of a phase; a number taken by another phase
    is refused (move the phases up or down to swap them)."""
    unknown = set(values) - set(PHASE_FIELDS)
    if unknown:
        raise ValueError(f"not editable here: {sorted(unknown)}")
    with transaction.atomic():
        projet, etape = _lock_phase(etape_id)
        before = _values(etape, tuple(values))
        for field, value in values.items():
            setattr(etape, field, value)
        check_dates(etape.date_debut_prevue, etape.date_fin_prevue)
        if etape.ordre != before.get("ordre", etape.ordre):
            _require_free_number(projet, etape.ordre)
        history = _History(projet, author)
        history.changes(
            Action.MODIFICATION, before, etape, sujet=Sujet.ETAPE, etape=etape, etape_nom=etape.nom
        )
        if history.rows:
            etape.save(update_fields=list(values))
        return history.save()


def delete_phase(*, etape_id: int, author: User) -> int:
    """Delete a phase; its tasks stay in the project, without a phase. Returns
    how many tasks it had."""
    with transaction.atomic():
        projet, etape = _lock_phase(etape_id)
        task_count = etape.taches.count()
        history = _History(projet, author)
        history.add(Action.SUPPRESSION, "", etape.nom, None, sujet=Sujet.ETAPE, etape_nom=etape.nom)
        history.save()
        etape.delete()  # Tache.etape is SET_NULL
    return task_count


def move_phase(*, etape_id: int, author: User, direction: str) -> bool:
    """Swap a phase with the one before (``UP``) or after (``DOWN``); False when
    it is already first or last. The swap goes through a free number, as the
    constraint (projet, ordre) is checked at each statement."""
    if direction not in (UP, DOWN):
        raise ValueError(direction)
    with transaction.atomic():
        projet, etape = _lock_phase(etape_id)
        phases = Etape.objects.filter(projet=projet)
        if direction == UP:
            other = phases.filter(ordre__lt=etape.ordre).order_by("-ordre").first()
        else:
            other = phases.filter(ordre__gt=etape.ordre).order_by("ordre").first()
        if other is None:
            return False
        mine, theirs = etape.ordre, other.ordre
        phases.filter(pk=etape.pk).update(ordre=_last_number(projet) + 1)
        phases.filter(pk=other.pk).update(ordre=mine)
        phases.filter(pk=etape.pk).update(ordre=theirs)
        history = _History(projet, author)
        for phase, old, new in ((etape, mine, theirs), (other, theirs, mine)):
            history.add(
                Action.MODIFICATION,
                "ordre",
                old,
                new,
                sujet=Sujet.ETAPE,
                etape=phase,
                etape_nom=phase.nom,
            )
        history.save()
    return True


def _lock_phase(etape_id: int) -> tuple[Projet, Etape]:
    projet_id = Etape.objects.values_list("projet_id", flat=True).get(pk=etape_id)
    projet = _lock(projet_id)
    return projet, Etape.objects.select_for_update().get(pk=etape_id, projet=projet)


def _last_number(projet: Projet) -> int:
    last: int | None = Etape.objects.filter(projet=projet).aggregate(last=Max("ordre"))["last"]
    return last or 0


def _require_free_number(projet: Projet, ordre: int) -> None:
    if Etape.objects.filter(projet=projet, ordre=ordre).exists():
        raise ValidationError(
            _("Another phase of the project already has the number %(ordre)s."),
            code="ordre_taken",
            params={"ordre": ordre},
        )


# Members


def add_member(
    *, projet_id: int, utilisateur: User, author: User, role: str, date_debut: datetime.date
) -> MembreProjet:
    """``utilisateur`` joins the project on ``date_debut``; someone who left joins
    again (their membership is reopened: one per person and project)."""
    if not utilisateur.is_active:
        raise ValidationError(
            _("The account of %(name)s is deactivated."),
            code="inactive_member",
            params={"name": str(utilisateur)},
        )
    with transaction.atomic():
        projet = _lock(projet_id)
        if projet.chef_de_projet_id == utilisateur.pk:
            raise ValidationError(
                _("%(name)s leads the project."), code="is_lead", params={"name": str(utilisateur)}
            )
        history = _History(projet, author)
        membership = _join(projet, utilisateur, role=role, date_debut=date_debut, history=history)
        history.save()
    return membership


def _join(
    projet: Projet, user: User, *, role: str, date_debut: datetime.date, history: _History
) -> MembreProjet:
    membership = MembreProjet.objects.select_for_update().filter(projet=projet, utilisateur=user)
    row = membership.first()
    if row is not None and row.date_fin is None:
        raise ValidationError(
            _("%(name)s is already a member of the project."),
            code="already_member",
            params={"name": str(user)},
        )
    if row is None:
        row = MembreProjet.objects.create(
            projet=projet, utilisateur=user, role=role, date_debut=date_debut
        )
        before: dict[str, object] = {"role": None, "date_debut": None}
    else:
        before = _values(row, ("role", "date_debut", "date_fin"))
        row.role, row.date_debut, row.date_fin = role, date_debut, None
        row.save(update_fields=["role", "date_debut", "date_fin"])
    history.changes(Action.AJOUT_MEMBRE, before, row, sujet=Sujet.MEMBRE, membre=user)
    return row


def remove_member(
    *, projet_id: int, utilisateur_id: int, author: User, date_fin: datetime.date
) -> MembreProjet:
    """The member leaves on ``date_fin`` (they keep access until that day
    included). Their open tasks stay theirs: the lead hands them over."""
    with transaction.atomic():
        projet = _lock(projet_id)
        row = (
            MembreProjet.objects.select_for_update()
            .select_related("utilisateur")
            .filter(projet=projet, utilisateur_id=utilisateur_id)
            .first()
        )
        if row is None:
            raise ValidationError(
                _("This person is not a member of the project."), code="no_member"
            )
        left_on = row.date_fin
        if date_fin < row.date_debut:
            raise ValidationError(
                _("The leaving date is before the joining date (%(date)s)."),
                code="left_before_joining",
                params={"date": short_date(row.date_debut)},
            )
        row.date_fin = date_fin
        row.save(update_fields=["date_fin"])
        history = _History(projet, author)
        history.add(
            Action.RETRAIT_MEMBRE,
            "date_fin",
            left_on,
            date_fin,
            sujet=Sujet.MEMBRE,
            membre=row.utilisateur,
        )
        history.save()
    return row
