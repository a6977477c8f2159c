"""The portfolio and the supervision behind permissions, and two groups a DSI hands out.

Permissions are normally created after ``migrate`` (the ``post_migrate`` signal);
the groups need them now, so this migration creates them from the models' own
``Meta.permissions`` (same codename and name: ``post_migrate`` then finds them).
"""

from django.db import migrations

# Group name (data, in French: the DSI reads it) -> (model, permission codename).
GROUPS = {
    "DSI (portefeuille)": [("projet", "view_portfolio")],
    "Supervision": [("jobrun", "view_supervision"), ("jobrun", "run_job")],
}


def create_groups(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    for group_name, wanted in GROUPS.items():
        group, _created = Group.objects.get_or_create(name=group_name)
        for model_name, codename in wanted:
            model = apps.get_model("core", model_name)
            names = dict(model._meta.permissions)
            content_type, _created = ContentType.objects.get_or_create(
                app_label="core", model=model_name
            )
            permission, _created = Permission.objects.get_or_create(
                content_type=content_type, codename=codename, defaults={"name": names[codename]}
            )
            group.permissions.add(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0009_history_by_author"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="jobrun",
            options={
                "ordering": ["-started_at"],
                "permissions": [
                    ("view_supervision", "Can view the supervision of periodic jobs"),
                    ("run_job", "Can run a periodic job now"),
                ],
                "verbose_name": "job run",
                "verbose_name_plural": "job runs",
            },
        ),
        migrations.AlterModelOptions(
            name="projet",
            options={
                "ordering": ["nom"],
                "permissions": [("view_portfolio", "Can view the whole portfolio")],
                "verbose_name": "project",
                "verbose_name_plural": "projects",
            },
        ),
        # Rolling back keeps the groups: people may have been put in them.
        migrations.RunPython(create_groups, migrations.RunPython.noop),
    ]
