# Tokens expire (existing ones API_TOKEN_DAYS after this migration runs) and can be revoked.

import api.models
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('api', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='apitoken',
            name='expires_at',
            field=models.DateTimeField(blank=True, default=api.models.default_expiry, help_text='The key stops working then (empty: API_TOKEN_DAYS from now).'),
        ),
        migrations.AddField(
            model_name='apitoken',
            name='revoked_at',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
    ]
