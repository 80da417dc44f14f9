# When a user last signed in through SAML as a team member (API tokens lapse without it). Until now only a SAML
# sign-in wrote a profile, so a profile's last update is its user's last member sign-in: existing tokens keep
# working for users who signed in lately.

from django.db import migrations, models
from django.db.models import F


def from_last_update(apps, schema_editor):
    Profile = apps.get_model('t5g', 'Profile')
    Profile.objects.update(member_signed_in_at=F('updated_at'))


class Migration(migrations.Migration):

    dependencies = [
        ('t5g', '0009_syncrun_watermark'),
    ]

    operations = [
        migrations.AddField(
            model_name='profile',
            name='member_signed_in_at',
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name='last signed in as a member'),
        ),
        migrations.RunPython(from_last_update, migrations.RunPython.noop),
    ]
