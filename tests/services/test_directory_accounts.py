"""A directory account is created at the first sign-in and kept in step at every one.

The directory (LDAP, OpenID Connect) is the authority for what it manages: names,
email, staff, the « Chefs de projet » group. A local account with the same user
name is linked at the first directory sign-in, never a superuser's.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from core.models import AccountSource, User
from core.services.directory_accounts import (
    LEAD_GROUP_NAME,
    DirectoryAccountConflict,
    DirectoryPerson,
    sync_directory_account,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

DN = "uid=jdupont,ou=people,dc=dsi,dc=example"


def _person(**changes: object) -> DirectoryPerson:
    values: dict[str, object] = {
        "source": AccountSource.LDAP,
        "directory_id": DN,
        "username": "jdupont",
        "first_name": "Jeanne",
        "last_name": "Dupont",
        "email": "jeanne.dupont@dsi.example",
        "is_staff": True,
        "is_lead": True,
        **changes,
    }
    return DirectoryPerson(**values)  # type: ignore[arg-type]


def _is_lead(user: User) -> bool:
    return user.groups.filter(name=LEAD_GROUP_NAME).exists()


def test_first_sign_in_creates_the_account_without_a_local_password() -> None:
    user = sync_directory_account(_person())

    user.refresh_from_db()
    assert (user.username, user.first_name, user.last_name, user.email) == (
        "jdupont",
        "Jeanne",
        "Dupont",
        "jeanne.dupont@dsi.example",
    )
    assert user.account_source == AccountSource.LDAP and user.directory_id == DN
    assert user.is_staff and _is_lead(user)
    assert user.has_perm("core.add_projet")  # what « Chefs de projet » grants
    assert not user.has_usable_password()
    assert user.directory_synced_at is not None


def test_every_sign_in_applies_what_the_directory_changed() -> None:
    first = sync_directory_account(_person())

    again = sync_directory_account(
        _person(email="j.dupont@dsi.example", last_name="Martin", is_staff=False, is_lead=False)
    )

    assert again.pk == first.pk and User.objects.count() == 1
    again.refresh_from_db()
    assert again.email == "j.dupont@dsi.example" and again.last_name == "Martin"
    assert not again.is_staff and not _is_lead(again)


def test_a_renamed_entry_stays_the_same_account() -> None:
    """The account follows the directory entry, not the user name it had."""
    first = sync_directory_account(_person())

    renamed = sync_directory_account(_person(username="jmartin"))

    assert renamed.pk == first.pk and renamed.username == "jmartin"


def test_unmanaged_flags_are_left_as_the_administrators_set_them() -> None:
    """No staff or lead group configured: the directory does not touch them."""
    lead_group, _created = Group.objects.get_or_create(name=LEAD_GROUP_NAME)
    local = UserFactory(username="jdupont", is_staff=True)
    local.groups.add(lead_group)

    user = sync_directory_account(_person(is_staff=None, is_lead=None))

    assert user.is_staff and _is_lead(user)


def test_a_local_account_with_the_same_name_is_linked_and_loses_its_password() -> None:
    local = UserFactory(username="JDupont")
    assert local.has_usable_password()

    user = sync_directory_account(_person())

    assert user.pk == local.pk
    user.refresh_from_db()
    assert user.account_source == AccountSource.LDAP
    assert not user.has_usable_password()
    assert not user.check_password("motdepasse-test")


def test_a_superuser_is_never_taken_over() -> None:
    admin = UserFactory(username="jdupont", is_superuser=True, is_staff=True)

    with pytest.raises(DirectoryAccountConflict):
        sync_directory_account(_person())

    admin.refresh_from_db()
    assert admin.account_source == AccountSource.LOCAL and admin.check_password("motdepasse-test")
    assert User.objects.count() == 1


def test_another_directorys_account_is_not_taken_over() -> None:
    sync_directory_account(_person(source=AccountSource.OIDC, directory_id="issuer|123"))

    with pytest.raises(DirectoryAccountConflict):
        sync_directory_account(_person())

    assert User.objects.get().account_source == AccountSource.OIDC


def test_a_deactivated_account_stays_deactivated() -> None:
    """Deactivating is an administrator's decision: the directory does not undo it
    (the sign-in backends refuse an inactive account)."""
    user = sync_directory_account(_person())
    User.objects.filter(pk=user.pk).update(is_active=False)

    again = sync_directory_account(_person())

    assert not again.is_active


def test_directory_values_are_stored_as_typed_text() -> None:
    """A directory value with a line break or a control character cannot break
    an email header later: one line, no control character, cut to the column."""
    user = sync_directory_account(
        _person(first_name="Jeanne\r\nBcc: x@evil.example", last_name="Du\u202epont" + "x" * 200)
    )

    user.refresh_from_db()
    assert user.first_name == "Jeanne Bcc: x@evil.example"
    assert "\u202e" not in user.last_name and len(user.last_name) == 150
