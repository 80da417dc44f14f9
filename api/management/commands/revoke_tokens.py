from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from api.services import revoke_tokens


class Command(BaseCommand):
    help = "Revoke every API token of the given users (by user name): their keys stop working at once."

    def add_arguments(self, parser) -> None:
        parser.add_argument("usernames", nargs="+")

    def handle(self, *args, usernames: list[str], **options) -> None:
        User = get_user_model()
        users = list(User.objects.filter(**{f"{User.USERNAME_FIELD}__in": usernames}))
        missing = set(usernames) - {u.get_username() for u in users}
        if missing:
            # Nothing revoked: a typo must not leave someone's tokens working while the operator thinks otherwise.
            raise CommandError(f"no such user: {', '.join(sorted(missing))}")
        count = revoke_tokens(users=users, by="manage.py revoke_tokens")
        self.stdout.write(f"Revoked {count} token(s) of {', '.join(usernames)}.")
