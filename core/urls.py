from django.urls import path

from core.views import dashboard, health, notifications, preferences, projects, supervision

app_name = "core"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("notifications/", notifications.notification_list, name="notification_list"),
    path(
        "notifications/<int:pk>/lue/",
        notifications.notification_read,
        name="notification_read",
    ),
    path(
        "notifications/tout-lire/",
        notifications.notification_read_all,
        name="notification_read_all",
    ),
    path("projets/", projects.project_list, name="project_list"),
    path("projets/<int:pk>/", projects.project_detail, name="project_detail"),
    path("projets/<int:pk>/taches/nouvelle/", projects.task_create, name="task_create"),
    path("taches/<int:pk>/", projects.task_detail, name="task_detail"),
    path("taches/<int:pk>/modifier/", projects.task_edit, name="task_edit"),
    path("preferences/", preferences.preferences, name="preferences"),
    path("health/", health.health, name="health"),
    path("supervision/", supervision.supervision_page, name="supervision"),
    path(
        "supervision/verifier-echeances/",
        supervision.run_deadline_check,
        name="supervision_run_check",
    ),
]
