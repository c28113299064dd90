"""Settings, read from the environment.

Every variable has a laptop default (SQLite, a broker that needs no server,
console email) so a fresh checkout runs with no services; production refuses
to start without a secret key. Each variable is documented in README.md.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def envbool(name: str, default: str) -> bool:
    value = os.environ.get(name, default).strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def envint(name: str, default: str) -> int:
    value = os.environ.get(name, default)
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def envsecret(name: str, default: str = "") -> str:
    """Read NAME, or the contents of the file NAME_FILE (Docker and Kubernetes secrets)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return os.environ.get(name, default)


DEBUG = envbool("DEBUG", "true")

SECRET_KEY = envsecret("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    # Development only: DEBUG is on, so this never serves real users.
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"  # noqa: S105

# The audit trail's hashes are keyed (HMAC) with a key kept outside the database,
# and not SECRET_KEY: someone who can write to the database cannot recompute them.
# The development key is published with the code: anyone could recompute a chain signed
# with it, so production refuses it as it refuses no key at all.
DEVELOPMENT_AUDIT_HMAC_KEY = "insecure-development-audit-key"
AUDIT_HMAC_KEY = envsecret("AUDIT_HMAC_KEY")
if not AUDIT_HMAC_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("AUDIT_HMAC_KEY must be set when DEBUG is off")
    AUDIT_HMAC_KEY = DEVELOPMENT_AUDIT_HMAC_KEY
if AUDIT_HMAC_KEY == DEVELOPMENT_AUDIT_HMAC_KEY and not DEBUG:
    raise ImproperlyConfigured("AUDIT_HMAC_KEY must not be the development key when DEBUG is off")
if AUDIT_HMAC_KEY == SECRET_KEY:
    raise ImproperlyConfigured("AUDIT_HMAC_KEY must differ from SECRET_KEY")
# Where the signed anchors of the chain's head are written (daily, and on demand).
AUDIT_ANCHOR_DIR = Path(os.environ.get("AUDIT_ANCHOR_DIR", VAR_DIR / "audit-anchors"))

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "accounts.apps.LicensingAdminConfig",  # django.contrib.admin, with our site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "accounts",
    "licensing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # The reference data's stamp read once per request (licensing/reference_cache.py).
    "licensing.reference_cache.OneStampPerRequest",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Two-factor login: request.user.is_verified(), then the gate that sends a person who
    # must (or chose to) use a code to enter it, or to set it up, before any other page.
    "django_otp.middleware.OTPMiddleware",
    "accounts.two_factor.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last: turns a login that django-axes refused into the lockout page (or JSON).
    "axes.middleware.AxesMiddleware",
]

# Static files from the app server itself: in production when no nginx is in front
# (Kubernetes), from STATIC_ROOT after collectstatic; under `make run`'s gunicorn with
# DEBUG on, from the apps' own static/ folders, found afresh on each request (no
# collectstatic, and an edited file is served at once), as runserver would.
MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")
# Fixed here rather than left to whitenoise's defaults, which read DEBUG when the
# middleware is built: pytest-django turns DEBUG off by then, with no STATIC_ROOT.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# --- Request hygiene, Content-Security-Policy, staff idle timeout -------------
# (security findings 5 and 7; the settings they read are further down, under
# "Browser security" and "Staff sessions".)
# A query parameter holding NUL is dropped before any page or admin view reads it.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware"),
    "licensing.web.middleware.DropNulQueryParameters",
)
# Staff are logged out after SESSION_IDLE_MINUTES without a request (needs the user
# and the message store, so it runs after both).
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.messages.middleware.MessageMiddleware") + 1,
    "licensing.web.middleware.StaffIdleTimeout",
)
MIDDLEWARE.append("csp.middleware.CSPMiddleware")
INSTALLED_APPS.append("csp")
# --- end request hygiene ------------------------------------------------------

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "licensing.web.notifications.unread_count",
                "licensing.web.session.idle_timeout",
                "licensing.page_cache.csrf_placeholder",
            ],
        },
    },
]

# SQLite by default "so one can just check out the code and it works";
# DATABASE_URL=postgres://... in production and CI.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        # Persistent connections, checked before reuse: a new connection per
        # request costs more than most of our pages.
        conn_max_age=envint("DB_CONN_MAX_AGE", "60"),
        conn_health_checks=True,
    )
}
if not os.environ.get("DATABASE_URL"):
    VAR_DIR.mkdir(parents=True, exist_ok=True)  # a fresh clone has no var/ for the SQLite file
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, worker, beat and seed_demo share the file: WAL lets readers
    # run beside a writer, and IMMEDIATE transactions take the write lock up front,
    # so a writer waits (up to the timeout) instead of failing "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )

# --- The database unreachable (licensing/web/unavailable.py) ----------------------------
# A request that cannot reach the database (PostgreSQL restarting, a failover) answers
# 503 with Retry-After at once, JSON under /api/; a connection attempt gives up after
# DB_CONNECT_TIMEOUT seconds rather than the operating system's minutes; stale persistent
# connections are replaced on their next use (conn_health_checks above).
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", envint("DB_CONNECT_TIMEOUT", "3")
    )
MIDDLEWARE.append("licensing.web.unavailable.DatabaseUnavailableMiddleware")
# --- end of the database-unreachable block ------------------------------------------------

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = "Asia/Jerusalem"
USE_I18N = True
USE_TZ = True
# Dates typed as ISO or day first (never month first), shown one way: config/formats/.
FORMAT_MODULE_PATH = ["config.formats"]

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
# The pages' own CSS and JavaScript (no inline <script> or <style>: see CONTENT_SECURITY_POLICY).
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Storage (issue 14) --------------------------------------------------------
# Uploaded documents live on local disk under MEDIA_ROOT (VAR_DIR/media) unless
# DOCUMENTS_S3_BUCKET names an S3-compatible bucket (AWS S3, MinIO), which every
# web replica shares. Either way a document is served only by the API's
# permission-checked download (licensing/storage.py): from a bucket, a redirect
# to a presigned URL valid DOCUMENTS_URL_SECONDS; from local disk behind nginx
# with DOCUMENTS_X_ACCEL=true, an X-Accel-Redirect to nginx's internal location
# DOCUMENTS_X_ACCEL_PREFIX (which maps to MEDIA_ROOT); otherwise the file itself.
DOCUMENTS_S3_BUCKET = os.environ.get("DOCUMENTS_S3_BUCKET", "")
DOCUMENTS_URL_SECONDS = envint("DOCUMENTS_URL_SECONDS", "60")
DOCUMENTS_X_ACCEL = envbool("DOCUMENTS_X_ACCEL", "false")
DOCUMENTS_X_ACCEL_PREFIX = os.environ.get("DOCUMENTS_X_ACCEL_PREFIX", "/_protected/media/")
if DOCUMENTS_S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "licensing.storage.DocumentS3Storage",
        "OPTIONS": {
            "bucket_name": DOCUMENTS_S3_BUCKET,
            # MinIO or another S3-compatible server; unset for AWS itself.
            "endpoint_url": os.environ.get("DOCUMENTS_S3_ENDPOINT_URL") or None,
            # The address clients reach the bucket at, when it differs from the one
            # the app uses (compose: http://minio:9000 inside, localhost:9000 outside).
            "public_endpoint_url": os.environ.get("DOCUMENTS_S3_PUBLIC_ENDPOINT_URL") or None,
            "region_name": os.environ.get("DOCUMENTS_S3_REGION") or None,
            # Unset: boto3's own chain (AWS_* variables, an instance or pod role).
            "access_key": envsecret("DOCUMENTS_S3_ACCESS_KEY_ID") or None,
            "secret_key": envsecret("DOCUMENTS_S3_SECRET_ACCESS_KEY") or None,
            "location": os.environ.get("DOCUMENTS_S3_PREFIX", ""),
            "addressing_style": os.environ.get("DOCUMENTS_S3_ADDRESSING_STYLE") or None,
            "signature_version": "s3v4",
            "default_acl": None,  # the bucket's own: private
            "querystring_auth": True,  # every URL presigned
            "querystring_expire": DOCUMENTS_URL_SECONDS,
            "file_overwrite": False,  # two uploads of one name never replace each other
        },
    }
# --- end Storage ---------------------------------------------------------------

# Appeals: an exporter may appeal a refusal (whole or in part) within this many calendar
# days of the decision.
APPEAL_WINDOW_DAYS = envint("APPEAL_WINDOW_DAYS", "28")

# Uploads: documents are at most 10 MB; the API answers 413 above that.
DOCUMENT_MAX_BYTES = envint("DOCUMENT_MAX_BYTES", str(10 * 1024 * 1024))
# Per application: at most DOCUMENT_MAX_COUNT documents (a 409 past it) and
# DOCUMENT_MAX_TOTAL_BYTES in all (a 413 past it).
DOCUMENT_MAX_COUNT = envint("DOCUMENT_MAX_COUNT", "50")
DOCUMENT_MAX_TOTAL_BYTES = envint("DOCUMENT_MAX_TOTAL_BYTES", str(100 * 1024 * 1024))
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Email: console on a laptop, SMTP in production (EMAIL_URL-like variables).
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", "25")
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = envsecret("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", "false")
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "licensing@localhost")
# Links in emails; by default the address `make run` serves (PORT, default 8000).
SITE_URL = os.environ.get("SITE_URL") or f"http://127.0.0.1:{envint('PORT', '8000')}"

# Background work. One REDIS_URL for the broker; without it, kombu's
# filesystem transport, which needs no server, so a laptop still runs a real
# worker and beat. Task results are not kept: the outbox and the audit trail
# are the record of what happened.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {
        # A message a dead worker had taken comes back after this long; the
        # outbox relay usually gets there first.
        "visibility_timeout": envint("CELERY_VISIBILITY_TIMEOUT", "3600"),
        # Fail fast when Redis is down, so a request that enqueues on commit
        # answers at once and leaves the row to the relay.
        "socket_connect_timeout": 2,
        "socket_timeout": 10,
        # ...and do not retry opening the channel: a worker reconnects through its
        # own loop (broker_connection_retry), a publisher leaves the row to the relay.
        "max_retries": 0,
    }
else:
    CELERY_BROKER_URL = "filesystem://"
    _broker_dir = Path(os.environ.get("CELERY_BROKER_DIR", VAR_DIR / "broker"))
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        # The exchange tables (broadcasts such as remote control); kombu's
        # default is "control" in the working directory.
        "control_folder": str(_broker_dir / "control"),
    }
# The cache: reference data (licensing/reference_cache.py) and throttle counts,
# shared by every process. Redis (CACHE_URL, else REDIS_URL) in production; a
# folder under var/ on a laptop, which the web server, worker and beat share too.
CACHE_URL = os.environ.get("CACHE_URL", REDIS_URL)
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "licensing",
            # An unreachable Redis answers within a second; the pages then read the
            # database (licensing/cache_versions.py).
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
REFERENCE_CACHE_SECONDS = envint("REFERENCE_CACHE_SECONDS", "300")
# Queue and case pages and API detail answers kept per person until what they show
# changes (licensing/page_cache.py); 0 turns that off.
PAGE_CACHE_SECONDS = envint("PAGE_CACHE_SECONDS", "300")
# The deployed build (a git commit, an image tag): part of every kept page's key, so a
# new release never serves pages the previous code rendered. Migrations renew the
# reference data's stamp, which every kept page's key holds.
RELEASE = os.environ.get("RELEASE", "")
# Sessions read from the cache (written through to the database, which stays the
# record): a page's session costs no query while the cache holds it, and reads the
# database when the cache cannot be reached (accounts/sessions.py).
SESSION_ENGINE = "accounts.sessions"

CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", "false")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
# Acknowledge after the work is done, and give the message back if the
# process running it dies, so nothing is lost; every task is idempotent, so
# a redelivery repeats nothing.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = envint("CELERY_TASK_TIME_LIMIT", "300")
CELERY_TASK_SOFT_TIME_LIMIT = envint("CELERY_TASK_SOFT_TIME_LIMIT", "270")
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_SEND_TASK_EVENTS = False
# Beat keeps when each periodic task last ran in this file (under VAR_DIR, never
# the working directory); its scheduler creates the folder on start.
CELERY_BEAT_SCHEDULE_FILENAME = os.environ.get(
    "CELERY_BEAT_SCHEDULE_FILENAME", str(VAR_DIR / "celerybeat-schedule")
)
CELERY_BEAT_SCHEDULER = "config.celery:PersistentScheduler"
# The static beat schedule: the relay every minute, the deadline sweep every
# few minutes (it is idempotent, so a frequent sweep only shortens the delay),
# license expiry daily just after midnight, local time.
CELERY_BEAT_SCHEDULE = {
    "notifications-relay": {
        "task": "licensing.tasks.relay_notifications",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "deadline-sweep": {
        "task": "licensing.tasks.sweep_deadlines",
        "schedule": float(envint("DEADLINE_SWEEP_SECONDS", "300")),
        "options": {"expires": 240},
    },
    "audit-anchor": {
        "task": "licensing.tasks.anchor_audit_chain",
        "schedule": crontab(hour=0, minute=30),
    },
    "license-expiry": {
        "task": "licensing.tasks.expire_licenses",
        "schedule": crontab(hour=0, minute=15),
    },
}

# The outbox. A row claimed longer ago than NOTIFICATION_CLAIM_TIMEOUT seconds
# by a worker that died is claimed again (keep it well above the task time
# limit); pending rows older than NOTIFICATION_RELAY_AFTER seconds are
# re-enqueued by the relay; a failed send waits NOTIFICATION_RETRY_BASE seconds,
# doubling per attempt up to NOTIFICATION_RETRY_MAX, and a row still failing
# NOTIFICATION_GIVE_UP_AFTER seconds after it was written is marked failed and
# left for an operator (a mail server down for an hour loses nothing).
NOTIFICATION_CLAIM_TIMEOUT = envint("NOTIFICATION_CLAIM_TIMEOUT", "900")
NOTIFICATION_RELAY_AFTER = envint("NOTIFICATION_RELAY_AFTER", "60")
NOTIFICATION_RETRY_BASE = envint("NOTIFICATION_RETRY_BASE", "60")
NOTIFICATION_RETRY_MAX = envint("NOTIFICATION_RETRY_MAX", "3600")
NOTIFICATION_GIVE_UP_AFTER = envint("NOTIFICATION_GIVE_UP_AFTER", str(2 * 24 * 3600))
# SMTP connections a delivery task sends a batch over at once (threads that only
# talk SMTP; the mail server's round trips overlap).
NOTIFICATION_SMTP_CONNECTIONS = envint("NOTIFICATION_SMTP_CONNECTIONS", "4")

# Screening parties against sanctions and denial lists (licensing.screening): a
# token-order-insensitive similarity (0-100) at or above SCREENING_THRESHOLD is a
# partial match; re-screening after a list changes reads SCREENING_BATCH_SIZE open
# applications (or live licences) per transaction.
SCREENING_THRESHOLD = envint("SCREENING_THRESHOLD", "90")
SCREENING_BATCH_SIZE = envint("SCREENING_BATCH_SIZE", "500")

# Authentication: lockout, throttles, tokens.
# django-axes counts failed logins (the web login, the admin login, the API token endpoint)
# per username and per client address, and locks either out for a cool-off after
# AXES_FAILURE_LIMIT failures; administrators unlock in the admin (Axes > Access attempts)
# or with `manage.py axes_reset_username NAME`. The client address is the one the
# throttles use too (accounts.security.client_ip): REMOTE_ADDR, or, behind NUM_PROXIES
# trusted proxies, the address the outermost of them appended to X-Forwarded-For.
NUM_PROXIES = envint("NUM_PROXIES", "0")
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, whose session user also carries the header's unread count.
    "accounts.backends.UserWithUnreadBackend",
]
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", "10")
AXES_COOLOFF_TIME = timedelta(minutes=envint("AXES_COOLOFF_MINUTES", "30"))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one locks
# A lockout ends a cool-off after the failure that caused it; attempts while locked out
# do not extend it, so the page can say when to try again.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "accounts.security.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.security.lockout_response"
AXES_VERBOSE = False

# Two-factor login (django-otp, TOTP: an authenticator app's 6-digit codes).
# Who must use it and who may turn it on are licensing.policies.must_use_two_factor and
# may_use_two_factor (whoever may reach the admin must; everyone else may). The password is
# the first step (the login form above, counted by django-axes), the code the second; a wrong code
# makes the device wait 1, 2, 4, 8... seconds times TWO_FACTOR_THROTTLE_FACTOR before the
# next try (0 turns that off). The API's token endpoint asks the same code as `otp`.
OTP_TOTP_ISSUER = os.environ.get("TWO_FACTOR_ISSUER", "Export licensing")
OTP_TOTP_THROTTLE_FACTOR = envint("TWO_FACTOR_THROTTLE_FACTOR", "1")
# The admin lists people's authenticators (to remove a lost one) without their keys.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# API tokens (django-rest-knox): random, stored only as a SHA-512 digest, valid for
# TOKEN_TTL_HOURS, revoked by POST /api/v1/auth/logout/, by a password change and by
# deactivation; sent as `Authorization: Token <token>`.
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=envint("TOKEN_TTL_HOURS", "10")),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}

REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes an anonymous request a 401,
    # where SessionAuthentication first would answer 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.tokens.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "licensing.api.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "token": os.environ.get("TOKEN_THROTTLE_RATE", "10/min"),
        "token_username": os.environ.get("TOKEN_USERNAME_THROTTLE_RATE", "10/min"),
    },
    # How many reverse proxies in front append to X-Forwarded-For; 0 trusts none of it.
    "NUM_PROXIES": NUM_PROXIES,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "licensing.api.pagination.Pagination",
    "PAGE_SIZE": 25,
    "DEFAULT_SCHEMA_CLASS": "licensing.api.schema.LicensingAutoSchema",
    "EXCEPTION_HANDLER": "licensing.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Export licensing API",
    "DESCRIPTION": "License applications for military and dual-use goods, "
    "their ministry reviews, committee decisions and licenses.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI's files from the installed package, not a CDN (works offline).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "licensing.api.schema.postprocess_nullable_references",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ApplicationStatusEnum": "licensing.models.ApplicationStatus",
        "ReviewStatusEnum": "licensing.models.ReviewStatus",
        "LicenseStatusEnum": "licensing.models.LicenseStatus",
        "ExporterAudienceEnum": ["exporter"],
        "StaffAudienceEnum": ["staff"],
        "ApplicationActionEnum": "licensing.api.schema.APPLICATION_ACTIONS",
        "ReviewActionEnum": "licensing.api.schema.REVIEW_ACTIONS",
        "LicenseActionEnum": "licensing.api.schema.LICENSE_ACTIONS",
        # Decided: approve, deny, or partial (some goods); asked of the committee: the first two.
        "DecisionEnum": "licensing.models.Decision",
        "DecisionInputEnum": "licensing.api.inputs.DECISIONS",
        "ScreeningMatchActionEnum": "licensing.api.schema.SCREENING_MATCH_ACTIONS",
        "ScreeningMatchStatusEnum": "licensing.models.MatchStatus",
        "OtherPartyKindEnum": "licensing.models.PartyKind",
        "DocumentKindEnum": "licensing.models.DocumentKind",
    },
}

DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "demo-password")

# Production hardening: on whenever DEBUG is off.
if not DEBUG:
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "true")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", "31536000")
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True

# --- Behind a proxy (security finding 7) --------------------------------------
# Trust X-Forwarded-Proto only when a TLS-terminating proxy (nginx, an ingress)
# is known to set it (and strip it from clients): otherwise any client could claim
# HTTPS. Set BEHIND_PROXY=true behind such a proxy, or SECURE_SSL_REDIRECT loops.
BEHIND_PROXY = envbool("BEHIND_PROXY", "false")
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Browser security: Content-Security-Policy (security finding 7) -----------
# django-csp 4 (BSD). Everything from our own origin; no inline script or style
# (the pages' JavaScript and CSS are files under licensing/static/); images also as data:
# URIs (Swagger UI's icons). The API docs are a template of ours too
# (templates/api/swagger_ui.html) for the same reason.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# The schema and the interactive docs: open while debugging, login (session or
# token) required otherwise.
API_DOCS_PUBLIC = envbool("API_DOCS_PUBLIC", "true" if DEBUG else "false")

# --- Staff sessions (security finding 7) ---------------------------------------
# Ministry staff, the committee and administrators are logged out after this many
# minutes without a request (licensing.policies.logged_out_when_idle); 0 turns it off.
SESSION_IDLE_MINUTES = envint("SESSION_IDLE_MINUTES", "30")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # One line per committed audit event (its id and hash), whatever LOG_LEVEL: shipped
    # away from the database, the log anchors the trail continuously (docs/audit.md).
    "loggers": {"licensing.audit.anchor": {"level": "INFO"}},
}
