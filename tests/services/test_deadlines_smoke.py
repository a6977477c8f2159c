import datetime

from core.models import NotificationTache
from core.services.deadlines import create_deadline_alerts
from tests.conftest import TODAY
from tests.factories import TacheFactory


def test_due_today_alerts_owner_and_lead_once(world):
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=TODAY, nom="Recette")
    first = create_deadline_alerts(today=TODAY)
    second = create_deadline_alerts(today=TODAY)
    alerts = NotificationTache.objects.filter(type_notification="ALERTE_CRITIQUE")
    assert {a.destinataire.username for a in alerts} == {"alice", "bob"}
    assert first.created["ALERTE_CRITIQUE"] == 2
    assert second.total_created == 0
    assert "Recette" in alerts[0].message and "Refonte du portail" in alerts[0].message


def test_late_task_alerts_every_day(world):
    TacheFactory(
        projet=world.projet, responsable=world.bob, date_echeance=TODAY - datetime.timedelta(days=3)
    )
    create_deadline_alerts(today=TODAY)
    create_deadline_alerts(today=TODAY + datetime.timedelta(days=1))
    assert NotificationTache.objects.filter(type_notification="ALERTE_RETARD").count() == 4
