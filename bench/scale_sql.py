"""The hand-written reference for the deadline engine: one INSERT ... SELECT that
scans the open tasks once and writes every alert of the day (the same keys as the
engine with the default rules: J-2 and J-1 to the owner, J and late to the owner
and the chef de projet), with texts of the same length built in SQL."""

from __future__ import annotations

HANDWRITTEN_INSERT = """
INSERT INTO core_notificationtache (tache_id, destinataire_id, type_notification, titre,
    message, lue, date_creation, date_alerte, date_echeance)
SELECT t.id, r.user_id, k.kind,
    left(k.title || t.nom, 255),
    'La tâche « ' || t.nom || ' » du projet « ' || p.nom || ' » ' || k.sentence
        || to_char(t.date_echeance, 'DD/MM/YYYY') || '.',
    false, now(), %(today)s::date, t.date_echeance
FROM core_tache t
JOIN core_projet p ON p.id = t.projet_id
CROSS JOIN LATERAL (
    SELECT CASE WHEN t.date_echeance = %(today)s::date THEN 'ALERTE_CRITIQUE'
                WHEN t.date_echeance < %(today)s::date THEN 'ALERTE_RETARD'
                ELSE 'ALERTE_ECHEANCE' END AS kind,
           CASE WHEN t.date_echeance = %(today)s::date THEN 'À rendre aujourd''hui : '
                WHEN t.date_echeance < %(today)s::date
                    THEN 'En retard de ' || (%(today)s::date - t.date_echeance) || ' jours : '
                ELSE 'À rendre dans ' || (t.date_echeance - %(today)s::date) || ' jours : '
           END AS title,
           CASE WHEN t.date_echeance < %(today)s::date
                    THEN 'est en retard, elle était due le '
                ELSE 'est à rendre le ' END AS sentence
) k
CROSS JOIN LATERAL (VALUES (t.responsable_id, true), (p.chef_de_projet_id, false))
    AS r (user_id, is_owner)
WHERE t.statut IN ('A_FAIRE', 'EN_COURS', 'BLOQUEE')
  AND t.date_echeance <= %(today)s::date + 2
  AND p.statut IN ('PLANIFIE', 'EN_COURS')
  AND r.user_id IS NOT NULL
  AND CASE WHEN r.is_owner THEN
        t.responsable_id = p.chef_de_projet_id OR EXISTS (
            SELECT 1 FROM core_membreprojet m
            WHERE m.projet_id = t.projet_id AND m.utilisateur_id = t.responsable_id
              AND m.date_debut <= %(today)s::date
              AND (m.date_fin IS NULL OR m.date_fin >= %(today)s::date))
      ELSE t.date_echeance <= %(today)s::date
        AND (t.responsable_id IS NULL OR t.responsable_id <> p.chef_de_projet_id)
      END
ON CONFLICT DO NOTHING
"""
