"""Rows with large texts inserted by PostgreSQL's COPY, not by bulk_create.

Django's psycopg backend binds parameters on the client: each value is quoted
into the SQL by psycopg in Python, about 2 ms for an alert email of 30 KB (a
third of the morning's email queueing at a million tasks). COPY streams the same
values as data, adapted by psycopg's own dumpers: the rows' insert costs what the
server spends on it. The values are the ORM's own (``pre_save`` then
``get_db_prep_save`` of each field, as ``bulk_create`` does); no id comes back.
Elsewhere than on PostgreSQL, ``bulk_create``.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from django.db.models import Model


def insert_rows(rows: Sequence[Model]) -> None:
    """Insert unsaved ``rows`` of one model, in the caller's transaction."""
    if not rows:
        return
    model = type(rows[0])
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(rows)
        return
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    columns = ", ".join(connection.ops.quote_name(str(field.column)) for field in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    connection.ensure_connection()
    raw = connection.connection  # the psycopg connection Django holds, in its transaction
    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            values = [f.get_db_prep_save(f.pre_save(row, True), connection) for f in fields]
            copy.write_row(values)
