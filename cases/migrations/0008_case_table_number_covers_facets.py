from django.db import migrations, models

from t5g.migration_ops import analyze_on_sqlite


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
        analyze_on_sqlite("cases_case"),
    ]
