"""The home page, "Mes tâches": my open tasks by urgency, my projects' health."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.selectors import dashboard as tasks
from core.selectors import projects
from core.views.http import current_user

GROUP_LABELS = {
    tasks.LATE: _("Late"),
    tasks.TODAY: _("Due today"),
    tasks.THIS_WEEK: _("This week"),
    tasks.LATER: _("Later"),
    tasks.NO_DUE_DATE: _("No due date"),
}


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    today = timezone.localdate()
    my_tasks = tasks.my_tasks_by_urgency(user=user, today=today)
    led = list(projects.led_projects(user=user, today=today))
    context = {
        "today": today,
        # Mine up to this week, then (template) my projects' most urgent, then mine.
        "group_parts": [
            [
                {
                    "key": key,
                    "label": GROUP_LABELS[key],
                    "taches": my_tasks.groups[key],
                    "count": my_tasks.sizes[key],
                    "more": my_tasks.more(key),
                }
                for key in part
            ]
            for part in (tasks.GROUP_ORDER[:3], tasks.GROUP_ORDER[3:])
        ],
        "total": my_tasks.total,
        "counts": [
            {"key": key, "label": GROUP_LABELS[key], "count": count}
            for key, count in my_tasks.counts().items()
            if count
        ],
        "led_projects": led,
        # Only a chef de projet pays for this query.
        "urgent_tasks": (
            projects.urgent_tasks_of_led_projects(user=user, today=today) if led else []
        ),
    }
    return render(request, "core/dashboard.html", context)
