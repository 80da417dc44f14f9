from django.db import migrations, models

from t5g.migration_ops import analyze_on_sqlite


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
        analyze_on_sqlite("cards_card"),
    ]
