# When a user last signed in through SAML as a team member (API tokens lapse without it). Until now a profile was
# written by SAML sign-ins only (a refused one sets membership_ended_at), so the last update of a profile whose
# membership did not end is its user's last member sign-in: existing tokens keep working for users who signed in
# lately.

from django.db import migrations, models
from django.db.models import F


def from_last_update(apps, schema_editor):
    Profile = apps.get_model('t5g', 'Profile')
    Profile.objects.filter(membership_ended_at__isnull=True).update(member_signed_in_at=F('updated_at'))


class Migration(migrations.Migration):

    dependencies = [
        ('t5g', '0011_profile_saml_subject'),
    ]

    operations = [
        migrations.AddField(
            model_name='profile',
            name='member_signed_in_at',
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name='last signed in as a member'),
        ),
        migrations.RunPython(from_last_update, migrations.RunPython.noop),
    ]
