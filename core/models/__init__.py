from core.models.absences import Absence
from core.models.api_tokens import JetonApi
from core.models.calendar import JourNonOuvre
from core.models.calendar_feeds import FluxCalendrier
from core.models.channels import Canal, MessageCanal
from core.models.exports import ExportPortefeuille
from core.models.heartbeats import Heartbeat
from core.models.history import HistoriqueTache
from core.models.jobs import BeatEntryDefault, JobDay, JobRun
from core.models.notifications import NotificationTache
from core.models.outbox import OutboundEmail
from core.models.portfolio_figures import ChiffresProjet, TendanceProjet
from core.models.preferences import NotificationDefaults
from core.models.project_history import HistoriqueProjet
from core.models.projects import Etape, MembreProjet, Projet, Tache
from core.models.users import AccountSource, User

__all__ = [
    "Absence",
    "AccountSource",
    "BeatEntryDefault",
    "Canal",
    "ChiffresProjet",
    "Etape",
    "ExportPortefeuille",
    "FluxCalendrier",
    "Heartbeat",
    "HistoriqueProjet",
    "HistoriqueTache",
    "JetonApi",
    "JobDay",
    "JobRun",
    "JourNonOuvre",
    "MembreProjet",
    "MessageCanal",
    "NotificationDefaults",
    "NotificationTache",
    "OutboundEmail",
    "Projet",
    "Tache",
    "TendanceProjet",
    "User",
]
