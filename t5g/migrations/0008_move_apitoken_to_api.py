# ApiToken moved to the api app (api/migrations/0001_initial.py takes over its table and rows):
# here it only leaves t5g's state; the database is not touched.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('t5g', '0007_syncrun_source_is_a_registered_job'),
        ('api', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='ApiToken')],
            database_operations=[],
        ),
    ]
