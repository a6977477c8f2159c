"""Django admin for the DSI's administrators.

Every changelist joins what its columns show (``list_select_related``) and every
foreign key to a big table is an autocomplete, so a page runs a fixed number of
queries however many rows there are.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, Exists, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import (
    admin_accounts,  # noqa: F401 (users and groups: who grants what)
    admin_channels,  # noqa: F401 (team channels and their messages)
    admin_lockouts,  # noqa: F401 (replaces axes' failed sign-ins admin)
)
from core.admin_actions import OutboxAdmin, resend_emails
from core.forms import AdminSignInForm
from core.jobs import admin as _beat_admin  # noqa: F401  (the beat schedule's admin)
from core.models import (
    Absence,
    Etape,
    HistoriqueTache,
    JetonApi,
    JobRun,
    JourNonOuvre,
    MembreProjet,
    NotificationDefaults,
    NotificationTache,
    OutboundEmail,
    Projet,
    Tache,
    User,
)
from core.selectors.history import history_preview
from core.selectors.projects import can_read_project
from core.services import projects, task_updates
from core.services.alert_emails import covering_email

admin.site.site_header = _("SI-Gouvernance administration")
admin.site.site_title = _("SI-Gouvernance administration")
admin.site.index_title = _("Administration")
admin.site.login_form = AdminSignInForm  # says when the directory does not answer


class MembreProjetInline(admin.TabularInline):
    model = MembreProjet
    extra = 0
    autocomplete_fields = ("utilisateur",)
    fields = ("utilisateur", "role", "date_debut", "date_fin")


class EtapeInline(admin.TabularInline):
    model = Etape
    extra = 0
    fields = ("ordre", "nom", "date_debut_prevue", "date_fin_prevue")
    ordering = ("ordre",)


class SiteLinkWhenReadable(admin.ModelAdmin):
    """ "Voir sur le site" only for who may read the page it opens (the DSI, the
    project's lead and members): for anyone else it would be a 404."""

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        response = super().render_change_form(
            request, context, add=add, change=change, form_url=form_url, obj=obj
        )
        # The TemplateResponse renders ``context``, which the admin filled in.
        if obj is not None and context.get("has_absolute_url"):
            user = request.user
            assert isinstance(user, User)
            projet_id = obj.pk if isinstance(obj, Projet) else obj.projet_id
            today = timezone.localdate()
            readable = can_read_project(user=user, projet_id=projet_id, today=today)
            context["has_absolute_url"] = readable
        return response


@admin.register(Projet)
class ProjetAdmin(SiteLinkWhenReadable):
    list_display = (
        "code",
        "nom",
        "chef_de_projet",
        "statut",
        "date_debut",
        "date_fin_prevue",
        "open_tasks",
    )
    list_display_links = ("code", "nom")
    list_filter = ("statut",)
    search_fields = ("code", "nom", "chef_de_projet__last_name", "chef_de_projet__username")
    list_select_related = ("chef_de_projet",)
    autocomplete_fields = ("chef_de_projet",)
    date_hierarchy = "date_debut"
    ordering = ("nom",)  # also the task form's project autocomplete (paginated)
    inlines = (MembreProjetInline, EtapeInline)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Projet]:
        # One aggregate in the changelist query rather than one COUNT per row.
        return (
            super()
            .get_queryset(request)
            .annotate(_open_tasks=Count("taches", filter=Tache.open_filter("taches__")))
        )

    @admin.display(description=_("open tasks"), ordering="_open_tasks")
    def open_tasks(self, obj: Projet) -> int:
        return getattr(obj, "_open_tasks", 0)

    def save_model(self, request: HttpRequest, obj: Projet, form: Any, change: bool) -> None:
        # In the project's history, as the lead's edits are (not the inlines' rows).
        author = request.user if isinstance(request.user, User) else None
        projects.save_project(projet=obj, author=author)


@admin.register(MembreProjet)
class MembreProjetAdmin(admin.ModelAdmin):
    list_display = ("utilisateur", "projet", "role", "date_debut", "date_fin")
    list_filter = ("role", "projet__statut")
    search_fields = (
        "utilisateur__username",
        "utilisateur__last_name",
        "projet__code",
        "projet__nom",
    )
    list_select_related = ("utilisateur", "projet")
    autocomplete_fields = ("utilisateur", "projet")


@admin.register(Etape)
class EtapeAdmin(admin.ModelAdmin):
    list_display = ("nom", "projet", "ordre", "date_debut_prevue", "date_fin_prevue")
    list_filter = ("projet__statut",)
    search_fields = ("nom", "projet__code", "projet__nom")
    list_select_related = ("projet",)
    autocomplete_fields = ("projet",)
    ordering = ("projet__nom", "ordre")


@admin.register(HistoriqueTache)
class HistoriqueTacheAdmin(admin.ModelAdmin):
    """The tasks' history, read only: it is written by core.services.task_updates.

    A task's change page shows its latest entries (``TacheAdmin.recent_history``)
    and links here, filtered on the task: a long history is paged, never inlined.
    """

    list_display = ("date", "tache", "auteur", "champ", "ancien_statut", "nouveau_statut")
    list_filter = ("champ",)
    search_fields = ("tache__nom", "auteur__username", "motif")
    list_select_related = ("tache", "auteur")
    # No date_hierarchy: its MIN/MAX over the whole table has no index to use.
    ordering = ("-date", "-id")
    list_per_page = 50
    # A filtered list counts once, not the filtered rows and then the whole table.
    show_full_result_count = False
    fields = (
        "tache",
        "date",
        "auteur",
        "champ",
        "ancien_statut",
        "nouveau_statut",
        "ancienne_echeance",
        "nouvelle_echeance",
        "ancien_responsable",
        "nouveau_responsable",
        "ancien_avancement",
        "nouvel_avancement",
        "motif",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: HistoriqueTache | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: HistoriqueTache | None = None
    ) -> bool:
        return False


@admin.register(Tache)
class TacheAdmin(SiteLinkWhenReadable):
    list_display = (
        "nom",
        "projet",
        "etape",
        "responsable",
        "statut",
        "priorite",
        "date_echeance",
        "date_fin_reelle",
    )
    list_filter = ("statut", "priorite", "projet__statut", "projet")
    search_fields = (
        "nom",
        "description",
        "projet__code",
        "projet__nom",
        "responsable__username",
        "responsable__last_name",
    )
    list_select_related = ("projet", "etape", "responsable")
    autocomplete_fields = ("projet", "etape", "responsable")
    date_hierarchy = "date_echeance"
    list_per_page = 50
    readonly_fields = ("recent_history",)

    @admin.display(description=_("latest history entries"))
    def recent_history(self, obj: Tache) -> str:
        """The latest entries (two queries however long the history) and a link to
        the whole history in its own paged list."""
        if obj.pk is None:
            return "—"
        context = {
            "history": history_preview(tache=obj),
            "all_url": reverse("admin:core_historiquetache_changelist")
            + f"?tache__id__exact={obj.pk}",
        }
        return render_to_string("admin/core/tache/recent_history.html", context)

    def save_model(self, request: HttpRequest, obj: Tache, form: Any, change: bool) -> None:
        """Through the service, like the application: the history records the change."""
        author = request.user
        assert isinstance(author, User)
        today = timezone.localdate()
        if change:
            task_updates.save_task(tache=obj, author=author, today=today, rate_limited=False)
        else:
            task_updates.create_task(tache=obj, author=author, today=today)

    def delete_model(self, request: HttpRequest, obj: Tache) -> None:
        task_updates.delete_tasks(tache_ids=[obj.pk], today=timezone.localdate())

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Tache]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        task_updates.delete_tasks(tache_ids=ids, today=timezone.localdate())


@admin.register(NotificationTache)
class NotificationTacheAdmin(admin.ModelAdmin):
    list_display = (
        "titre",
        "destinataire",
        "type_notification",
        "subject",
        "date_alerte",
        "lue",
        "date_creation",
        "emailed",
    )
    list_filter = ("type_notification", "lue", "date_alerte")
    search_fields = (
        "titre",
        "message",
        "destinataire__username",
        "tache__nom",
        "etape__nom",
        "projet__nom",
    )
    list_select_related = ("destinataire", "tache", "etape", "projet")
    autocomplete_fields = ("destinataire", "tache")
    raw_id_fields = ("outbound_email", "etape", "projet", "delegue_pour")
    date_hierarchy = "date_creation"
    readonly_fields = ("date_creation", "date_alerte", "date_echeance")

    @admin.display(description=_("about"))
    def subject(self, obj: NotificationTache) -> str:
        """The task, the phase, the project or the export the notification is about
        (an export by its number: its row holds the file)."""
        if obj.export_id is not None:
            return f"{_('portfolio export')} n° {obj.export_id}"
        return str(obj.tache or obj.etape or obj.projet or "")

    def get_queryset(self, request: HttpRequest) -> QuerySet[NotificationTache]:
        # An event names its email; an alert is in the range of one (alert_emails).
        covered = Exists(covering_email())
        return super().get_queryset(request).annotate(is_emailed=covered)

    @admin.display(description=_("emailed"), boolean=True)
    def emailed(self, obj: NotificationTache) -> bool:
        return obj.outbound_email_id is not None or bool(getattr(obj, "is_emailed", False))


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    """Runs are written by the jobs themselves: the admin only reads them."""

    list_display = (
        "job",
        "business_date",
        "trigger",
        "status",
        "started_at",
        "finished_at",
        "hostname",
    )
    list_filter = ("job", "status", "trigger")
    search_fields = ("job", "task_id", "hostname", "error")
    date_hierarchy = "started_at"
    readonly_fields = [field.name for field in JobRun._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: JobRun | None = None) -> bool:
        return False


@admin.register(OutboundEmail)
class OutboundEmailAdmin(OutboxAdmin):
    """The outbox: what was sent, what waits, what failed and why.

    Read-only: rows are written by the application and sent by the worker; the
    only action is "resend" (``core.change_outboundemail``). An email that carries
    a secret shows no body, to anyone: it has none, the sender renders it.
    """

    list_display = (
        "subject",
        "to_address",
        "kind",
        "status",
        "attempts",
        "created_at",
        "sent_at",
    )
    list_filter = ("status", "kind")
    search_fields = ("subject", "to_address", "recipient__username", "dedup_key", "last_error")
    list_select_related = ("recipient",)
    date_hierarchy = "created_at"
    fields = (
        "kind",
        "status",
        "recipient",
        "to_address",
        "subject",
        "text_content",
        "html_content",
        *OutboxAdmin.ROW_FIELDS,
    )
    readonly_fields = fields
    actions = [resend_emails]

    @admin.display(description=_("plain text"))
    def text_content(self, obj: OutboundEmail) -> str:
        return self._content(obj, obj.body_text)

    @admin.display(description=_("HTML"))
    def html_content(self, obj: OutboundEmail) -> str:
        return self._content(obj, obj.body_html)

    @staticmethod
    def _content(obj: OutboundEmail, body: str) -> str:
        if obj.carries_secret:
            return str(_("Confidential content, generated when sent."))
        if obj.status == OutboundEmail.Status.SENT:
            return str(_("Dropped after sending."))
        return body


@admin.register(Absence)
class AbsenceAdmin(admin.ModelAdmin):
    """Who is away when: their alerts go to the project leads meanwhile."""

    list_display = ("utilisateur", "debut", "fin", "motif")
    list_select_related = ("utilisateur",)
    autocomplete_fields = ("utilisateur",)
    date_hierarchy = "debut"
    search_fields = ("utilisateur__username", "utilisateur__last_name", "motif")


@admin.register(JourNonOuvre)
class JourNonOuvreAdmin(admin.ModelAdmin):
    """The DSI's closure days, on top of the weekends and public holidays."""

    list_display = ("date", "libelle")
    date_hierarchy = "date"
    search_fields = ("libelle",)


@admin.register(NotificationDefaults)
class NotificationDefaultsAdmin(admin.ModelAdmin):
    """One row: the defaults for users who left their email preferences empty."""

    list_display = ("__str__", "alert_emails", "summary_emails", "calendrier")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not NotificationDefaults.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(JetonApi)
class JetonApiAdmin(admin.ModelAdmin):
    """Personal API tokens, read only: who holds which, when it was last used. No
    secret is shown, none is stored (its SHA-256 only, left out here too); a user
    revokes theirs on their preferences page."""

    list_display = (
        "nom",
        "utilisateur",
        "prefixe",
        "date_creation",
        "derniere_utilisation",
        "date_revocation",
    )
    list_filter = ("date_revocation",)
    search_fields = ("nom", "prefixe", "utilisateur__username")
    list_select_related = ("utilisateur",)
    ordering = ("-date_creation", "-id")
    fields = (
        "utilisateur",
        "nom",
        "prefixe",
        "date_creation",
        "derniere_utilisation",
        "date_revocation",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: JetonApi | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: JetonApi | None = None) -> bool:
        return False
