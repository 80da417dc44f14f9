from django.db import migrations, models


def analyze_on_sqlite(apps, schema_editor) -> None:
    # Not on PostgreSQL: there an ANALYZE of a still empty table tells the planner it is empty for good, and the
    # next bulk load's statements were planned as nested loops over whole tables (the search reindex of 10,000
    # cases: 20 s a batch of 500, against 1 s); its planner knows a new index from the table's own statistics.
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("ANALYZE cases_case")


class Migration(migrations.Migration):
    """The case-number index covers the facets' columns too: the facets of the cases a search matched are counted
    from it, without reading each (large) case row. On SQLite the table's statistics are refreshed, so that the planner
    knows the new index at once (without them SQLite kept to the primary key's, reading every row)."""

    dependencies = [
        ("cases", "0007_search"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="case", name="case_table_number"),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                fields=["number", "status", "removed_at", "severity", "created_at", "closed_at", "upstream_updated_at",
                        "product", "account", "card_status"],  # fmt: skip
                name="case_table_number",
            ),
        ),
        migrations.RunPython(analyze_on_sqlite, migrations.RunPython.noop, elidable=True),
    ]
