from django.urls import path

from core.views import (
    absences,
    dashboard,
    favicon,
    health,
    notifications,
    portfolio,
    portfolio_import,
    preferences,
    projects,
    supervision,
    tasks,
)

app_name = "core"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("favicon.ico", favicon.favicon, name="favicon"),
    path("notifications/", notifications.notification_list, name="notification_list"),
    path(
        "notifications/<int:pk>/lue/",
        notifications.notification_read,
        name="notification_read",
    ),
    path(
        "notifications/<int:pk>/ouvrir/",
        notifications.notification_open,
        name="notification_open",
    ),
    path(
        "notifications/tout-lire/",
        notifications.notification_read_all,
        name="notification_read_all",
    ),
    path("projets/", projects.project_list, name="project_list"),
    path("projets/<int:pk>/", projects.project_detail, name="project_detail"),
    path(
        "projets/<int:pk>/alertes/",
        projects.project_alert_policy,
        name="project_alert_policy",
    ),
    path("projets/<int:pk>/taches/nouvelle/", tasks.task_create, name="task_create"),
    path("taches/<int:pk>/", tasks.task_detail, name="task_detail"),
    path("taches/<int:pk>/historique/", tasks.task_history_page, name="task_history"),
    path("taches/<int:pk>/modifier/", tasks.task_edit, name="task_edit"),
    path("taches/<int:pk>/avancement/", tasks.task_progress, name="task_progress"),
    path("taches/<int:pk>/terminer/", tasks.task_finish, name="task_finish"),
    path("taches/<int:pk>/bloquer/", tasks.task_block, name="task_block"),
    path("taches/<int:pk>/debloquer/", tasks.task_unblock, name="task_unblock"),
    path("taches/<int:pk>/suspendre-alertes/", tasks.task_snooze, name="task_snooze"),
    path("taches/<int:pk>/reprendre-alertes/", tasks.task_unsnooze, name="task_unsnooze"),
    path("portefeuille/", portfolio.portfolio_page, name="portfolio"),
    path("portefeuille/export.csv", portfolio.portfolio_csv, name="portfolio_csv"),
    path("portefeuille/import/", portfolio_import.portfolio_import, name="portfolio_import"),
    path(
        "portefeuille/import/confirmer/",
        portfolio_import.portfolio_import_confirm,
        name="portfolio_import_confirm",
    ),
    path(
        "portefeuille/import/modele.xlsx",
        portfolio_import.portfolio_import_template,
        name="portfolio_import_template",
    ),
    path("preferences/", preferences.preferences, name="preferences"),
    path("absences/", absences.absence_list, name="absences"),
    path("absences/<int:pk>/supprimer/", absences.absence_delete, name="absence_delete"),
    path("health/", health.health, name="health"),
    path("supervision/", supervision.supervision_page, name="supervision"),
    path(
        "supervision/verifier-echeances/",
        supervision.run_job_now,
        {"key": "check_task_deadlines"},
        name="supervision_run_check",
    ),
    path("supervision/lancer/<str:key>/", supervision.run_job_now, name="supervision_run_job"),
]
