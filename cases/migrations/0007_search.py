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
# Words are letters and digits (cases.search.terms): PostgreSQL's parser would read `KNIECO-1` as `knieco`, `-1`.
WORDS = "to_tsvector('simple', regexp_replace({}, '[^[:alnum:]]+', ' ', 'g'))"
WEIGHTED = [
    ("number || ' ' || summary", "A"),
    ("card || ' ' || bugs || ' ' || issues", "B"),
    ("account || ' ' || owner || ' ' || product || ' ' || group_name", "C"),
    ("description || ' ' || jira_comments || ' ' || portal_comments", "D"),
]
DOCUMENT = " || ".join(f"setweight({WORDS.format(columns)}, '{weight}')" for columns, weight in WEIGHTED)
POSTGRES = f"""
CREATE TABLE cases_search (
    number varchar(20) PRIMARY KEY,
    summary text NOT NULL, card text NOT NULL, bugs text NOT NULL, issues text NOT NULL, account text NOT NULL,
    owner text NOT NULL, product text NOT NULL, group_name text NOT NULL, description text NOT NULL,
    jira_comments text NOT NULL, portal_comments text NOT NULL,
    document tsvector GENERATED ALWAYS AS ({DOCUMENT}) STORED
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
