"""Accounts and groups in the admin: rights are handed out by who holds them.

A staff user with ``change_user`` manages names, emails, the active flag and the
groups below their own rights (``core.selectors.accounts``); the flags that give
rights (superuser, staff, permissions), a group's permissions and the password
form are a superuser's. Imported by core/admin.py.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import ManyToManyField
from django.forms import ModelMultipleChoiceField
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from core.models import User
from core.selectors.accounts import assignable_groups, within_rights

# Fields of an account that give rights: only a superuser changes them.
RIGHTS_FIELDS = ("is_superuser", "is_staff", "user_permissions")
# Where an account comes from: written by the directory sign-in only.
DIRECTORY_FIELDS = ("account_source", "directory_id", "directory_synced_at")
SUPERUSER_PASSWORD_HELP = _("Only a superuser may set a password here.")
# Shown, read-only, instead of the password field where it cannot be used.
PASSWORD_NOTES = ("password_in_directory", "password_for_superusers")
DIRECTORY_PASSWORD_HELP = _(
    "This account signs in with the directory: its password is changed there, never here."
)


def _editor(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # the admin is behind sign-in
    return user


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        (_("Email notifications"), {"fields": ("email_alerts", "email_summary")}),
        (
            _("Directory"),
            {"fields": ("account_source", "directory_id", "directory_synced_at")},
        ),
    )
    list_display = (
        "username",
        "account_source",
        "first_name",
        "last_name",
        "email",
        "is_active",
        "is_staff",
        "email_alerts",
        "email_summary",
    )
    list_filter = (
        "account_source",
        "is_active",
        "is_staff",
        "is_superuser",
        "email_alerts",
        "email_summary",
    )

    def get_fieldsets(self, request: HttpRequest, obj: Any | None = None) -> Any:
        """The password field only where it can be used: a directory account's
        password is changed in the directory, another account's by a superuser."""
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        if obj.from_directory:
            instead = "password_in_directory"
        elif not _editor(request).is_superuser:
            instead = "password_for_superusers"
        else:
            return fieldsets
        return [
            (name, {**options, "fields": _replaced(options["fields"], "password", instead)})
            for name, options in fieldsets
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = (*super().get_readonly_fields(request, obj), *DIRECTORY_FIELDS, *PASSWORD_NOTES)
        return fields if _editor(request).is_superuser else (*fields, *RIGHTS_FIELDS)

    @admin.display(description=_("Password"))
    def password_in_directory(self, obj: User) -> str:
        return str(DIRECTORY_PASSWORD_HELP)

    @admin.display(description=_("Password"))
    def password_for_superusers(self, obj: User) -> str:
        return str(SUPERUSER_PASSWORD_HELP)

    def formfield_for_manytomany(
        self, db_field: ManyToManyField, request: HttpRequest, **kwargs: Any
    ) -> ModelMultipleChoiceField | None:
        if db_field.name == "groups":
            kwargs["queryset"] = assignable_groups(editor=_editor(request))
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or within_rights(user=obj, editor=_editor(request)))

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or within_rights(user=obj, editor=_editor(request)))

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        """Another account's password is a superuser's business; one's own is
        changed from the application's password page, knowing the old one."""
        if not _editor(request).is_superuser:
            raise PermissionDenied(SUPERUSER_PASSWORD_HELP)
        account = self.get_object(request, id)
        if account is not None and account.from_directory:
            raise PermissionDenied(DIRECTORY_PASSWORD_HELP)
        return super().user_change_password(request, id, form_url)


def _replaced(fields: Any, field: str, by: str) -> tuple[Any, ...]:
    return tuple(by if name == field else name for name in fields)


class GroupAdmin(BaseGroupAdmin):
    """A group's permissions are a superuser's: with ``change_group`` alone, a staff
    user would otherwise add every permission to their own group."""

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = tuple(super().get_readonly_fields(request, obj))
        return fields if _editor(request).is_superuser else (*fields, "permissions")


admin.site.unregister(Group)
admin.site.register(Group, GroupAdmin)
