"""Operations shared by the apps' migrations."""

from django.db import migrations


def analyze_on_sqlite(table: str) -> migrations.RunPython:
    """Refresh `table`'s planner statistics on SQLite, so that it uses an index just added (without them SQLite
    kept to the primary key's and read every row). Not on PostgreSQL: there an ANALYZE of a still empty table
    tells the planner it is empty for good, and the next bulk load's statements were planned as nested loops over
    whole tables (the search reindex of 10,000 cases: 20 s a batch of 500, against 1 s); its planner knows a new
    index from the table's own statistics."""

    def analyze(apps, schema_editor) -> None:
        if schema_editor.connection.vendor == "sqlite":
            schema_editor.execute(f"ANALYZE {table}")

    return migrations.RunPython(analyze, migrations.RunPython.noop, elidable=True)
