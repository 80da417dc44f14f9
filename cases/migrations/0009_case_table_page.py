from django.db import migrations, models

from t5g.migration_ops import analyze_on_sqlite


class Migration(migrations.Migration):
    """An index in the default order's (severity, number), covering the plain views' filters: the default order's
    sort reads the severities in order and sorts only as many cases as the page needs, not every case. On SQLite the
    table's statistics are refreshed, so that the planner knows the new index at once."""

    dependencies = [
        ("cases", "0008_case_table_number_covers_facets"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                fields=["severity", "number", "status", "removed_at", "account", "product"], name="case_table_page"
            ),
        ),
        analyze_on_sqlite("cases_case"),
    ]
