"""Settings for sanhui, read from the environment (one file for every deployment).

With no environment set, everything runs on one machine with nothing else installed:
SQLite, Celery's filesystem broker and media files, all under ``var/``.
Production sets ``DATABASE_URL`` (PostgreSQL), ``REDIS_URL`` and the ``S3_*`` variables.
Every variable is listed in README.md.
"""

from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

VAR_DIR = Path(env.str("SANHUI_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Production must set DJANGO_SECRET_KEY: `check --deploy` fails on this default
# (org/checks.py).
SECRET_KEY = env.str(
    "DJANGO_SECRET_KEY",
    default="dev-only-insecure-key-change-me-for-production-0123456789abcdef",
)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rules.apps.AutodiscoverRulesConfig",
    "sanhui.apps.AxesConfig",  # django-axes, named in Chinese in the admin
    "django_otp",
    "django_otp.plugins.otp_totp",
    "simple_history",
    "crispy_forms",
    "crispy_bootstrap5",
    "csp",
    "storages",
    "org",
    "bulletin",
    "meetings",
    "supervision",
    "tasks",
    "study",
    "practice",
    "appraisal",
    "assessment",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The idle expiry slides with a write at most once a minute (not SESSION_SAVE_EVERY_REQUEST).
    "org.sessions.SlidingSessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before CSRF, which parses the body: an oversized upload is refused before it is read.
    "org.uploads.UploadGuardMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): a session confirmed with a second factor (TOTP).
    "django_otp.middleware.OTPMiddleware",
    "org.two_factor.AdminSecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Axes must be last: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "sanhui.urls"
WSGI_APPLICATION = "sanhui.wsgi.application"

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
                "org.context_processors.roles",
                # the inbox badge and the 我的待办 count, in one query (replaces bulletin's inbox)
                "tasks.context_processors.navbar",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
SQLITE_PATH = VAR_DIR / "sanhui.sqlite3"
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{SQLITE_PATH}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's backend with SQLite's real bound-parameter limit (sanhui/sqlite/base.py).
    DATABASES["default"]["ENGINE"] = "sanhui.sqlite"
    # The web process and the Celery worker share one file: WAL lets readers and
    # one writer work together, the busy timeout waits instead of failing, and
    # IMMEDIATE transactions take the write lock up front so that a reader
    # upgrading to a writer never dead-locks into "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
    }
    # A file (not memory) so that a real Celery worker started by a test sees the test data.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------
AUTH_USER_MODEL = "org.User"
AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses a locked-out username+IP before any password check.
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    # Django's ModelBackend, refusing members who have left the roll (org/auth.py).
    "org.auth.OnRollModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sessions end after SESSION_IDLE_MINUTES without a request and when the browser closes. The
# expiry slides: org.sessions re-saves a session used more than SESSION_TOUCH_SECONDS after its
# last write, instead of an UPDATE on every request.
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_MINUTES", default=30) * 60
SESSION_SAVE_EVERY_REQUEST = False
SESSION_TOUCH_SECONDS = env.int("SESSION_TOUCH_SECONDS", default=60)
# A login's Scope (member, branches, posts, roles: org/scope.py) is kept in the cache this long;
# saving a post, membership, role or member drops it at once. 0 turns the cache off.
SCOPE_CACHE_SECONDS = env.int("SCOPE_CACHE_SECONDS", default=60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# --- Sign-in lockout, client address, second factor -------------------------
# Lockout is keyed on username AND address together, so that one person
# mistyping (or an attacker guessing) cannot lock another person out; an address
# also has its own, higher limit across all usernames (password spraying; org/lockout.py).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_IP_FAILURE_LIMIT = env.int("AXES_IP_FAILURE_LIMIT", default=30)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "org.lockout.SprayAwareHandler"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
# X-Forwarded-For is believed only from these reverse proxies (addresses or CIDRs): the
# client's address for lockout, throttles and the audit log (org/netaddr.py).
TRUSTED_PROXIES = env.list("DJANGO_TRUSTED_PROXIES", default=[])
AXES_CLIENT_IP_CALLABLE = "org.netaddr.client_ip"
# Staff and the superuser may turn on a TOTP second factor (org/two_factor.py); with
# DJANGO_ADMIN_2FA=true the admin requires it.
ADMIN_2FA = env.bool("DJANGO_ADMIN_2FA", default=False)
OTP_TOTP_ISSUER = "三会一课"
# Per-user limits (org/throttle.py): (requests, seconds). Exports of the roster, ledgers and
# sheets; uploads of evidence, answers and rosters; evidence file downloads.
THROTTLE_RATES = {
    "export": (env.int("THROTTLE_EXPORTS_PER_MINUTE", default=10), 60),
    "upload": (env.int("THROTTLE_UPLOADS_PER_MINUTE", default=30), 60),
    "download": (env.int("THROTTLE_DOWNLOADS_PER_MINUTE", default=120), 60),
}

# --- Language and time ----------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

# --- Static and media files -----------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Third-party assets come from node_modules (installed by `make setup` from
# package.json), served by the app itself: mines run on intranets, no CDN.
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", NODE_MODULES / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", NODE_MODULES / "bootstrap-icons" / "font"),
    ("vendor/chartjs", NODE_MODULES / "chart.js" / "dist"),
]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))

# Tests, runserver and `make run` find static files through the finders (no collectstatic);
# production serves the hashed files `collectstatic` wrote.
WHITENOISE_USE_FINDERS = DEBUG or env.bool("WHITENOISE_USE_FINDERS", default=False)
WHITENOISE_AUTOREFRESH = DEBUG

S3_BUCKET = env.str("S3_BUCKET", default="")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if WHITENOISE_USE_FINDERS
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Evidence (photos, videos, scans) is private: no URL, every read goes through a
# permission-checked view (supervision.views.evidence).
STORAGES["evidence"] = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": str(VAR_DIR / "evidence"), "base_url": None},
}
if S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env.str("S3_ENDPOINT_URL", default=None),
            "region_name": env.str("S3_REGION", default=None),
            "access_key": env.str("S3_ACCESS_KEY_ID", default=None),
            "secret_key": env.str("S3_SECRET_ACCESS_KEY", default=None),
            # Evidence is never public: every read goes through a permission-checked view.
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": 300,
            "file_overwrite": False,
        },
    }
    STORAGES["evidence"] = {
        "BACKEND": STORAGES["default"]["BACKEND"],
        "OPTIONS": {**STORAGES["default"]["OPTIONS"], "location": "evidence"},
    }
# Mine-wide exports made by the worker (bulletin.ExportJob): private like evidence, served only
# through the permission-checked download view, deleted EXPORT_KEEP_DAYS after they are made.
STORAGES["exports"] = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": str(VAR_DIR / "exports"), "base_url": None},
}
if S3_BUCKET:
    STORAGES["exports"] = {
        "BACKEND": STORAGES["default"]["BACKEND"],
        "OPTIONS": {**STORAGES["default"]["OPTIONS"], "location": "exports"},
    }
EXPORT_KEEP_DAYS = env.int("EXPORT_KEEP_DAYS", default=7)
# Uploads larger than this go to a temporary file on disk, never into memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# The largest request body of a view without its own @upload_limit (org/uploads.py): refused
# from its Content-Length, before it is read. Evidence and the roster set their own limits.
UPLOAD_DEFAULT_MAX_BYTES = env.int("UPLOAD_DEFAULT_MAX_MB", default=10) * 1024 * 1024
FILE_UPLOAD_TEMP_DIR = str(VAR_DIR / "tmp")
# Study library files (study/media.py): per-file limits by item kind, in MB.
STUDY_MAX_MB = {
    "video": env.int("STUDY_VIDEO_MAX_MB", default=1024),
    "audio": env.int("STUDY_AUDIO_MAX_MB", default=200),
    "document": env.int("STUDY_DOCUMENT_MAX_MB", default=50),
}
# Playback of study files (study/media_views.py): on S3 a redirect to a signed URL valid this long;
# with STUDY_ACCEL_REDIRECT (e.g. "/protected/") nginx sends the bytes from its internal location.
STUDY_SIGNED_URL_SECONDS = env.int("STUDY_SIGNED_URL_SECONDS", default=600)
STUDY_ACCEL_REDIRECT = env.str("STUDY_ACCEL_REDIRECT", default="")
Path(FILE_UPLOAD_TEMP_DIR).mkdir(parents=True, exist_ok=True)

# --- Celery ---------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # A broker that is paused or unreachable must not hold a request:
        # fail fast and let the outbox sweep deliver later.
        "socket_timeout": 1,
        "socket_connect_timeout": 1,
        # Longer than any countdown/ETA we use (the longest is 1 h of retry
        # back-off), else Redis would hand the message out twice.
        "visibility_timeout": 6 * 3600,
        "max_retries": 0,
    }
    CELERY_BROKER_CONNECTION_TIMEOUT = 1
else:
    _broker_dir = VAR_DIR / "celery" / "queue"
    _processed_dir = VAR_DIR / "celery" / "processed"
    _broker_dir.mkdir(parents=True, exist_ok=True)
    _processed_dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(_processed_dir),
        "store_processed": False,
        # Broadcast (remote control) messages; kombu's default is ./control in the working directory.
        "control_folder": str(VAR_DIR / "celery" / "control"),
    }
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A broker that is away for long must not end the worker: retry for ever (Celery's
# default gives up after 100 tries). See sanhui/celery.py for the restore that crashed it.
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# On a lost connection, late-acked tasks still running are cancelled and redelivered
# (Celery 6's default; every task here may run twice) instead of finishing unacked.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# How long a worker's claim on an upload lasts unless renewed (it renews every third of it).
EVIDENCE_LEASE_SECONDS = env.int("EVIDENCE_LEASE_SECONDS", default=60)
CELERY_BEAT_SCHEDULE = {
    # 民主评议 rounds whose voting window has ended are closed (once each: a conditional update).
    "appraisal-close-due-rounds": {
        "task": "appraisal.tasks.close_due_rounds",
        "schedule": env.int("APPRAISAL_SWEEP_SECONDS", default=5 * 60),
    },
    # The worker's heartbeat on the status page (/bulletin/status/); late by 2 min is a warning.
    "bulletin-heartbeat": {
        "task": "bulletin.tasks.heartbeat",
        "schedule": env.int("HEARTBEAT_SECONDS", default=30),
        # A beat that was down does not fire a backlog of heartbeats at once.
        "options": {"expires": 60},
    },
    "bulletin-sweep-outbox": {
        "task": "bulletin.tasks.sweep_outbox",
        "schedule": env.int("OUTBOX_SWEEP_SECONDS", default=30),
    },
    # Delivered e-mail and webhook rows older than OUTBOX_KEEP_DAYS are deleted (the inbox stays).
    "bulletin-prune-outbox": {
        "task": "bulletin.tasks.prune_outbox",
        "schedule": env.int("OUTBOX_PRUNE_SECONDS", default=60 * 60),
    },
    # Export files past their EXPORT_KEEP_DAYS are deleted (file and row kept as 已过期).
    "bulletin-sweep-exports": {
        "task": "bulletin.tasks.sweep_exports",
        "schedule": env.int("EXPORT_SWEEP_SECONDS", default=60 * 60),
    },
    # Eve-of-meeting, period-ending, minutes-overdue and absence reminders; each
    # is sent once (outbox dedupe keys), so the interval only sets how late one may be.
    "meetings-send-due-reminders": {
        "task": "meetings.tasks.send_due_reminders",
        "schedule": env.int("REMINDER_SWEEP_SECONDS", default=15 * 60),
    },
    # Uploads whose worker died mid-processing (lease expired) or whose task was lost;
    # with the 60 s lease a killed worker's photo is taken over within 90 s.
    "study-sweep-media": {
        "task": "study.tasks.sweep_study_media",
        "schedule": env.int("STUDY_MEDIA_SWEEP_SECONDS", default=300),
    },
    "supervision-sweep-evidence": {
        "task": "supervision.tasks.sweep_evidence",
        "schedule": env.int("EVIDENCE_SWEEP_SECONDS", default=30),
    },
    "supervision-check-submitted-meetings": {
        "task": "supervision.tasks.check_submitted_meetings",
        "schedule": env.int("RECORD_CHECK_SECONDS", default=2 * 60),
    },
    # Overdue rectifications (flagged and notified once, escalated once after N days).
    "supervision-sweep-rectifications": {
        "task": "supervision.tasks.sweep_rectifications",
        "schedule": env.int("RECTIFICATION_SWEEP_SECONDS", default=15 * 60),
    },
    # Task reminders (N days before, on the day), overdue flags and escalations, each sent once.
    "tasks-sweep": {
        "task": "tasks.tasks.sweep_tasks",
        "schedule": env.int("TASK_SWEEP_SECONDS", default=15 * 60),
    },
    # The compliance rollup's sweep: stores the periods that have just ended (meetings/rollups.py).
    "meetings-roll-closed-periods": {
        "task": "meetings.tasks.roll_closed_periods",
        "schedule": env.int("ROLLUP_SWEEP_SECONDS", default=60 * 60),
        "options": {"expires": 30 * 60},
    },
    # The 回头看 of published assessment notices, once a failing branch's rectification is verified.
    "assessment-recheck-notices": {
        "task": "assessment.tasks.recheck_notices",
        "schedule": env.int("RECHECK_SWEEP_SECONDS", default=60 * 60),
    },
}

# Delivered e-mail and webhook notifications are kept this long, then deleted by the
# beat; inbox rows (what users see under 消息) are never deleted by it.
OUTBOX_KEEP_DAYS = env.int("OUTBOX_KEEP_DAYS", default=90)

# --- E-mail ---------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="sanhui@localhost")
EMAIL_TIMEOUT = 10
WEBHOOK_TIMEOUT_SECONDS = env.int("WEBHOOK_TIMEOUT_SECONDS", default=5)
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# --- Security -------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=False)
if env.bool("DJANGO_BEHIND_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Everything is served by the app itself, so the policy allows only 'self'.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "media-src": ["'self'", "blob:"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
