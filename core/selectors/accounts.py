"""Reads about accounts: who may hand out which rights (an administrator grants
only what they hold), and who may reset a password at an address.

Rights are read in SQL rather than with ``User.get_all_permissions()``, which
answers an empty set for an inactive account: a deactivated administrator keeps
rights that reactivating the account would give back.
"""

from __future__ import annotations

import unicodedata

from django.contrib.auth.models import Group, Permission
from django.db.models import Q, QuerySet

from core.models import User


def held_permissions(*, user: User) -> QuerySet[Permission]:
    """The permissions given to ``user`` directly or through a group."""
    return Permission.objects.filter(Q(user=user) | Q(group__user=user))


def assignable_groups(*, editor: User) -> QuerySet[Group]:
    """The groups ``editor`` may give or take away: those granting nothing beyond
    the editor's own rights (every group, for a superuser)."""
    groups = Group.objects.order_by("name")
    if editor.is_superuser:
        return groups
    beyond = Permission.objects.exclude(pk__in=held_permissions(user=editor))
    return groups.exclude(permissions__in=beyond)


def within_rights(*, user: User, editor: User) -> bool:
    """Whether ``editor`` may change ``user``'s account: not a superuser's, and not
    an account holding a right the editor does not (a superuser may change any)."""
    if editor.is_superuser:
        return True
    if user.is_superuser:
        return False
    beyond = held_permissions(user=user).exclude(pk__in=held_permissions(user=editor))
    return not beyond.exists()


def password_reset_recipients(*, email: str) -> list[User]:
    """The active accounts with a usable password at ``email``, matched as Django's
    ``PasswordResetForm`` does: case-insensitive, Unicode compatibility forms alike."""
    wanted = _folded(email)
    candidates = User.objects.filter(email__iexact=email, is_active=True)
    return [
        user for user in candidates if user.has_usable_password() and _folded(user.email) == wanted
    ]


def _folded(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()
