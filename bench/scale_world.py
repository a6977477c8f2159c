"""The scale benchmark's organisation, made in SQL (``INSERT ... SELECT generate_series``).

5,000 users; 5,000 active projects, project ``i`` led by user ``i`` with the next
four users as members (everyone leads one project and works in four); ``tasks``
open tasks spread over the projects, due from 60 days ago to 60 days ahead, one in
twenty blocked, one in a hundred without an owner. A further user, the reader,
gets ``tasks`` notifications of their own for the notification-centre timings.
PostgreSQL only: the benchmark measures the production database.
"""

from __future__ import annotations

import datetime

USERS = 5_000
MEMBERS_PER_PROJECT = 4
SPREAD_DAYS = 60
READER = "reader"


def execute(sql: str, params: list[object] | None = None) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def scalar(sql: str, params: list[object] | None = None) -> object:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        row = cursor.fetchone()
    return row[0] if row else None


def build(*, tasks: int, today: datetime.date) -> None:
    """Empty the tables, then create the users, projects, members and tasks."""
    execute(
        "TRUNCATE core_notificationtache, core_outboundemail, core_tache, core_etape, "
        "core_membreprojet, core_projet, core_jobrun, core_user CASCADE"
    )
    execute(
        "INSERT INTO core_user (password, is_superuser, username, first_name, last_name, "
        "email, is_staff, is_active, date_joined, account_source, directory_id, muted_events) "
        "SELECT '!', false, 'u' || i, 'Prénom' || i, 'Nom' || i, "
        "'u' || i || '@bench.example.org', false, true, now(), 'local', '', '[]' "
        "FROM generate_series(1, %s) i",
        [USERS],
    )
    execute(
        "INSERT INTO core_projet (nom, code, description, chef_de_projet_id, statut, "
        "date_creation, date_modification) "
        "SELECT 'Projet ' || u.username, 'p' || u.id, '', u.id, 'EN_COURS', now(), now() "
        "FROM core_user u"
    )
    execute(
        "INSERT INTO core_membreprojet (projet_id, utilisateur_id, role, date_debut) "
        "SELECT p.id, member.id, 'MEMBRE', DATE '2020-01-01' "
        "FROM core_projet p JOIN core_user lead ON lead.id = p.chef_de_projet_id "
        "CROSS JOIN generate_series(1, %s) k "
        "JOIN core_user member ON member.username = 'u' || "
        "((substr(lead.username, 2)::int - 1 + k) %% %s + 1)",
        [MEMBERS_PER_PROJECT, USERS],
    )
    _tasks(tasks=tasks, today=today)
    execute("VACUUM ANALYZE")


def _tasks(*, tasks: int, today: datetime.date) -> None:
    # Task j: project j mod 5,000; owner one of its members (none for one in a
    # hundred); due date scattered over +/- 60 days; one in twenty blocked.
    execute(
        "WITH projects AS (SELECT p.id, row_number() OVER (ORDER BY p.id) - 1 AS n "
        "FROM core_projet p), "
        "members AS (SELECT m.projet_id, m.utilisateur_id, "
        "row_number() OVER (PARTITION BY m.projet_id ORDER BY m.id) - 1 AS k "
        "FROM core_membreprojet m) "
        "INSERT INTO core_tache (projet_id, nom, description, responsable_id, statut, "
        "priorite, date_echeance, avancement, date_creation, date_modification, report_motif) "
        "SELECT p.id, 'Tâche ' || j, '', "
        "CASE WHEN j %% 100 = 7 THEN NULL ELSE m.utilisateur_id END, "
        "CASE WHEN j %% 20 = 3 THEN 'BLOQUEE' WHEN j %% 2 = 0 THEN 'A_FAIRE' "
        "ELSE 'EN_COURS' END, 'NORMALE', "
        "%s::date + ((j::bigint * 7919) %% (2 * %s + 1) - %s)::int, 0, now(), now(), '' "
        "FROM generate_series(0, %s - 1) j "
        "JOIN projects p ON p.n = j %% %s "
        "JOIN members m ON m.projet_id = p.id AND m.k = (j / %s) %% %s",
        [today, SPREAD_DAYS, SPREAD_DAYS, tasks, USERS, USERS, MEMBERS_PER_PROJECT],
    )


def add_reader_notifications(*, count: int) -> int:
    """The reader: ``count`` notifications, newest first one second apart, 30 % unread."""
    execute("DELETE FROM core_user WHERE username = %s", [READER])
    execute(
        "INSERT INTO core_user (password, is_superuser, username, first_name, last_name, "
        "email, is_staff, is_active, date_joined, account_source, directory_id, muted_events) "
        "VALUES ('!', false, %s, 'Lecteur', 'Assidu', 'reader@bench.example.org', "
        "false, true, now(), 'local', '', '[]')",
        [READER],
    )
    reader = int(str(scalar("SELECT id FROM core_user WHERE username = %s", [READER])))
    execute(
        "WITH some_tasks AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n "
        "FROM (SELECT id FROM core_tache ORDER BY id LIMIT 1000) t) "
        "INSERT INTO core_notificationtache (destinataire_id, tache_id, type_notification, "
        "titre, message, lue, date_creation, date_lecture) "
        "SELECT %s, t.id, (ARRAY['ALERTE_RETARD', 'ALERTE_CRITIQUE', 'ALERTE_ECHEANCE'])"
        "[i %% 3 + 1], 'En retard de ' || i || ' jours : Tâche ' || t.id, "
        "'La tâche « Tâche ' || t.id || ' » est en retard.', i %% 10 >= 3, "
        "now() - i * interval '1 second', "
        "CASE WHEN i %% 10 >= 3 THEN now() END "
        "FROM generate_series(1, %s) i JOIN some_tasks t ON t.n = i %% 1000",
        [reader, count],
    )
    execute("ANALYZE core_notificationtache")
    return reader
