"""Settings from the environment, and the health probe."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.django_db


def _django_check(**env: str) -> subprocess.CompletedProcess:
    environment = {
        k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "AUDIT_HMAC_KEY"}
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = _django_check(DEBUG="false", ALLOWED_HOSTS="licensing.example.com")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_production_settings_pass_the_deploy_check():
    result = _django_check(
        DEBUG="false",
        SECRET_KEY="a" * 20 + "-long-random-production-secret-key-value-0123456789",
        AUDIT_HMAC_KEY="another-long-random-key-for-the-audit-chain",
        ALLOWED_HOSTS="licensing.example.com",
    )
    assert result.returncode == 0, result.stderr + result.stdout


def test_production_refuses_to_start_without_an_audit_key():
    result = _django_check(
        DEBUG="false",
        SECRET_KEY="a" * 20 + "-long-random-production-secret-key-value-0123456789",
        ALLOWED_HOSTS="licensing.example.com",
    )
    assert result.returncode != 0
    assert "AUDIT_HMAC_KEY must be set when DEBUG is off" in result.stderr


def test_production_refuses_to_start_with_the_published_development_audit_key():
    # The development key is in the source, so anyone could recompute the chain with it.
    result = _django_check(
        DEBUG="false",
        SECRET_KEY="a" * 20 + "-long-random-production-secret-key-value-0123456789",
        AUDIT_HMAC_KEY="insecure-development-audit-key",
        ALLOWED_HOSTS="licensing.example.com",
    )
    assert result.returncode != 0
    assert "AUDIT_HMAC_KEY must not be the development key when DEBUG is off" in result.stderr


def test_the_audit_key_must_differ_from_the_secret_key(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("the-same-long-random-value-for-both-keys-0123456789")
    result = _django_check(
        DEBUG="false",
        SECRET_KEY_FILE=str(secret),
        AUDIT_HMAC_KEY_FILE=str(secret),
        ALLOWED_HOSTS="licensing.example.com",
    )
    assert result.returncode != 0
    assert "AUDIT_HMAC_KEY must differ from SECRET_KEY" in result.stderr


def test_a_bad_boolean_is_a_clear_error():
    result = _django_check(DEBUG="perhaps")
    assert result.returncode != 0
    assert "DEBUG must be true or false" in result.stderr


def test_health_is_ok_when_the_database_and_broker_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_health_is_503_when_the_broker_does_not_answer(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"] == "down"
    assert response.json()["database"] == "ok"


def _settings_of(names: str, **env: str) -> list[str]:
    """The values of some settings as a process started with `env` sees them."""
    environment = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "SECRET_KEY",
            "DEBUG",
            "PORT",
            "SITE_URL",
            "BEHIND_PROXY",
            "API_DOCS_PUBLIC",
            "AUDIT_HMAC_KEY",
        }
    }
    environment.update(env)
    code = (
        "import django; django.setup(); from django.conf import settings; "
        f"print('|'.join(str(getattr(settings, n, None)) for n in {names.split()!r}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**environment, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout.strip().split("|")


PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k3-Vq8pX2" * 7,  # long and varied enough for the W009 check
    "AUDIT_HMAC_KEY": "a-different-key-for-the-audit-chain",
    "ALLOWED_HOSTS": "licensing.example.com",
}


def test_site_url_follows_the_port_unless_set():
    assert _settings_of("SITE_URL") == ["http://127.0.0.1:8000"]
    assert _settings_of("SITE_URL", PORT="9000") == ["http://127.0.0.1:9000"]
    assert _settings_of("SITE_URL", PORT="9000", SITE_URL="https://x.example") == [
        "https://x.example"
    ]


def test_the_forwarded_proto_header_is_trusted_only_behind_a_proxy():
    assert _settings_of("SECURE_PROXY_SSL_HEADER", **PRODUCTION) == ["None"]
    assert _settings_of("SECURE_PROXY_SSL_HEADER", BEHIND_PROXY="true", **PRODUCTION) == [
        "('HTTP_X_FORWARDED_PROTO', 'https')"
    ]


def test_the_api_docs_need_a_login_in_production_by_default():
    assert _settings_of("API_DOCS_PUBLIC") == ["True"]
    assert _settings_of("API_DOCS_PUBLIC", **PRODUCTION) == ["False"]
    assert _settings_of("API_DOCS_PUBLIC", API_DOCS_PUBLIC="true", **PRODUCTION) == ["True"]


def test_production_settings_pass_the_deploy_check_behind_a_proxy_too():
    result = _django_check(BEHIND_PROXY="true", **PRODUCTION)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "WARNING" not in result.stderr + result.stdout


def test_the_audit_anchor_log_is_written_whatever_the_log_level():
    # The log of every committed event is the trail's continuous anchor: a quieter
    # LOG_LEVEL must not silence it.
    code = (
        "import django; django.setup(); from licensing.audit import anchor_log, LOGGED_EVENT; "
        "anchor_log.info(LOGGED_EVENT, 7, 'a' * 64)"
    )
    environment = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "AUDIT_HMAC_KEY"}}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**environment, "DJANGO_SETTINGS_MODULE": "config.settings", "LOG_LEVEL": "WARNING"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert f"audit event seq=7 hash={'a' * 64}" in result.stderr
