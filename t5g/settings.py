"""T5G settings: everything comes from the environment (see .env.example).

Nothing configured means a working local setup: SQLite under var/ and the
private Redis that `make run` starts. A malformed value does not crash the
import; it is recorded in SETTINGS_ERRORS and reported by the system check
in t5g/checks.py, which names the variable and stops start-up.
"""

import ipaddress
import os
from datetime import timedelta
from ipaddress import ip_network
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ
from cryptography import x509

from t5g.log import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").exists():
    env.read_env(BASE_DIR / ".env")

SETTINGS_ERRORS: list[tuple[str, str]] = []


def _env(name: str, cast: str = "str", default=None):
    """Read one variable; on a malformed value keep the default and record why."""
    raw = env.str(name, default="")
    if cast == "bool" and raw and raw.lower() not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
        # django-environ reads any unknown word as False; a typo must not silently flip a switch.
        SETTINGS_ERRORS.append((name, f"expected true or false, got {raw!r}"))
        return default
    try:
        return getattr(env, cast)(name, default=default)
    except Exception as exc:  # noqa: BLE001 - any parse error is reported by the check
        SETTINGS_ERRORS.append((name, f"cannot read {raw!r}: {exc}"))
        return default


def _is_loopback(url: str) -> bool:
    """http://127.0.0.1, localhost or [::1]: a service on this machine."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _pem_certificates_problem(path: str) -> str:
    """Why the file is not one or more PEM certificates ("" when it is)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return f"cannot read {path!r}: {exc.strerror or exc}"
    try:
        x509.load_pem_x509_certificates(data)
    except ValueError:
        return f"no PEM certificate in {path!r}"
    return ""


def _groups(many: tuple[str, str], one: tuple[str, str], *, default: str) -> list[str]:
    """The groups a setting names (SAML_MEMBER_GROUPS), else the one group of its older form (SAML_MEMBER_GROUP).

    Each is (name, value). Groups are comma-separated, or ";"-separated when a DN (which has commas) is among them.
    """
    (name, text), (old_name, single) = (many[0], many[1].strip()), (one[0], one[1].strip())
    if text and single:
        SETTINGS_ERRORS.append((old_name, f"set {name} or the older {old_name}, not both"))
    if not text:
        return [single or default]  # one group, commas and all: it may be a DN
    separator = ";" if ";" in text else ","
    groups = [group.strip() for group in text.split(separator) if group.strip()]
    if not groups:
        SETTINGS_ERRORS.append((name, f"names no group: {text!r}"))
    return groups


# --- Core -------------------------------------------------------------------
DEBUG = _env("DEBUG", "bool", False)
SECRET_KEY = _env("SECRET_KEY", "str", "")
if not SECRET_KEY:
    if not DEBUG:
        SETTINGS_ERRORS.append(("SECRET_KEY", "required when DEBUG is off"))
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"
ALLOWED_HOSTS = _env("ALLOWED_HOSTS", "list", ["localhost", "127.0.0.1", "[::1]"])
SITE_URL = _env("SITE_URL", "str", "http://127.0.0.1:8000").rstrip("/")
# A banner on every page saying what this instance shows, e.g. that its data is made up (a demo).
DEMO_NOTICE = _env("DEMO_NOTICE", "str", "").strip()
CSRF_TRUSTED_ORIGINS = [SITE_URL]
TIME_ZONE = "UTC"  # stored and scheduled in UTC; DISPLAY_TIME_ZONE is for people
DISPLAY_TIME_ZONE = _env("DISPLAY_TIME_ZONE", "str", "UTC")
USE_TZ = True
LANGUAGE_CODE = "en-us"
USE_I18N = False

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "axes",
    "djangosaml2",
    "import_export",
    "health_check",
    "django_prometheus",
    "csp",
    "t5g",
    "cases",
    "cards",
    "bugs",
    "escalations",
    "reports",
    "api",
    "stats",
    "compat",
]

MIDDLEWARE = [
    # First and last: they time every request (metrics at /metrics).
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "t5g.log.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "djangosaml2.middleware.SamlSessionMiddleware",  # request.saml_session: the SAML exchange's own cookie
    "django.middleware.common.CommonMiddleware",
    "t5g.errors.ApiErrorsMiddleware",  # inside CommonMiddleware: /api/x still redirects to /api/x/
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a signed-in user unless its view says otherwise (@login_not_required).
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "t5g.popular.PageCounter",  # which pages to render ahead after a sync
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "t5g.urls"
WSGI_APPLICATION = "t5g.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "t5g.context_processors.t5g",
            ],
        },
    },
]

# --- Security headers and cookies -------------------------------------------------
# Secure cookies work over http://localhost and 127.0.0.1 too (browsers treat them as secure
# contexts); Chromium drops djangosaml2's SameSite=None cookie unless it is Secure.
SESSION_COOKIE_SECURE = _env("SESSION_COOKIE_SECURE", "bool", True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "t5g.errors.csrf_failure"  # T5G's page, not Django's "CSRF verification failed"
SESSION_COOKIE_AGE = _env("SESSION_COOKIE_AGE", "int", 12 * 3600)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Scripts only from our own static files: upstream text that slipped past escaping still cannot run.
# Chart.js sizes its canvas with inline styles, hence 'unsafe-inline' for styles only.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
    }
}
# Behind a TLS-terminating proxy: trust its X-Forwarded-Proto and send HSTS. A year, as browsers' preload lists
# expect: an hour would leave a returning user's first request open to a downgrade most of the time.
if SITE_URL.startswith("https://"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = _env("SECURE_HSTS_SECONDS", "int", 365 * 24 * 3600)
# The reverse proxies in front of T5G (addresses or networks, comma-separated). A request from one of them is from
# the address it names in X-Forwarded-For; behind a proxy every other request seems to come from the proxy itself,
# so address allow-lists (METRICS_ALLOWED_IPS) and the sign-in lockout need this (t5g/callers.py).
TRUSTED_PROXIES = _env("TRUSTED_PROXIES", "list", [])
for _proxy in TRUSTED_PROXIES:
    try:
        ip_network(_proxy.strip(), strict=False)
    except ValueError:
        SETTINGS_ERRORS.append(("TRUSTED_PROXIES", f"not an address or network: {_proxy!r}"))
        TRUSTED_PROXIES = []
        break

# --- SAML sign-in -------------------------------------------------------------------
# Every page but the health checks and /metrics (for monitors) needs a user signed in through SAML single sign-on
# (djangosaml2; t5g/saml/config.py builds the SP configuration, on first use, from these settings).
SAML_IDP_METADATA_URL = _env("SAML_IDP_METADATA_URL", "str", "")
SAML_IDP_METADATA_FILE = _env("SAML_IDP_METADATA_FILE", "str", "")
if SAML_IDP_METADATA_URL and SAML_IDP_METADATA_FILE:
    SETTINGS_ERRORS.append(("SAML_IDP_METADATA_FILE", "set SAML_IDP_METADATA_URL or SAML_IDP_METADATA_FILE, not both"))
if SAML_IDP_METADATA_URL and urlsplit(SAML_IDP_METADATA_URL).scheme not in ("http", "https"):
    SETTINGS_ERRORS.append(("SAML_IDP_METADATA_URL", f"must be an http(s) URL, got {SAML_IDP_METADATA_URL!r}"))
if SAML_IDP_METADATA_FILE and not Path(SAML_IDP_METADATA_FILE).is_file():
    SETTINGS_ERRORS.append(("SAML_IDP_METADATA_FILE", f"no such file: {SAML_IDP_METADATA_FILE!r}"))
# The IdP's signing certificate(s), PEM: when set, every signing key the IdP's metadata names must be one of
# these, so metadata fetched over an insecure network (or an IdP whose key was swapped) cannot sign anyone in.
SAML_IDP_CERT_FILE = _env("SAML_IDP_CERT_FILE", "str", "")
if SAML_IDP_CERT_FILE:
    _problem = _pem_certificates_problem(SAML_IDP_CERT_FILE)
    if _problem:
        SETTINGS_ERRORS.append(("SAML_IDP_CERT_FILE", _problem))
# Metadata carries the keys every sign-in is checked with: over plain http a network attacker could put in
# their own. A sandbox on this machine is the exception.
if (
    urlsplit(SAML_IDP_METADATA_URL).scheme == "http"
    and not _is_loopback(SAML_IDP_METADATA_URL)
    and not SAML_IDP_CERT_FILE
):
    SETTINGS_ERRORS.append(
        ("SAML_IDP_METADATA_URL", "must be https:// (or pin the IdP's signing certificate with SAML_IDP_CERT_FILE)")
    )
# The SP's signing key and certificate; unset, a self-signed pair is made once under var/saml/.
SAML_KEY_FILE = _env("SAML_KEY_FILE", "str", "")
SAML_CERT_FILE = _env("SAML_CERT_FILE", "str", "")
for _name, _file in (("SAML_KEY_FILE", SAML_KEY_FILE), ("SAML_CERT_FILE", SAML_CERT_FILE)):
    if _file and not Path(_file).is_file():
        SETTINGS_ERRORS.append((_name, f"no such file: {_file!r}"))
if bool(SAML_KEY_FILE) != bool(SAML_CERT_FILE):
    SETTINGS_ERRORS.append(("SAML_CERT_FILE", "SAML_KEY_FILE and SAML_CERT_FILE go together"))
# Which of the IdP's attributes say what (names as pysaml2 reads them: the Name, or the friendly name of an
# attribute it knows by urn:oid). The defaults are the company IdP's. SAML_ATTRIBUTE_ID is the stable id a
# user is bound to (never their user name, which can be reused); "NameID" means the persistent NameID.
SAML_ATTRIBUTE_ID = _env("SAML_ATTRIBUTE_ID", "str", "rhatUUID").strip()
SAML_ATTRIBUTE_USERNAME = _env("SAML_ATTRIBUTE_USERNAME", "str", "uid").strip()
SAML_ATTRIBUTE_EMAIL = _env("SAML_ATTRIBUTE_EMAIL", "str", "mail").strip()
SAML_ATTRIBUTE_FIRST_NAME = _env("SAML_ATTRIBUTE_FIRST_NAME", "str", "givenName").strip()
SAML_ATTRIBUTE_LAST_NAME = _env("SAML_ATTRIBUTE_LAST_NAME", "str", "sn").strip()
SAML_ATTRIBUTE_GROUPS = _env("SAML_ATTRIBUTE_GROUPS", "str", "memberOf").strip()
for _name, _value in (
    ("SAML_ATTRIBUTE_ID", SAML_ATTRIBUTE_ID),
    ("SAML_ATTRIBUTE_USERNAME", SAML_ATTRIBUTE_USERNAME),
    ("SAML_ATTRIBUTE_GROUPS", SAML_ATTRIBUTE_GROUPS),
):
    if not _value:
        SETTINGS_ERRORS.append((_name, "must name one of the IdP's attributes"))
# Groups as the IdP sends them: a value matches a name here exactly, or when it is a DN whose cn is that name
# (cn=t5g-team,ou=groups,dc=example,dc=com is t5g-team; never a part of a name). A list is comma-separated;
# to give whole DNs, separate them with ";". SAML_MEMBER_GROUP and SAML_ADMIN_GROUP (one group each) are the
# older names, still read.
SAML_MEMBER_GROUPS = _groups(
    ("SAML_MEMBER_GROUPS", _env("SAML_MEMBER_GROUPS", "str", "")),
    ("SAML_MEMBER_GROUP", _env("SAML_MEMBER_GROUP", "str", "")),
    default="t5g-team",
)
SAML_ADMIN_GROUPS = _groups(
    ("SAML_ADMIN_GROUPS", _env("SAML_ADMIN_GROUPS", "str", "")),
    ("SAML_ADMIN_GROUP", _env("SAML_ADMIN_GROUP", "str", "")),
    default="t5g-admins",
)
# Break-glass: a password sign-in at /login/ for staff users, for when the IdP is out of reach.
LOCAL_LOGIN = _env("LOCAL_LOGIN", "bool", False)
# Its lockout (django-axes, for /login/ only: t5g/signins.py): after this many failed passwords from one address,
# or for one user name, that address or name is refused for this many minutes.
LOCAL_LOGIN_FAILURE_LIMIT = _env("LOCAL_LOGIN_FAILURE_LIMIT", "int", 5)
LOCAL_LOGIN_LOCKOUT_MINUTES = _env("LOCAL_LOGIN_LOCKOUT_MINUTES", "int", 15)
for _name, _value in (
    ("LOCAL_LOGIN_FAILURE_LIMIT", LOCAL_LOGIN_FAILURE_LIMIT),
    ("LOCAL_LOGIN_LOCKOUT_MINUTES", LOCAL_LOGIN_LOCKOUT_MINUTES),
):
    if _value is not None and _value < 1:
        SETTINGS_ERRORS.append((_name, "must be at least 1"))
AXES_HANDLER = "t5g.signins.LocalSignInHandler"
AXES_FAILURE_LIMIT = LOCAL_LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOCAL_LOGIN_LOCKOUT_MINUTES or 15)
# Either locks: many names tried from one address, or one name tried from many.
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_CLIENT_IP_CALLABLE = "t5g.callers.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # every failed password, in admin (Axes: access failures)
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False  # t5g/signins.py logs every local sign-in, refusal and lockout itself
# axes guards the one view it is for (t5g/signins.py) rather than every authenticate() through a backend:
# SAML sign-ins are not password attempts and must not count or be locked out.
SILENCED_SYSTEM_CHECKS = ["axes.W002", "axes.W003"]
# Passwords exist only for break-glass staff (createsuperuser, changepassword): Django's validators refuse short,
# common, numeric and user-name-like ones.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if SAML_IDP_METADATA_URL or SAML_IDP_METADATA_FILE:
    LOGIN_URL = "saml2_login"
else:
    LOGIN_URL = "login" if LOCAL_LOGIN else "saml_not_configured"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "saml_signed_out"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend", "t5g.saml.identity.SamlBackend"]
SAML_CONFIG_LOADER = "t5g.saml.config.config_loader"
SAML_DEFAULT_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
SAML_LOGOUT_REQUEST_PREFERRED_BINDING = SAML_DEFAULT_BINDING
# t5g.saml.identity.SamlBackend finds users by the id on their profile (SAML_ATTRIBUTE_ID), never by user name, and
# reads the SAML_ATTRIBUTE_* settings itself: djangosaml2's SAML_DJANGO_USER_MAIN_ATTRIBUTE and
# SAML_ATTRIBUTE_MAPPING are not used.
SAML_CREATE_UNKNOWN_USER = True
# The IdP's response arrives by a cross-site POST, which carries djangosaml2's cookie only when it is
# SameSite=None, and Chromium drops SameSite=None cookies that are not Secure (djangosaml2 makes it
# Secure with SESSION_COOKIE_SECURE). Without Secure, Lax works only when the IdP is same-site.
SAML_SESSION_COOKIE_SAMESITE = "None" if SESSION_COOKIE_SECURE else "Lax"

# --- Database -----------------------------------------------------------------
# SQLite is the embedded default. Without WAL, IMMEDIATE transactions and a busy
# timeout, a Celery worker writing beside the web process fails with
# "database is locked" (measured: 288 of 1,500 transactions).
_default_db = f"sqlite:///{VAR_DIR / 't5g.sqlite3'}"
try:
    _db = env.db_url("DATABASE_URL", default=_default_db)
except Exception as exc:  # noqa: BLE001
    SETTINGS_ERRORS.append(("DATABASE_URL", f"cannot read {env.str('DATABASE_URL')!r}: {exc}"))
    _db = env.db_url_config(_default_db)
if _db["ENGINE"] not in ("django.db.backends.sqlite3", "django.db.backends.postgresql"):
    SETTINGS_ERRORS.append(("DATABASE_URL", f"must be sqlite:// or postgres://, got {env.str('DATABASE_URL')!r}"))
    _db = env.db_url_config(_default_db)
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        # A 40 MB write-ahead log between checkpoints and a 32 MiB page cache per connection (2 MiB by default):
        # at 100,000 cases a full case sync took twice as long with the defaults.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=10000; "
        "PRAGMA cache_size=-32768;",
    }
    # A file, not memory, so the worker and beat processes of integration tests share it;
    # one per test run, so two runs at once never share one.
    _db["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
elif _db["ENGINE"] == "django.db.backends.postgresql":
    _db["CONN_MAX_AGE"] = _env("CONN_MAX_AGE", "int", 60)
    _db["CONN_HEALTH_CHECKS"] = True
    _db.setdefault("OPTIONS", {})["connect_timeout"] = 10
DATABASES = {"default": _db}

# --- Redis: Celery broker and Django cache --------------------------------------
REDIS_URL = _env("REDIS_URL", "str", "redis://127.0.0.1:6391/0")
if urlsplit(REDIS_URL).scheme not in ("redis", "rediss", "unix"):
    SETTINGS_ERRORS.append(("REDIS_URL", f"must be a redis:// URL, got {REDIS_URL!r}"))
# django-redis unpickles what it reads and Celery runs what its queue holds: whoever can write to this Redis runs
# code as T5G. In production it needs a password, unless its network is private to T5G and this says so.
REDIS_ALLOW_NO_PASSWORD = _env("REDIS_ALLOW_NO_PASSWORD", "bool", False)
if not DEBUG and not REDIS_ALLOW_NO_PASSWORD and not urlsplit(REDIS_URL).password:
    SETTINGS_ERRORS.append(
        ("REDIS_URL", "needs a password (redis://:password@host:port/0) when DEBUG is off, "
                      "or set REDIS_ALLOW_NO_PASSWORD=true")
    )  # fmt: skip


def _redis_db(url: str, db: int) -> str:
    # The cache lives in its own database: django-redis's clear() is FLUSHDB,
    # which must never take the Celery queues with it.
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{db}"))


REDIS_CACHE_DB = _env("REDIS_CACHE_DB", "int", 1)
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": _redis_db(REDIS_URL, REDIS_CACHE_DB),
        "KEY_PREFIX": "t5g",
        "TIMEOUT": _env("CACHE_TIMEOUT", "int", 24 * 3600),
        "OPTIONS": {
            # Fail open: with Redis down a cache read is a miss and a write is
            # dropped, so pages fall back to the database instead of erroring.
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": 0.5,
            "SOCKET_TIMEOUT": 0.5,
        },
    }
}
# Redis being down shows on the health page; logging each ignored cache call would drown the logs.
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = False
# Sessions live in the database so sign-in and admin keep working without Redis.
SESSION_ENGINE = "django.contrib.sessions.backends.db"

# --- Celery -----------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_TRACK_STARTED = True
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-run gives the message back
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Longer than the longest run, or Redis redelivers a still-running task.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3 * 3600}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Notifications have their own queue: a message is not held up behind the sync jobs queued before it.
# Syncs and automation go to "sync", notifications to "notifications": in a scale-out each queue can
# have its own workers (README, Operating it).
CELERY_TASK_DEFAULT_QUEUE = "sync"
CELERY_TASK_ROUTES = {"t5g.send_notification": {"queue": "notifications"}}

# --- Static files ---------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# Front-end libraries come from npm (package-lock.json; `make setup` runs `npm ci`) and are served by whitenoise.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
    ("vendor/chart.js", BASE_DIR / "node_modules" / "chart.js" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed names need `collectstatic` first: `make setup` runs it.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Email -------------------------------------------------------------------------
try:
    vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
except Exception as exc:  # noqa: BLE001
    SETTINGS_ERRORS.append(("EMAIL_URL", f"cannot read {env.str('EMAIL_URL')!r}: {exc}"))
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = _env("DEFAULT_FROM_EMAIL", "str", "t5g@localhost")

# --- Upstreams ------------------------------------------------------------------------
# An upstream with no URL is never called: its jobs fail saying which variable to set.


def _upstream_url(name: str) -> str:
    url = _env(name, "str", "").rstrip("/")
    if url and urlsplit(url).scheme not in ("http", "https"):
        SETTINGS_ERRORS.append((name, f"must be an http(s) URL, got {url!r}"))
    return url


PORTAL_URL = _upstream_url("PORTAL_URL")
SSO_TOKEN_URL = _upstream_url("SSO_TOKEN_URL")
PORTAL_OFFLINE_TOKEN = _env("PORTAL_OFFLINE_TOKEN", "str", "")
JIRA_URL = _upstream_url("JIRA_URL")
JIRA_TOKEN = _env("JIRA_TOKEN", "str", "")
BUGZILLA_URL = _upstream_url("BUGZILLA_URL")
BUGZILLA_API_KEY = _env("BUGZILLA_API_KEY", "str", "")
for _url_name, _url, _secret_name, _secret in (
    ("PORTAL_URL", PORTAL_URL, "PORTAL_OFFLINE_TOKEN", PORTAL_OFFLINE_TOKEN),
    ("JIRA_URL", JIRA_URL, "JIRA_TOKEN", JIRA_TOKEN),
    ("BUGZILLA_URL", BUGZILLA_URL, "BUGZILLA_API_KEY", BUGZILLA_API_KEY),
):
    if _url and not _secret:
        SETTINGS_ERRORS.append((_secret_name, f"required when {_url_name} is set"))
if BUGZILLA_URL and not BUGZILLA_URL.endswith("/rest"):
    # python-bugzilla 3.3 only speaks REST when the URL ends in /rest.
    SETTINGS_ERRORS.append(("BUGZILLA_URL", f"must end in /rest, got {BUGZILLA_URL!r}"))

# How T5G talks to upstreams: timeouts (seconds), retries with exponential backoff and jitter,
# and how many requests run at once.
UPSTREAM_CONNECT_TIMEOUT = _env("UPSTREAM_CONNECT_TIMEOUT", "float", 5.0)
UPSTREAM_READ_TIMEOUT = _env("UPSTREAM_READ_TIMEOUT", "float", 30.0)
UPSTREAM_RETRIES = _env("UPSTREAM_RETRIES", "int", 4)
UPSTREAM_BACKOFF = _env("UPSTREAM_BACKOFF", "float", 0.5)
UPSTREAM_CONCURRENCY = _env("UPSTREAM_CONCURRENCY", "int", 8)
# Rows per transaction of a sync. SQLite's cost per commit grows with the pages a transaction dirties, one per
# index per row at random places: at 100,000 cases, commits of 500 rows were a third of the case sync's time.
SYNC_WRITE_BATCH = _env("SYNC_WRITE_BATCH", "int", 5000)
# Incremental syncs re-read this many minutes before the newest change a run of theirs read.
SYNC_OVERLAP_MINUTES = _env("SYNC_OVERLAP_MINUTES", "int", 10)
# JIRA's webhooks (/hooks/jira/, t5g/webhooks.py): on with a shared secret, which JIRA Cloud and Data Center 10+
# sign each call with (X-Hub-Signature) and an older Server sends in the URL (?token=). A burst of calls for one
# issue within WEBHOOK_COALESCE_SECONDS is one re-read. JIRA_WEBHOOK_JQL: the issues JIRA calls about
# (`manage.py jira_webhook register`); add the projects of linked bugs to have them re-read as well.
JIRA_WEBHOOK_SECRET = _env("JIRA_WEBHOOK_SECRET", "str", "")
WEBHOOK_COALESCE_SECONDS = _env("WEBHOOK_COALESCE_SECONDS", "float", 2.0)
JIRA_WEBHOOK_JQL = _env("JIRA_WEBHOOK_JQL", "str", "")  # default: the team's cards (t5g/webhooks.py)
# After a sync writes, the worker renders the most-used pages ahead (t5g/sync/warm.py), this long after the last write.
WARM_PAGES = _env("WARM_PAGES", "bool", True)
WARM_DELAY_SECONDS = _env("WARM_DELAY_SECONDS", "float", 3.0)
# Under churn, a cached view's next build waits at least this many times as long as its last build took (its previous
# copy served meanwhile, and the page updates itself once the new one is built): t5g/cache.py. 0: at every change.
VIEW_REBUILD_SPACING = _env("VIEW_REBUILD_SPACING", "float", 100.0)
# An open page asks this often whether its data changed, and updates itself in place (t5g/live.py); 0: never.
LIVE_POLL_SECONDS = _env("LIVE_POLL_SECONDS", "int", 15)
# Details, JIRA links, bugs and JIRA issues of open cases are re-read when their copy is this old.
REFRESH_AFTER_HOURS = _env("REFRESH_AFTER_HOURS", "int", 72)
# Details and JIRA links are read for open cases and cases changed in this many days (0: every case).
HISTORY_DAYS = _env("HISTORY_DAYS", "int", 30)
# A failed job is retried four times, after this many seconds, doubling each time (with jitter).
JOB_RETRY_BACKOFF = _env("JOB_RETRY_BACKOFF", "float", 30.0)
# A job's lock lives this long unless its run renews it (every third of it).
LOCK_TTL = _env("LOCK_TTL", "int", 60)
# A run (a refresh: all of its runs) longer than this has hung: its task is stopped (soft limit: recorded
# failed; a minute later killed) and its lock is no longer renewed. A first load at 100,000 cases takes minutes.
JOB_TIME_LIMIT = _env("JOB_TIME_LIMIT", "int", 3600)
# Every task ends: past JOB_TIME_LIMIT SoftTimeLimitExceeded is raised in it (a run records it as its failure),
# a minute later the worker kills it. The worker's own setting: a task's message carries no limit of its own.
CELERY_TASK_SOFT_TIME_LIMIT = JOB_TIME_LIMIT
CELERY_TASK_TIME_LIMIT = JOB_TIME_LIMIT + 60

# Alerts (a failing job, its recovery) and notifications.
ALERT_EMAILS = _env("ALERT_EMAILS", "list", [])
SLACK_API_URL = (_upstream_url("SLACK_API_URL") or "https://slack.com/api") + "/"
SLACK_TOKEN = _env("SLACK_TOKEN", "str", "")
SLACK_ALERT_CHANNEL = _env("SLACK_ALERT_CHANNEL", "str", "")
if SLACK_ALERT_CHANNEL and not SLACK_TOKEN:
    SETTINGS_ERRORS.append(("SLACK_TOKEN", "required when SLACK_ALERT_CHANNEL is set"))
# Notifications (t5g/notify.py): new cards by email and Slack, a card that could not be created, the bug-tagging
# summary. An empty list or channel sends nothing there.
NOTIFY_EMAILS = _env("NOTIFY_EMAILS", "list", [])  # the new-cards digest
SLACK_HIGH_CHANNEL = _env("SLACK_HIGH_CHANNEL", "str", "")  # new severity 1-2 cards
SLACK_LOW_CHANNEL = _env("SLACK_LOW_CHANNEL", "str", "")  # other new cards, failures
if (SLACK_HIGH_CHANNEL or SLACK_LOW_CHANNEL) and not SLACK_TOKEN:
    SETTINGS_ERRORS.append(("SLACK_TOKEN", "required when SLACK_HIGH_CHANNEL or SLACK_LOW_CHANNEL is set"))
EMAIL_SUBJECT_PREFIX = _env("EMAIL_SUBJECT_PREFIX", "str", "[T5G]")
# Bug tagging (bugs/tagging.py): keywords added to the bugs linked to the team's cases; none set, no tagging.
BUG_TAG_KEYWORDS = [k.strip() for k in _env("BUG_TAG_KEYWORDS", "list", []) if k.strip()]
if any(len(k.split()) > 1 for k in BUG_TAG_KEYWORDS):
    # A Bugzilla whiteboard is space-separated: a keyword with a space in it would never be found there again.
    SETTINGS_ERRORS.append(("BUG_TAG_KEYWORDS", f"expected comma-separated words, got {BUG_TAG_KEYWORDS!r}"))
    BUG_TAG_KEYWORDS = []
BUG_TAG_EMAILS = _env("BUG_TAG_EMAILS", "list", [])  # the tagging summary

# JIRA: where the team's cards live and how escalations are found.
JIRA_PROJECT = _env("JIRA_PROJECT", "str", "KNIECO")
JIRA_CARD_LABEL = _env("JIRA_CARD_LABEL", "str", "field")  # the label that marks the team's cards
JIRA_BOARD = _env("JIRA_BOARD", "str", "KNI-ECO Labs & Field")
JIRA_SPRINT = _env("JIRA_SPRINT", "str", "T5GFE")  # the team's sprints are named with this
JIRA_COMPONENT = _env("JIRA_COMPONENT", "str", "KNI Labs & Field")
JIRA_ISSUE_TYPE = _env("JIRA_ISSUE_TYPE", "str", "Story")
JIRA_ESCALATION_PROJECT = _env("JIRA_ESCALATION_PROJECT", "str", "RHOCPPRIO")
JIRA_ESCALATION_LABEL = _env("JIRA_ESCALATION_LABEL", "str", "Telco5g")
JIRA_POTENTIAL_ESCALATION_LABEL = _env("JIRA_POTENTIAL_ESCALATION_LABEL", "str", "PotentialEscalation")
# Custom field ids by name, when /field cannot be trusted; otherwise looked up by name.
JIRA_FIELDS = _env("JIRA_FIELDS", "json", {})
if not isinstance(JIRA_FIELDS, dict):
    SETTINGS_ERRORS.append(("JIRA_FIELDS", 'expected a JSON object like {"Severity": "customfield_10840"}'))
    JIRA_FIELDS = {}
# Card creation.
JIRA_LABELS = _env("JIRA_LABELS", "list", [])  # labels new cards get besides JIRA_CARD_LABEL
JIRA_INITIAL_STATUS = _env("JIRA_INITIAL_STATUS", "str", "To Do")  # new and reopened cards move here
# More fields every new card is created with, as JIRA's REST API takes them (field id -> value). The default is what
# the old dashboard sent (its PR #370): "TRACK" in customfield_10783, a text field ("Release note text").
JIRA_CREATE_EXTRA_FIELDS = _env("JIRA_CREATE_EXTRA_FIELDS", "json", {"customfield_10783": "TRACK"})
_card_own_fields = {"project", "issuetype", "summary", "description", "priority", "labels", "components", "assignee"}
if not isinstance(JIRA_CREATE_EXTRA_FIELDS, dict):
    SETTINGS_ERRORS.append(
        (
            "JIRA_CREATE_EXTRA_FIELDS",
            f'expected a JSON object like {{"customfield_10783": "TRACK"}}, got {JIRA_CREATE_EXTRA_FIELDS!r}',
        )
    )
    JIRA_CREATE_EXTRA_FIELDS = {}
elif clash := sorted(_card_own_fields & set(JIRA_CREATE_EXTRA_FIELDS)):
    SETTINGS_ERRORS.append(("JIRA_CREATE_EXTRA_FIELDS", f"T5G sets {', '.join(clash)} itself: leave them out"))
    JIRA_CREATE_EXTRA_FIELDS = {}
# How long one run of render_comments may render JIRA comments (cards/services.py); the next run goes on.
COMMENT_RENDER_SECONDS = _env("COMMENT_RENDER_SECONDS", "int", 60)
# The card label that puts a case on the Daily Telco list (the cases table's "Daily Telco list" filter).
DAILY_TELCO_LABEL = _env("DAILY_TELCO_LABEL", "str", "Daily_Telco_OCP")
SEVERITY_PRIORITIES = {1: "Critical", 2: "Major", 3: "Normal", 4: "Minor"}
_priorities = _env("SEVERITY_PRIORITIES", "json", {})
if not isinstance(_priorities, dict) or not set(_priorities) <= {"1", "2", "3", "4"}:
    SETTINGS_ERRORS.append(("SEVERITY_PRIORITIES", 'expected a JSON object like {"1": "Critical", "2": "Major"}'))
else:
    SEVERITY_PRIORITIES |= {int(k): str(v) for k, v in _priorities.items()}
PORTAL_CASE_URL = _env("PORTAL_CASE_URL", "str", "https://access.redhat.com/support/cases/#/case/{case}")
BUGZILLA_SHOW_URL = _env("BUGZILLA_SHOW_URL", "str", "https://bugzilla.redhat.com/show_bug.cgi?id={bug}")
# A card creation that failed, or whose outcome is unknown (or still pending), is looked up in JIRA again
# after this long: JIRA's search index lags behind its writes, and this must be longer than that lag.
CARD_INTENT_SETTLE_MINUTES = _env("CARD_INTENT_SETTLE_MINUTES", "int", 10)
# Bugzilla bugs fetched per request.
BUGZILLA_BATCH = _env("BUGZILLA_BATCH", "int", 200)

READ_ONLY = _env("READ_ONLY", "bool", False)
CASE_QUERY = _env("CASE_QUERY", "str", "case_tags:*shift_telco5g*")
MAX_NEW_CARDS = _env("MAX_NEW_CARDS", "int", 20)
if MAX_NEW_CARDS is not None and MAX_NEW_CARDS < 0:
    SETTINGS_ERRORS.append(("MAX_NEW_CARDS", "must not be negative"))

# --- JSON API tokens (api/) -------------------------------------------------------------------
# A new token's lifetime (each token's own expiry can be changed in admin).
API_TOKEN_DAYS = _env("API_TOKEN_DAYS", "int", 90)
# A token stops working while its user has not signed in through SAML as a team member for this many days (0: never
# checked, e.g. without SAML): membership is only checked at sign-in, and a leaver's script must not outlive it.
API_TOKEN_MEMBER_WITHIN_DAYS = _env("API_TOKEN_MEMBER_WITHIN_DAYS", "int", 30)
if API_TOKEN_DAYS is not None and API_TOKEN_DAYS < 1:
    SETTINGS_ERRORS.append(("API_TOKEN_DAYS", "must be at least 1"))
if API_TOKEN_MEMBER_WITHIN_DAYS is not None and API_TOKEN_MEMBER_WITHIN_DAYS < 0:
    SETTINGS_ERRORS.append(("API_TOKEN_MEMBER_WITHIN_DAYS", "must not be negative"))

# --- Monitoring ---------------------------------------------------------------------------
# /metrics and /health/ answer a scraper presenting METRICS_TOKEN as a bearer token, or one of these addresses
# (each address as t5g/callers.py finds it: behind a proxy, only with TRUSTED_PROXIES); /health/ also answers staff.
METRICS_TOKEN = _env("METRICS_TOKEN", "str", "")
METRICS_ALLOWED_IPS = _env("METRICS_ALLOWED_IPS", "list", [])
if METRICS_ALLOWED_IPS and SITE_URL.startswith("https://") and not TRUSTED_PROXIES:
    # Served over https, T5G sits behind a TLS-terminating proxy: every request would come from its address.
    SETTINGS_ERRORS.append(("TRUSTED_PROXIES", "required with METRICS_ALLOWED_IPS behind a proxy (SITE_URL is https)"))
# /health/ runs its checks (a worker ping takes up to 2 s) at most once in this many seconds; between, its last
# result is served.
HEALTH_CACHE_SECONDS = _env("HEALTH_CACHE_SECONDS", "int", 10)

# --- Logging ---------------------------------------------------------------------------
LOG_LEVEL = _env("LOG_LEVEL", "str", "INFO").upper()
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    SETTINGS_ERRORS.append(("LOG_LEVEL", f"unknown level {LOG_LEVEL!r}"))
    LOG_LEVEL = "INFO"
# One JSON object per line in production (LOG_FORMAT=json, the default without DEBUG); readable text
# in development. Every line carries the request id or Celery task id it belongs to (t5g/log.py).
LOG_FORMAT = _env("LOG_FORMAT", "str", "text" if DEBUG else "json")
if LOG_FORMAT not in ("json", "text"):
    SETTINGS_ERRORS.append(("LOG_FORMAT", f"expected json or text, got {LOG_FORMAT!r}"))
    LOG_FORMAT = "json"
LOGGING = logging_config(level=LOG_LEVEL, fmt=LOG_FORMAT)
