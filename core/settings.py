"""Settings from the environment (and `.env`), one object for the whole process.

Every external server is an address: leave it empty and `muhurta dev` starts an embedded one.
Secrets are `SecretStr` so they never appear in a repr or a log line.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    # An empty variable (FOO=) means "not set", as compose files and shells often leave them.
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_ignore_empty=True)

    environment: str = Field("development", alias="MUHURTA_ENV")
    data_dir: Path = Field(Path(".muhurta"), alias="MUHURTA_DATA_DIR")

    database_url: str = Field(
        "postgresql+psycopg://muhurta:muhurta@127.0.0.1:5544/muhurta", alias="DATABASE_URL"
    )
    database_pool_size: int = Field(10, alias="DATABASE_POOL_SIZE")
    # How long a request waits for a pooled connection before it is answered 503 + Retry-After.
    database_pool_timeout_seconds: float = Field(5.0, alias="DATABASE_POOL_TIMEOUT")
    # Each API process keeps the tenants it served, dropped when PostgreSQL says they changed
    # (api/tenant_directory.py), and the public slot listings it has shown (api/slot_listings.py);
    # off: every tenant request reads its tenant's row, every listing its consultant's schedule.
    tenant_directory: bool = Field(True, alias="TENANT_DIRECTORY")
    redis_url: str = Field("redis://127.0.0.1:6380/0", alias="REDIS_URL")

    temporal_address: str = Field("127.0.0.1:7233", alias="TEMPORAL_ADDRESS")
    temporal_namespace: str = Field("default", alias="TEMPORAL_NAMESPACE")
    temporal_task_queue: str = Field("muhurta", alias="TEMPORAL_TASK_QUEUE")
    temporal_tls: bool = Field(False, alias="TEMPORAL_TLS")
    temporal_tls_cert: Path | None = Field(None, alias="TEMPORAL_TLS_CERT")
    temporal_tls_key: Path | None = Field(None, alias="TEMPORAL_TLS_KEY")
    temporal_api_key: SecretStr | None = Field(None, alias="TEMPORAL_API_KEY")
    # The longest a request waits on a workflow update (which answers once its change is made):
    # past it the request is a 503 + Retry-After, never a hang (api/temporal_calls.py).
    api_update_deadline_seconds: float = Field(30.0, alias="API_UPDATE_DEADLINE_SECONDS")
    temporal_ui_url: str = Field("http://127.0.0.1:8233", alias="TEMPORAL_UI_URL")
    # Ports of the servers `muhurta dev` embeds (each unless its *_URL / ADDRESS is given).
    dev_postgres_port: int = Field(5544, alias="DEV_POSTGRES_PORT")
    dev_redis_port: int = Field(6380, alias="DEV_REDIS_PORT")
    dev_temporal_port: int = Field(7233, alias="DEV_TEMPORAL_PORT")
    dev_temporal_ui_port: int = Field(8233, alias="DEV_TEMPORAL_UI_PORT")

    api_host: str = Field("127.0.0.1", alias="API_HOST")
    api_port: int = Field(8000, alias="API_PORT")
    api_workers: int = Field(1, alias="API_WORKERS")
    public_base_url: str = Field("http://127.0.0.1:8000", alias="PUBLIC_BASE_URL")
    # A request for `<slug>.<base_domain>` belongs to tenant <slug>.
    base_domain: str = Field("muhurta.localhost", alias="BASE_DOMAIN")
    cors_origins: list[str] = Field(default_factory=list, alias="CORS_ORIGINS")

    # Signing key for access tokens and the key that encrypts secrets kept in the database.
    # Empty means: development keys generated once and kept under data_dir.
    jwt_secret: SecretStr | None = Field(None, alias="JWT_SECRET")
    encryption_keys: SecretStr | None = Field(
        None, alias="ENCRYPTION_KEYS", description="comma-separated Fernet keys, newest first"
    )
    access_token_minutes: int = Field(15, alias="ACCESS_TOKEN_MINUTES")
    refresh_token_days: int = Field(7, alias="REFRESH_TOKEN_DAYS")
    # Two tabs refreshing one token at once: within this many seconds of a rotation the same
    # token gets the same new pair instead of counting as a replay (docs/api.md).
    refresh_reuse_grace_seconds: int = Field(10, ge=0, le=120, alias="REFRESH_REUSE_GRACE_SECONDS")
    email_token_hours: int = Field(48, alias="EMAIL_TOKEN_HOURS")
    password_reset_minutes: int = Field(30, alias="PASSWORD_RESET_MINUTES")

    # Login throttling: failures per account in a window, attempts per IP per minute.
    login_max_failures: int = Field(5, alias="LOGIN_MAX_FAILURES")
    login_failure_window_seconds: int = Field(900, alias="LOGIN_FAILURE_WINDOW_SECONDS")
    login_max_per_ip_per_minute: int = Field(30, alias="LOGIN_MAX_PER_IP_PER_MINUTE")

    # API rate limits (docs/api.md, "Rate limits"): requests per window on every route, counted per
    # client address and per tenant for each class of route (api/rate_limits.py); 0 = no limit.
    rate_limits_enabled: bool = Field(True, alias="RATE_LIMITS_ENABLED")
    rate_limit_window_seconds: int = Field(60, ge=1, le=3600, alias="RATE_LIMIT_WINDOW_SECONDS")
    rate_limit_auth_per_ip: int = Field(60, ge=0, alias="RATE_LIMIT_AUTH_PER_IP")
    rate_limit_auth_per_tenant: int = Field(600, ge=0, alias="RATE_LIMIT_AUTH_PER_TENANT")
    rate_limit_public_per_ip: int = Field(120, ge=0, alias="RATE_LIMIT_PUBLIC_PER_IP")
    rate_limit_public_per_tenant: int = Field(3000, ge=0, alias="RATE_LIMIT_PUBLIC_PER_TENANT")
    rate_limit_read_per_ip: int = Field(600, ge=0, alias="RATE_LIMIT_READ_PER_IP")
    rate_limit_read_per_tenant: int = Field(12000, ge=0, alias="RATE_LIMIT_READ_PER_TENANT")
    rate_limit_write_per_ip: int = Field(120, ge=0, alias="RATE_LIMIT_WRITE_PER_IP")
    rate_limit_write_per_tenant: int = Field(3000, ge=0, alias="RATE_LIMIT_WRITE_PER_TENANT")
    rate_limit_webhook_per_ip: int = Field(1200, ge=0, alias="RATE_LIMIT_WEBHOOK_PER_IP")
    rate_limit_webhook_per_tenant: int = Field(6000, ge=0, alias="RATE_LIMIT_WEBHOOK_PER_TENANT")

    # Files: where uploads are kept (local disk under data_dir/files, or an S3-compatible bucket),
    # how large an upload may be, and how long signed download links work.
    storage_backend: Literal["local", "s3"] = Field("local", alias="STORAGE_BACKEND")
    s3_endpoint_url: str = Field("https://s3.amazonaws.com", alias="S3_ENDPOINT_URL")
    s3_bucket: str | None = Field(None, alias="S3_BUCKET")
    s3_region: str = Field("us-east-1", alias="S3_REGION")
    s3_access_key_id: str | None = Field(None, alias="S3_ACCESS_KEY_ID")
    s3_secret_access_key: SecretStr | None = Field(None, alias="S3_SECRET_ACCESS_KEY")
    s3_path_style: bool = Field(True, alias="S3_PATH_STYLE", description="bucket in the path, not the host")
    upload_max_bytes: int = Field(20 * 1024 * 1024, alias="UPLOAD_MAX_BYTES")
    download_link_minutes: int = Field(15, alias="DOWNLOAD_LINK_MINUTES")
    course_media_max_bytes: int = Field(200 * 1024 * 1024, alias="COURSE_MEDIA_MAX_BYTES")
    course_media_link_minutes: int = Field(240, alias="COURSE_MEDIA_LINK_MINUTES")
    report_link_days: int = Field(7, alias="REPORT_LINK_DAYS", description="links sent by email")
    # Bookings: the default meeting provider needs no account (a Jitsi Meet room per booking).
    jitsi_base_url: str = Field("https://meet.jit.si", alias="JITSI_BASE_URL")
    # Razorpay, the platform's own account. Without keys (and outside production) the local
    # gateway (`activities/payments/local_gateway.py`) stands in on RAZORPAY_LOCAL_PORT with
    # development keys kept under data_dir; tenants may also store their own keys (encrypted).
    razorpay_key_id: str | None = Field(None, alias="RAZORPAY_KEY_ID")
    razorpay_key_secret: SecretStr | None = Field(None, alias="RAZORPAY_KEY_SECRET")
    razorpay_webhook_secret: SecretStr | None = Field(None, alias="RAZORPAY_WEBHOOK_SECRET")
    razorpay_base_url: str | None = Field(None, alias="RAZORPAY_BASE_URL")
    razorpay_local_port: int = Field(9034, alias="RAZORPAY_LOCAL_PORT")
    # Notifications (docs/notifications.md). Without credentials every message goes to the local
    # outbox (GET /api/v1/outbox), so the product runs offline; `auto` picks the real provider as
    # soon as its credentials are set, `local` forces the outbox.
    email_provider: Literal["auto", "local", "sendgrid"] = Field("auto", alias="EMAIL_PROVIDER")
    sms_provider: Literal["auto", "local", "twilio"] = Field("auto", alias="SMS_PROVIDER")
    sendgrid_api_key: SecretStr | None = Field(None, alias="SENDGRID_API_KEY")
    sendgrid_from_email: str = Field("no-reply@muhurta.app", alias="SENDGRID_FROM_EMAIL")
    sendgrid_from_name: str = Field("Muhurta", alias="SENDGRID_FROM_NAME")
    sendgrid_api_host: str = Field("https://api.sendgrid.com", alias="SENDGRID_API_HOST")
    # The Event Webhook's verification key (Mail Settings > Signed Event Webhook), base64 DER.
    sendgrid_webhook_public_key: str | None = Field(None, alias="SENDGRID_WEBHOOK_PUBLIC_KEY")
    twilio_account_sid: str | None = Field(None, alias="TWILIO_ACCOUNT_SID")
    twilio_auth_token: SecretStr | None = Field(None, alias="TWILIO_AUTH_TOKEN")
    twilio_sms_from: str | None = Field(None, alias="TWILIO_SMS_FROM")
    twilio_whatsapp_from: str | None = Field(None, alias="TWILIO_WHATSAPP_FROM")
    twilio_api_base_url: str = Field("https://api.twilio.com", alias="TWILIO_API_BASE_URL")
    notify_http_timeout_seconds: float = Field(10.0, alias="NOTIFY_HTTP_TIMEOUT_SECONDS")
    # Signed webhooks older (or newer) than this are refused: a captured request cannot be replayed later.
    webhook_max_age_seconds: int = Field(600, alias="WEBHOOK_MAX_AGE_SECONDS")

    # Retention (docs/privacy.md): the daily RetentionSweep removes what is older than these; 0
    # keeps it forever. Invoices and payment records are never swept (GST: 8 years at least).
    retention_messages_days: int = Field(365, ge=0, alias="RETENTION_MESSAGES_DAYS")
    retention_files_days: int = Field(1095, ge=0, alias="RETENTION_FILES_DAYS")
    retention_access_grace_days: int = Field(30, ge=0, alias="RETENTION_ACCESS_GRACE_DAYS")
    retention_checkout_days: int = Field(90, ge=0, alias="RETENTION_CHECKOUT_DAYS")
    retention_analytics_views_days: int = Field(400, ge=0, alias="RETENTION_ANALYTICS_VIEWS_DAYS")

    # Observability (docs/observability.md): /metrics on the API (loopback callers, or a bearer
    # METRICS_TOKEN) and on each worker (WORKER_METRICS_PORT, 0 = none); traces exported by OTLP/HTTP
    # only when an endpoint is configured; TELEMETRY_ENABLED=false removes all of it (bench/).
    telemetry_enabled: bool = Field(True, alias="TELEMETRY_ENABLED")
    metrics_token: SecretStr | None = Field(None, alias="METRICS_TOKEN")
    worker_metrics_host: str = Field("127.0.0.1", alias="WORKER_METRICS_HOST")
    # The worker's Temporal tuning (docs/remedies.md, Scale; workers.worker.worker_tuning): workflows
    # kept in memory (the worker's memory stops growing at this many; a cached remedy programme
    # costs about 0.14 MB, so 10,000 about 1.4 GB above the worker's own 0.2-0.3 GB), task slots and
    # pollers; unset ones keep the SDK's defaults.
    worker_max_cached_workflows: int = Field(10_000, alias="WORKER_MAX_CACHED_WORKFLOWS", ge=0)
    worker_max_concurrent_workflow_tasks: int | None = Field(None, alias="WORKER_MAX_CONCURRENT_WORKFLOW_TASKS", ge=2)
    # Above the SDK's 100: a remedy reminder handed over ahead of its instant holds its slot until
    # the instant (docs/remedies.md, Scale), so a burst larger than the slots would wait for slots.
    worker_max_concurrent_activities: int | None = Field(500, alias="WORKER_MAX_CONCURRENT_ACTIVITIES", ge=1)
    worker_max_concurrent_local_activities: int | None = Field(None, alias="WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES",
                                                               ge=1)
    worker_workflow_task_pollers: int | None = Field(None, alias="WORKER_WORKFLOW_TASK_POLLERS", ge=2)
    worker_activity_task_pollers: int | None = Field(None, alias="WORKER_ACTIVITY_TASK_POLLERS", ge=1)
    # The worker freezes its start-up heap and collects its young generation every this many
    # allocations, not 700 (workers/collector.py, docs/remedies.md); 0 leaves CPython's collector as is.
    worker_gc_young_threshold: int = Field(50_000, alias="WORKER_GC_YOUNG_THRESHOLD", ge=0)
    worker_metrics_port: int = Field(9464, alias="WORKER_METRICS_PORT")
    otlp_endpoint: str | None = Field(None, alias="OTEL_EXPORTER_OTLP_ENDPOINT")
    otlp_traces_endpoint: str | None = Field(None, alias="OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    # Share of traces recorded; default: all when exported, none otherwise (trace ids still flow
    # into logs and problem+json either way).
    traces_sample_ratio: float | None = Field(None, alias="TRACES_SAMPLE_RATIO", ge=0, le=1)

    log_level: str = Field("INFO", alias="LOG_LEVEL")
    log_json: bool = Field(True, alias="LOG_JSON")

    @property
    def is_production(self) -> bool:
        return self.environment == "production"


@lru_cache
def get_settings() -> Settings:
    return Settings()
