from django.urls import path

from core.views import dashboard, notifications, preferences, projects, supervision

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
    path("projets/", projects.projet_list, name="projet_list"),
    path("projets/<int:pk>/", projects.projet_detail, name="projet_detail"),
    path("projets/<int:pk>/taches/nouvelle/", projects.tache_create, name="tache_create"),
    path("taches/<int:pk>/", projects.tache_detail, name="tache_detail"),
    path("taches/<int:pk>/modifier/", projects.tache_edit, name="tache_edit"),
    path("preferences/", preferences.preferences, name="preferences"),
    path("supervision/", supervision.supervision_page, name="supervision"),
    path(
        "supervision/verifier-echeances/",
        supervision.run_deadline_check,
        name="supervision_run_check",
    ),
]
