import os

from django.core.management import call_command
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "t5g.settings")
application = get_wsgi_application()
# A broken configuration stops the web server here, naming the variable.
call_command("check")
