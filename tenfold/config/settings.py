"""Tenfold settings: one module, driven by TENFOLD_* environment variables (see docs/operations.md)."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from tenfold.config.env import env_int, insecure_settings, read_environment

ENV = read_environment()
BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = ENV.data_dir

DEBUG = ENV.debug
SECRET_KEY = ENV.secret_key
ALLOWED_HOSTS = ENV.allowed_hosts

if not DEBUG:
    _problems = insecure_settings(ENV)
    if _problems:
        raise SystemExit("Tenfold refuses to start with an insecure configuration:\n  - " + "\n  - ".join(_problems))

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_tasks",
    "django_tasks_db",
    "ninja",
    "tenfold.core",
    "tenfold.clients",
    "tenfold.accounts",
    "tenfold.assets",
    "tenfold.agents",
    "tenfold.monitoring",
    "tenfold.patching",
    "tenfold.catalog",
    "tenfold.contracts",
    "tenfold.knowledge",
    "tenfold.servicedesk",
    "tenfold.sales",
    "tenfold.billing",
    "tenfold.automation",
    "tenfold.reporting",
    "tenfold.people",
    "tenfold.portal",
    "tenfold.demo",
]

MIDDLEWARE = [
    "tenfold.core.middleware.RequestSizeLimitMiddleware",
    "tenfold.core.middleware.NulCharacterMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "tenfold.core.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tenfold.accounts.middleware.UserLanguageMiddleware",
    "tenfold.accounts.middleware.MandatoryMFAMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "tenfold.core.middleware.RequestContextMiddleware",
    "tenfold.core.middleware.DomainErrorMiddleware",
]

ROOT_URLCONF = "tenfold.config.urls"
WSGI_APPLICATION = "tenfold.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenfold.core.context_processors.shell",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
_db = dj_database_url.parse(ENV.database_url, conn_max_age=60, conn_health_checks=True)
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["CONN_MAX_AGE"] = 0
    _db["OPTIONS"] = {
        # Several processes (web, worker) write: IMMEDIATE transactions + WAL avoid "database is locked".
        # synchronous=FULL: an acknowledged check-in must survive a power cut, not only a crash.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
    }
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
TENFOLD_DATABASE_VENDOR = "sqlite" if "sqlite" in _db["ENGINE"] else "postgresql"

# --- Cache, tasks ---------------------------------------------------------------------------
REDIS_URL = ENV.redis_url
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    INSTALLED_APPS.append("django_rq")
    RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 600}}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
else:
    # Shared by every process on the machine (rate limits must hold across web workers).
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "tenfold_cache"}}
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --- Authentication -------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_ADAPTER = "tenfold.accounts.adapters.AccountAdapter"
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_RATE_LIMITS = {
    "login_failed": "5/m/ip,5/5m/key",
    "login": "30/m/ip",
    "reset_password": "5/m/ip,3/m/key",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = "Tenfold"
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
MFA_PASSKEY_LOGIN_ENABLED = False

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 12
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = ENV.behind_tls
CSRF_COOKIE_SECURE = ENV.behind_tls
if ENV.behind_tls:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Requests -------------------------------------------------------------------------------
TENFOLD_MAX_REQUEST_BYTES = ENV.max_request_bytes
DATA_UPLOAD_MAX_MEMORY_SIZE = ENV.max_request_bytes
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": DATA_DIR / "media"}},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# --- Email ----------------------------------------------------------------------------------
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("TENFOLD_MAIL_FROM") or "tenfold@localhost"
# Outbound mail (alert and ticket notifications, surveys) through an SMTP relay when TENFOLD_SMTP_HOST is set.
if os.environ.get("TENFOLD_SMTP_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["TENFOLD_SMTP_HOST"]
    EMAIL_HOST_USER = os.environ.get("TENFOLD_SMTP_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("TENFOLD_SMTP_PASSWORD", "")
    _smtp_security = os.environ.get("TENFOLD_SMTP_SECURITY", "starttls").lower()
    EMAIL_USE_TLS = _smtp_security == "starttls"
    EMAIL_USE_SSL = _smtp_security == "tls"
    EMAIL_PORT = env_int("TENFOLD_SMTP_PORT", 465 if EMAIL_USE_SSL else 587 if EMAIL_USE_TLS else 25)
    EMAIL_TIMEOUT = 30

# --- Tenfold --------------------------------------------------------------------------------
TENFOLD_API_PAGE_SIZE = 50
TENFOLD_LIST_PAGE_SIZE = 50
TENFOLD_SCHEDULER_TICK_SECONDS = 5
TENFOLD_WORKER_STALE_SECONDS = 90
# How long a worker holds an outbox event it is delivering; one killed mid-delivery leaves the event to
# another worker after this long (tenfold.core.events). Keep it above the slowest event handler.
TENFOLD_OUTBOX_CLAIM_SECONDS = max(1, env_int("TENFOLD_OUTBOX_CLAIM_SECONDS", 120))
# Raw metric samples and check results older than this many days are deleted once rolled up
# (tenfold.monitoring.history); daily rollups are kept forever.
TENFOLD_RAW_RETENTION_DAYS = max(2, env_int("TENFOLD_RAW_RETENTION_DAYS", 30))
# Agent check-ins one server process works on at once; more are answered 429 with Retry-After
# (tenfold.agents.overload, docs/operations.md). 0: the request threads of `tenfold serve` less two.
TENFOLD_CHECKIN_MAX_INFLIGHT = max(0, env_int("TENFOLD_CHECKIN_MAX_INFLIGHT", 0))
# ... but only while a check-in takes at least this long on average here (ms): a fast server at full
# utilisation refuses nobody; a slow one (database struggling, a fleet's backlog draining) sheds.
TENFOLD_CHECKIN_SHED_AFTER_MS = max(0, env_int("TENFOLD_CHECKIN_SHED_AFTER_MS", 100))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"tenfold": {"handlers": ["console"], "level": "INFO", "propagate": False},
                # One line per task run drowns what matters; failures are still logged.
                "django_tasks": {"handlers": ["console"], "level": "WARNING", "propagate": False}},
}
