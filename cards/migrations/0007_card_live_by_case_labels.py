from django.db import migrations, models


def analyze_on_sqlite(apps, schema_editor) -> None:
    # Not on PostgreSQL: there an ANALYZE of a still empty table tells the planner it is empty for good, and the
    # next bulk load's statements were planned as nested loops over whole tables (the search reindex of 10,000
    # cases: 20 s a batch of 500, against 1 s); its planner knows a new index from the table's own statistics.
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("ANALYZE cards_card")


class Migration(migrations.Migration):
    """The live cards' index by case holds their labels: the Daily Telco and trends filters read it alone. On SQLite
    the table's statistics are refreshed so that the planner knows the new index at once."""

    dependencies = [
        ("cards", "0006_comment_html_account_patterns"),
        ("cases", "0008_case_table_number_covers_facets"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="card", name="card_live_by_case"),
        migrations.AddIndex(
            model_name="card",
            index=models.Index(
                condition=models.Q(("active", True), ("removed_at__isnull", True)),
                fields=["case", "status", "active", "removed_at", "labels"],
                name="card_live_by_case",
            ),
        ),
        migrations.RunPython(analyze_on_sqlite, migrations.RunPython.noop, elidable=True),
    ]
