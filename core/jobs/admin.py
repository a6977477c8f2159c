"""The beat schedule in the admin: which rows an administrator changed, and the
way back to the code's default (see ``core.jobs.beat_rows``).

django-celery-beat's actions declare no permission: anyone who may view the
schedule could switch it off or run it. Each is redeclared here with its
permission: ``change`` to enable, disable or toggle a row, ``core.run_job``
(the supervision's run-now permission) to run one now."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_celery_beat.admin import PeriodicTaskAdmin as BeatAdmin
from django_celery_beat.models import PeriodicTask

from core.jobs.beat_rows import is_modified, reset_entry
from core.models import BeatEntryDefault

RUN_JOB = "core.run_job"  # declared on JobRun's Meta.permissions


class PeriodicTaskAdmin(BeatAdmin):
    list_display = ("name", "enabled", "modified", "scheduler", "last_run_at")
    actions = ("enable_tasks", "disable_tasks", "toggle_tasks", "run_tasks", "reset_to_default")

    def get_queryset(self, request: HttpRequest) -> QuerySet[PeriodicTask]:
        # Each row's stored fingerprint in the same query, not one query per row.
        stored = BeatEntryDefault.objects.filter(name=OuterRef("name")).values("fingerprint")
        return super().get_queryset(request).annotate(default_fingerprint=Subquery(stored[:1]))

    @admin.display(description=_("modified"), boolean=True)
    def modified(self, obj: PeriodicTask) -> bool:
        stored = getattr(obj, "default_fingerprint", None)
        return is_modified(obj, {obj.name: stored} if stored else {})

    @admin.action(description=BeatAdmin.enable_tasks.short_description, permissions=["change"])
    def enable_tasks(self, request: HttpRequest, queryset: QuerySet[PeriodicTask]) -> None:
        super().enable_tasks(request, queryset)

    @admin.action(description=BeatAdmin.disable_tasks.short_description, permissions=["change"])
    def disable_tasks(self, request: HttpRequest, queryset: QuerySet[PeriodicTask]) -> None:
        super().disable_tasks(request, queryset)

    @admin.action(description=BeatAdmin.toggle_tasks.short_description, permissions=["change"])
    def toggle_tasks(self, request: HttpRequest, queryset: QuerySet[PeriodicTask]) -> None:
        super().toggle_tasks(request, queryset)

    @admin.action(description=BeatAdmin.run_tasks.short_description, permissions=["run"])
    def run_tasks(self, request: HttpRequest, queryset: QuerySet[PeriodicTask]) -> None:
        super().run_tasks(request, queryset)

    def has_run_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(RUN_JOB)

    @admin.action(description=_("Back to the code's default schedule"), permissions=["change"])
    def reset_to_default(self, request: HttpRequest, queryset: QuerySet[PeriodicTask]) -> None:
        names = list(queryset.values_list("name", flat=True))
        count = sum(reset_entry(name) for name in names)
        self.message_user(
            request,
            ngettext(
                "%(count)d entry put back to the code's default.",
                "%(count)d entries put back to the code's default.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )
        if count < len(names):
            self.message_user(
                request,
                _("Entries the code does not declare have no default: left as they are."),
                messages.WARNING,
            )


admin.site.unregister(PeriodicTask)
admin.site.register(PeriodicTask, PeriodicTaskAdmin)
