"""The cases table's full-text index (cases/search.py): an FTS5 table on SQLite, a table with a generated
tsvector under a GIN index on PostgreSQL; filled for the cases already stored."""

from django.db import migrations

FTS5 = """
CREATE VIRTUAL TABLE cases_search USING fts5(
    number, summary, card, bugs, issues, account, owner, product, group_name, description,
    jira_comments, portal_comments,
    tokenize = 'unicode61 remove_diacritics 2'
)
"""

# 'simple': words as written, no stemming, as FTS5's unicode61 does: both databases find the same cases.
POSTGRES = """
CREATE TABLE cases_search (
    number varchar(20) PRIMARY KEY,
    summary text NOT NULL, card text NOT NULL, bugs text NOT NULL, issues text NOT NULL, account text NOT NULL,
    owner text NOT NULL, product text NOT NULL, group_name text NOT NULL, description text NOT NULL,
    jira_comments text NOT NULL, portal_comments text NOT NULL,
    document tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', number || ' ' || summary), 'A')
        || setweight(to_tsvector('simple', card || ' ' || bugs || ' ' || issues), 'B')
        || setweight(to_tsvector('simple', account || ' ' || owner || ' ' || product || ' ' || group_name), 'C')
        || setweight(to_tsvector('simple', description || ' ' || jira_comments || ' ' || portal_comments), 'D')
    ) STORED
)
"""
POSTGRES_INDEX = "CREATE INDEX cases_search_document ON cases_search USING gin (document)"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES)
        schema_editor.execute(POSTGRES_INDEX)
    else:
        schema_editor.execute(FTS5)
    Case = apps.get_model("cases", "Case")
    numbers = list(Case.objects.values_list("number", flat=True))
    if numbers:
        from cases.search import reindex

        reindex(numbers=numbers)


def drop(apps, schema_editor):
    schema_editor.execute("DROP TABLE IF EXISTS cases_search")


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0006_case_card_status"),
        ("cards", "0005_live_card_indexes"),
        ("bugs", "0003_bug_restricted"),
    ]

    operations = [migrations.RunPython(create, drop)]
