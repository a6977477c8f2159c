"""Accounts that come from the organisation's directory (LDAP, OpenID Connect).

A backend authenticates the person against the directory, then hands what the
directory says of them to :func:`sync_directory_account`: the account is created
at the first sign-in and kept in step at every sign-in (names, email, staff, the
« Chefs de projet » group). The directory is the authority for what it manages:
a flag granted locally is taken back at the next sign-in if the directory does
not grant it. The password stays in the directory: a directory account has an
unusable local password.

Which local account is the directory's person: the one already linked to their
directory entry (DN, ``sub``), else the account with their user name, linked at
that first sign-in (a DSI that created accounts by hand keeps their history),
unless it is a superuser or belongs to another directory, which is refused: a
directory entry named ``admin`` does not take over the local administrator.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils import timezone

from core.models import AccountSource, User
from core.text import header_safe, normalize

logger = logging.getLogger(__name__)

# The Django group the directory's lead group maps to (migration 0014 creates it:
# it grants ``core.add_projet``, creating a project one then leads).
LEAD_GROUP_NAME = "Chefs de projet"


@dataclasses.dataclass(frozen=True)
class DirectoryPerson:
    """What a directory says of one person at sign-in.

    ``is_staff`` and ``is_lead`` are ``None`` when the directory is not configured
    to manage them (no staff or lead group set): the account's flag is left as the
    administrators set it.
    """

    source: AccountSource
    directory_id: str
    username: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    is_staff: bool | None = None
    is_lead: bool | None = None


class DirectoryAccountConflict(Exception):
    """The person's user name is held by an account the directory may not take."""


def sync_directory_account(
    person: DirectoryPerson, *, now: datetime.datetime | None = None
) -> User:
    """The local account of ``person``, created or brought in step with the directory.

    Raises :class:`DirectoryAccountConflict` when the user name belongs to a
    superuser or to another directory's account. Does not look at ``is_active``:
    an account an administrator deactivated stays so (the backend refuses it).
    """
    if not person.directory_id or not person.username:
        raise ValueError("A directory person needs an identifier and a user name.")
    with transaction.atomic():
        user = _linked_account(person)
        if user is None:
            user = User(username=person.username, account_source=person.source)
            user.set_unusable_password()
        elif user.username != person.username and not _name_taken(person.username, by=user):
            user.username = person.username  # renamed in the directory
        user.account_source = person.source
        user.directory_id = person.directory_id
        user.first_name = _one_line(person.first_name, 150)
        user.last_name = _one_line(person.last_name, 150)
        user.email = _one_line(person.email, 254)
        if person.is_staff is not None:
            user.is_staff = person.is_staff
        if user.has_usable_password():
            # A local account linked to the directory: its old password no longer opens it.
            user.set_unusable_password()
        user.directory_synced_at = now or timezone.now()
        user.save()
        if person.is_lead is not None:
            _set_lead(user, lead=person.is_lead)
    return user


def _linked_account(person: DirectoryPerson) -> User | None:
    accounts = User.objects.select_for_update()
    linked = accounts.filter(account_source=person.source, directory_id=person.directory_id).first()
    if linked is not None:
        return linked
    same_name = accounts.filter(username__iexact=person.username).first()
    if same_name is None:
        return None
    taken = same_name.is_superuser or (
        same_name.account_source not in (AccountSource.LOCAL, person.source)
        or (same_name.account_source == person.source and same_name.directory_id)
    )
    if taken:
        logger.warning(
            "Directory sign-in refused: the user name %r belongs to %s account %s.",
            person.username,
            "a superuser's" if same_name.is_superuser else "another directory's",
            same_name.pk,
        )
        raise DirectoryAccountConflict(person.username)
    logger.info(
        "Local account %s linked to the directory entry %s.", same_name.pk, person.directory_id
    )
    return same_name


def _name_taken(username: str, *, by: User) -> bool:
    return User.objects.filter(username__iexact=username).exclude(pk=by.pk).exists()


def _set_lead(user: User, *, lead: bool) -> None:
    group, created = Group.objects.get_or_create(name=LEAD_GROUP_NAME)
    if created:  # deleted since migration 0014 made it: made again the same way
        group.permissions.add(
            Permission.objects.get(content_type__app_label="core", codename="add_projet")
        )
    if lead:
        user.groups.add(group)
    else:
        user.groups.remove(group)


def _one_line(value: str, size: int) -> str:
    """A directory value as the account's fields hold typed text: one line, NFC,
    no control character, cut to the column's size."""
    return header_safe(normalize(value or ""))[:size]
