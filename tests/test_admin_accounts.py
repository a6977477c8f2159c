"""Accounts in the admin: rights are handed out only by who holds them.

Issue 16, finding 2: with ``change_user``, a staff user ticked ``is_superuser`` on
their own account, gave themselves permissions and opened the superuser's
password form. A change-only account (every ``view_*`` and ``change_*``) manages
names, emails, the active flag and the groups below its own rights; nothing more.
"""

from __future__ import annotations

import html

import pytest
from django.contrib.auth.models import Group, Permission
from django.db.models import Q
from django.test import Client
from django.urls import reverse

from core.models import AccountSource, User
from core.services.directory_accounts import DirectoryPerson, sync_directory_account
from tests.factories import SUPERVISION, UserFactory, grant
from tests.web.conftest import client_for


@pytest.fixture
def editor(db: None) -> User:
    """Change-only staff: may view and change everything, add and delete nothing."""
    user = UserFactory(username="editor", is_staff=True)
    everything = Q(codename__startswith="view_") | Q(codename__startswith="change_")
    user.user_permissions.set(Permission.objects.filter(everything))
    return user


@pytest.fixture
def root(db: None) -> User:
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def operators() -> Group:
    """A group with rights the change-only staff lacks (the supervision's)."""
    group = Group.objects.create(name="Exploitation")
    group.permissions.set(Permission.objects.filter(codename__in=["view_supervision", "run_job"]))
    return group


def change_url(user: User) -> str:
    return reverse("admin:core_user_change", args=[user.pk])


def account_form(user: User, **changes: object) -> dict[str, object]:
    """The change form as the admin posts it, with ``changes`` (unticked boxes absent)."""
    data: dict[str, object] = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "date_joined_0": "2026-01-05",
        "date_joined_1": "09:00:00",
        "email_alerts": "unknown",
        "email_summary": "unknown",
        "is_active": "on",
        **changes,
    }
    return {key: value for key, value in data.items() if value is not None}


def test_change_only_staff_cannot_make_themselves_superuser(editor: User):
    every_permission = list(Permission.objects.values_list("pk", flat=True))

    response = client_for(editor).post(
        change_url(editor),
        account_form(
            editor,
            first_name="Eddie",
            is_superuser="on",
            is_staff="on",
            user_permissions=every_permission,
        ),
    )

    assert response.status_code == 302  # saved: the name, and only the name
    editor.refresh_from_db()
    assert editor.first_name == "Eddie"
    assert not editor.is_superuser
    assert not editor.has_perm("auth.add_permission")
    assert not editor.user_permissions.filter(codename__startswith="delete_").exists()


def test_change_only_staff_cannot_reach_a_superusers_account_or_password(editor: User, root: User):
    client = client_for(editor)
    password = reverse("admin:auth_user_password_change", args=[root.pk])

    assert client.get(password).status_code == 403
    taken = client.post(password, {"password1": "Pris-1234-abcd", "password2": "Pris-1234-abcd"})
    assert taken.status_code == 403
    page = client.get(change_url(root))
    assert page.status_code == 200 and 'name="email"' not in page.content.decode()  # view only
    changed = client.post(change_url(root), account_form(root, email="pirate@example.org"))
    assert changed.status_code == 403
    root.refresh_from_db()
    assert root.email == "root@dsi.example.org"
    assert root.check_password("motdepasse-test")


def test_nobody_but_a_superuser_sets_a_password_in_the_admin(editor: User, root: User):
    bob = UserFactory(username="bob")
    url = reverse("admin:auth_user_password_change", args=[bob.pk])

    assert client_for(editor).get(url).status_code == 403
    assert (
        client_for(editor)
        .get(reverse("admin:auth_user_password_change", args=[editor.pk]))
        .status_code
        == 403
    )  # one's own: from the application's password page
    assert client_for(root).get(url).status_code == 200
    # The change form offers no link to a form the editor cannot open.
    page = html.unescape(
        client_for(editor).get(reverse("admin:core_user_change", args=[bob.pk])).content.decode()
    )
    assert "Seul un superutilisateur peut définir un mot de passe ici." in page
    assert "../password/" not in page
    root_page = client_for(root).get(reverse("admin:core_user_change", args=[bob.pk]))
    assert "../password/" in root_page.content.decode()


def test_groups_are_handed_out_only_below_ones_own_rights(editor: User):
    supervision = operators()
    readers = Group.objects.create(name="Lecteurs")
    readers.permissions.set(Permission.objects.filter(codename="view_projet"))
    bob = UserFactory(username="bob")
    client = client_for(editor)

    refused = client.post(change_url(editor), account_form(editor, groups=[supervision.pk]))
    given = client.post(change_url(bob), account_form(bob, groups=[readers.pk]))

    assert "groups" in refused.context["adminform"].form.errors
    assert not editor.groups.exists()
    assert given.status_code == 302
    assert list(bob.groups.all()) == [readers]


def test_an_account_with_more_rights_is_view_only(editor: User):
    operator = grant(UserFactory(username="operator", is_staff=True), *SUPERVISION)

    response = client_for(editor).post(change_url(operator), account_form(operator, is_active=None))

    assert response.status_code == 403
    operator.refresh_from_db()
    assert operator.is_active  # else: reactivate later with one's own email, reset, sign in


def test_an_account_is_added_without_flags(editor: User):
    grant(editor, "core.add_user")

    client_for(editor).post(
        reverse("admin:core_user_add"),
        {
            "username": "mallory",
            "usable_password": "true",
            "password1": "Mallory-1234-abcd",
            "password2": "Mallory-1234-abcd",
            "is_superuser": "on",
            "is_staff": "on",
        },
    )

    mallory = User.objects.get(username="mallory")
    assert not (mallory.is_superuser or mallory.is_staff)


def test_change_group_staff_cannot_add_permissions_to_their_group(editor: User):
    team = Group.objects.create(name="Support")
    editor.groups.add(team)
    every_permission = list(Permission.objects.values_list("pk", flat=True))
    url = reverse("admin:auth_group_change", args=[team.pk])

    response = client_for(editor).post(url, {"name": "Support N2", "permissions": every_permission})

    assert response.status_code == 302
    team.refresh_from_db()
    assert team.name == "Support N2"
    assert not team.permissions.exists()


def test_a_superuser_still_grants_everything(root: User):
    bob = UserFactory(username="bob")
    supervision = operators()
    client: Client = client_for(root)

    client.post(change_url(bob), account_form(bob, is_staff="on", groups=[supervision.pk]))

    bob.refresh_from_db()
    assert bob.is_staff and bob.has_perm("core.run_job")


def test_the_admin_shows_where_an_account_comes_from_and_sets_no_password_on_a_directory_one(
    root: User,
):
    """Issue 19: a directory account's password lives in the directory; even a
    superuser cannot set a local one by mistake, and the list says which is which."""
    person = DirectoryPerson(
        source=AccountSource.LDAP, directory_id="uid=ana,dc=dsi", username="ana"
    )
    ana = sync_directory_account(person)
    client = client_for(root)

    listing = client.get(reverse("admin:core_user_changelist")).content.decode()
    assert "annuaire (LDAP)" in listing and "compte local" in listing
    page = html.unescape(
        client.get(reverse("admin:core_user_change", args=[ana.pk])).content.decode()
    )
    assert "se connecte avec l'annuaire" in page
    password = reverse("admin:auth_user_password_change", args=[ana.pk])
    assert client.get(password).status_code == 403
    refused = client.post(password, {"password1": "Pris-1234-abcd", "password2": "Pris-1234-abcd"})
    assert refused.status_code == 403
    ana.refresh_from_db()
    assert not ana.has_usable_password()
