# ApiToken, moved here from the t5g app with its rows: the model enters this app's state on the table
# t5g/migrations/0006 made, the table is renamed to this app's name, and the model's content type
# follows it, so that the permissions given on API tokens (which point at the content type) carry over.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import IntegrityError, migrations, models, router, transaction


def _move_content_type(apps, schema_editor, *, old_label, new_label):
    """As Django's own RenameContentType: on a fresh database there is no row yet (post_migrate makes it
    under the new label); a row already under the new label is left to remove_stale_contenttypes."""
    ContentType = apps.get_model('contenttypes', 'ContentType')
    db = schema_editor.connection.alias
    if not router.allow_migrate_model(db, ContentType):
        return
    try:
        content_type = ContentType.objects.db_manager(db).get_by_natural_key(old_label, 'apitoken')
    except ContentType.DoesNotExist:
        return
    content_type.app_label = new_label
    try:
        with transaction.atomic(using=db):
            content_type.save(using=db, update_fields={'app_label'})
    except IntegrityError:
        return
    # get_by_natural_key() cached the row under its old label.
    ContentType.objects.clear_cache()


def to_api(apps, schema_editor):
    _move_content_type(apps, schema_editor, old_label='t5g', new_label='api')


def to_t5g(apps, schema_editor):
    _move_content_type(apps, schema_editor, old_label='api', new_label='t5g')


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('t5g', '0006_refresh_api_token'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ApiToken',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(help_text='What it is for, e.g. the script that uses it.', max_length=100)),
                        ('key_hash', models.CharField(editable=False, max_length=64, unique=True)),
                        ('prefix', models.CharField(editable=False, help_text="The key's first characters, to recognise it.", max_length=8)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('last_used_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='api_tokens', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'API token',
                        'ordering': ['-created_at'],
                        'db_table': 't5g_apitoken',
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name='apitoken', table=None),
        migrations.RunPython(to_api, to_t5g),
    ]
