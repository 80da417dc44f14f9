import time

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Serve the upstream sandbox (portal, SSO, JIRA, Bugzilla, Slack, SAML IdP) on loopback."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8800)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--cases", type=int, default=500, help="cases on the team's query (up to 100,000)")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--churn", type=int, default=0, metavar="R", help="random changes per minute")
        parser.add_argument("--jira-flavor", choices=["cloud", "server"], default="cloud")
        parser.add_argument(
            "--demo-team", action="store_true", help="give T5G the sandbox's team when it has none (make run)"
        )

    def handle(self, *args, **options):
        from sandbox.server import build_app, serve  # not imported unless the sandbox runs

        if not 1 <= options["cases"] <= 100_000:
            raise CommandError("--cases must be between 1 and 100000")
        started = time.monotonic()
        app = build_app(cases=options["cases"], seed=options["seed"], jira_flavor=options["jira_flavor"])
        url = f"http://{options['host']}:{options['port']}"
        self.stdout.write(
            f"Sandbox ready in {time.monotonic() - started:.1f}s with {len(app.world.cases)} cases "
            f"(seed {options['seed']}) at {url}  (SANDBOX_URL={url})"
        )
        if options["demo_team"]:
            self.stdout.write(self._seed_team(app.world))
        self.stdout.flush()
        serve(app, port=options["port"], host=options["host"], churn_per_minute=options["churn"])

    def _seed_team(self, world) -> str:
        """T5G's team is edited in admin; a demo database starts with the sandbox's engineers so
        cards get assigned and the engineer pages have people. Never touches a team that exists."""
        from cards.models import TeamMember

        if TeamMember.objects.exists():
            return "T5G already has a team: left as it is."
        members = [
            TeamMember(
                name=u.display_name,
                jira_user=u.name,
                jira_account_id=u.account_id,
                email=u.email,
                slack_id=u.slack_id,
                accounts="\n".join(u.accounts),
                active=u.active,
            )
            for u in world.users.values()
            if u.slack_id
        ]
        TeamMember.objects.bulk_create(members)
        return f"Gave T5G the sandbox's team of {len(members)} engineers (edit them in admin)."
