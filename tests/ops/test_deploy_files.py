"""deploy/ checked without a daemon: Kubernetes manifests, the compose file, systemd units, nginx.

- Kubernetes: every manifest validated with `kubernetes-validate --strict` (the
  API's own schemas, unknown fields refused), plus what the topology needs.
- compose: `docker compose config` when the plugin is there; always, the
  Compose Specification's JSON schema (vendored: tests/ops/schemas/README.md).
- systemd: `systemd-analyze verify`, any warning a failure, plus the sandboxing.
- nginx: `nginx -t` on a copy with a throwaway certificate when nginx is
  installed; always, a structural check of what the app relies on.
"""

from __future__ import annotations

import configparser
import json
import re
import shutil
import subprocess
from pathlib import Path

import dj_database_url
import jsonschema
import kubernetes_validate
import pytest
import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "kubernetes"
SCHEMAS = Path(__file__).parent / "schemas"


# Kubernetes


def manifests() -> list[tuple[str, dict]]:
    found = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        found += [(path.name, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return found


def by_kind(kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for _, doc in manifests() if doc["kind"] == kind}


@pytest.mark.parametrize(
    ("name", "doc"),
    manifests(),
    ids=lambda value: value if isinstance(value, str) else value["kind"],
)
def test_every_manifest_validates_strictly(name, doc):
    kubernetes_validate.validate(doc, kubernetes_validate.latest_version(), strict=True)


def test_kustomization_lists_every_manifest():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == on_disk


def _container(deployment: dict) -> dict:
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    return container


def test_web_and_workers_scale_with_probes_resources_autoscalers_and_budgets():
    deployments = by_kind("Deployment")
    hpas = {
        h["spec"]["scaleTargetRef"]["name"]: h for h in by_kind("HorizontalPodAutoscaler").values()
    }
    budgets = {
        tuple(sorted(p["spec"]["selector"]["matchLabels"].items())): p
        for p in by_kind("PodDisruptionBudget").values()
    }
    for name in ("licensing-web", "licensing-worker"):
        deployment = deployments[name]
        assert deployment["spec"]["replicas"] >= 2
        container = _container(deployment)
        assert container["resources"]["requests"]["cpu"]
        assert container["resources"]["limits"]["memory"]
        assert "readinessProbe" in container
        assert "livenessProbe" in container
        assert hpas[name]["spec"]["minReplicas"] >= 2
        assert hpas[name]["spec"]["maxReplicas"] > hpas[name]["spec"]["minReplicas"]
        labels = deployment["spec"]["selector"]["matchLabels"]
        assert tuple(sorted(labels.items())) in budgets
    web = _container(deployments["licensing-web"])
    assert "deploy/gunicorn.conf.py" in web["command"]
    for probe in ("readinessProbe", "livenessProbe"):
        get = web[probe]["httpGet"]
        assert get["path"] == "/healthz"
        # ALLOWED_HOSTS refuses the pod's address: the probe names an allowed host.
        [host] = [h["value"] for h in get["httpHeaders"] if h["name"] == "Host"]
        config = by_kind("ConfigMap")["licensing-config"]["data"]
        assert host in config["ALLOWED_HOSTS"].split(",")


def test_beat_is_one_replica_that_never_overlaps_itself():
    beat = by_kind("Deployment")["licensing-beat"]
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"] == {"type": "Recreate"}
    assert "licensing-beat" not in {
        h["spec"]["scaleTargetRef"]["name"] for h in by_kind("HorizontalPodAutoscaler").values()
    }
    assert _container(beat)["command"][:4] == ["celery", "-A", "config", "beat"]


def _secret_keys(pod: dict) -> dict[str, tuple[str, str]]:
    """Each environment variable taken from a Secret: (the Secret, its key)."""
    return {
        e["name"]: (e["valueFrom"]["secretKeyRef"]["name"], e["valueFrom"]["secretKeyRef"]["key"])
        for e in _container(pod)["env"]
    }


def test_the_migration_job_and_every_pod_take_settings_and_secrets_by_reference():
    job = by_kind("Job")["licensing-migrate"]
    assert _container(job)["command"][:2] == ["/bin/sh", "-c"]
    assert _container(job)["command"][2].startswith("python manage.py migrate --noinput && ")
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    config = by_kind("ConfigMap")["licensing-config"]["data"]
    assert config["DEBUG"] == "false"
    assert (config["BEHIND_PROXY"], config["NUM_PROXIES"]) == ("true", "1")
    pods = [*by_kind("Deployment").values(), job]
    for pod in pods:
        spec = pod["spec"]["template"]["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True
        container = _container(pod)
        assert container["envFrom"] == [{"configMapRef": {"name": "licensing-config"}}]
        from_secret = {e["name"]: e["valueFrom"]["secretKeyRef"]["name"] for e in container["env"]}
        migrate_only = {"RUNTIME_DATABASE_URL"} if pod is job else set()
        assert from_secret == dict.fromkeys(
            {"DATABASE_URL", "REDIS_URL", *migrate_only}, "licensing-secrets"
        )
        [secret_volume] = [v for v in spec["volumes"] if "secret" in v]
        assert secret_volume["secret"]["secretName"] == "licensing-secrets"
        keys = {item["key"] for item in secret_volume["secret"]["items"]}
        assert keys == {"SECRET_KEY", "AUDIT_HMAC_KEY"}
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        assert config["SECRET_KEY_FILE"].startswith(mounts[secret_volume["name"]] + "/")
        assert config["AUDIT_HMAC_KEY_FILE"].startswith(mounts[secret_volume["name"]] + "/")
    # No secret values are committed.
    assert not by_kind("Secret")


def test_only_the_migration_job_connects_as_the_owner_and_it_grants_the_runtime_role():
    # The tables' owner can lift the audit trail's guard: web, worker and beat never
    # connect as it; the job makes their role, named by their DATABASE_URL.
    job = by_kind("Job")["licensing-migrate"]
    assert _secret_keys(job)["DATABASE_URL"] == ("licensing-secrets", "MIGRATE_DATABASE_URL")
    assert _secret_keys(job)["RUNTIME_DATABASE_URL"] == ("licensing-secrets", "DATABASE_URL")
    assert _container(job)["command"][2].endswith("python manage.py grant_runtime_role")
    for name, deployment in by_kind("Deployment").items():
        assert _secret_keys(deployment)["DATABASE_URL"] == ("licensing-secrets", "DATABASE_URL")
        assert "RUNTIME_DATABASE_URL" not in _secret_keys(deployment), name


def test_the_ingress_allows_an_upload_of_the_largest_document():
    [ingress] = by_kind("Ingress").values()
    size = ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-body-size"]
    assert _bytes(size) > settings.DOCUMENT_MAX_BYTES
    assert ingress["spec"]["tls"]


# compose


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_the_compose_file_follows_the_compose_specification():
    schema = json.loads((SCHEMAS / "compose-spec.json").read_text())
    # The file says draft 2019-09 (with a trailing "#" jsonschema does not look up).
    jsonschema.Draft201909Validator(schema).validate(compose())


def test_docker_compose_config_accepts_the_file_when_the_plugin_is_installed(tmp_path):
    docker = shutil.which("docker")
    if (
        not docker
        or subprocess.run(
            [docker, "compose", "version"], check=False, capture_output=True
        ).returncode
    ):
        pytest.skip("no docker compose plugin here; the schema test above stands in for it")
    work = tmp_path / "deploy"
    shutil.copytree(DEPLOY, work)
    for name in ("secret_key", "audit_hmac_key", "minio_password"):
        (work / f"{name}.txt").write_text("x")
    result = subprocess.run(
        [docker, "compose", "-f", str(work / "compose.yaml"), "config", "--quiet"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_compose_runs_migrations_first_one_beat_and_documents_in_minio():
    services = compose()["services"]
    assert {"db", "redis", "minio", "minio-bucket", "migrate", "web", "worker", "beat"} <= set(
        services
    )
    for role in ("web", "worker", "beat"):
        assert services[role]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
    assert services["beat"]["deploy"]["replicas"] == 1
    assert "deploy/gunicorn.conf.py" in services["web"]["command"]
    environment = services["web"]["environment"]
    assert environment["DOCUMENTS_S3_ENDPOINT_URL"] == "http://minio:9000"
    assert environment["SECRET_KEY_FILE"].startswith("/run/secrets/")
    assert environment["AUDIT_HMAC_KEY_FILE"].startswith("/run/secrets/")
    assert "appvar:/app/var" in services["web"]["volumes"]


def test_compose_migrates_as_the_owner_and_runs_everything_else_as_the_runtime_role():
    services = compose()["services"]
    migrate = services["migrate"]["environment"]
    owner = dj_database_url.parse(migrate["DATABASE_URL"])
    runtime = dj_database_url.parse(migrate["RUNTIME_DATABASE_URL"])
    # The owner is the database's own user; the runtime role is another.
    assert owner["USER"] == services["db"]["environment"]["POSTGRES_USER"]
    assert runtime["USER"] != owner["USER"]
    assert (runtime["HOST"], runtime["NAME"]) == (owner["HOST"], owner["NAME"])
    for role in ("web", "worker", "beat"):
        assert services[role]["environment"]["DATABASE_URL"] == migrate["RUNTIME_DATABASE_URL"]
        assert "RUNTIME_DATABASE_URL" not in services[role]["environment"]
    # The rest of the settings are the same as the other roles'.
    assert {
        k: v for k, v in migrate.items() if k not in {"DATABASE_URL", "RUNTIME_DATABASE_URL"}
    } == {k: v for k, v in services["web"]["environment"].items() if k != "DATABASE_URL"}
    command = services["migrate"]["command"]
    assert command[:2] == ["/bin/sh", "-c"]
    assert command[2] == (
        "python manage.py migrate --noinput && exec python manage.py grant_runtime_role"
    )


def test_the_image_runs_as_a_user_who_owns_only_a_var_volume():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^USER licensing$", dockerfile, re.M)
    assert "-o licensing -g licensing" in dockerfile
    assert 'VOLUME ["/app/var"]' in dockerfile
    assert "VAR_DIR=/app/var" in dockerfile
    assert "MEDIA_ROOT=/app/var/media" in dockerfile
    assert "AUDIT_HMAC_KEY=" in dockerfile  # collectstatic runs with production settings
    assert '"-c", "deploy/gunicorn.conf.py"' in dockerfile


# systemd

UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
RUNTIME_UNITS = [p for p in UNITS if p.name != "licensing-migrate.service"]
MIGRATE_UNIT = DEPLOY / "systemd" / "licensing-migrate.service"
SANDBOX = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "ReadWritePaths": "/var/lib/licensing",
    "RestrictSUIDSGID": "yes",
}


def unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A unit file's sections and keys, each key with all its values (keys repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        assert current is not None, f"{path.name}: {line!r} outside a section"
        current.setdefault(key, []).append(value)
    return sections


def test_there_are_units_for_web_worker_and_beat_and_the_migrations():
    assert [p.name for p in UNITS] == [
        "licensing-beat.service",
        "licensing-migrate.service",
        "licensing-web.service",
        "licensing-worker.service",
    ]


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_each_unit_is_sandboxed_and_reads_secrets_as_credentials(path):
    service = unit(path)["Service"]
    for key, value in SANDBOX.items():
        assert service.get(key) == [value], key
    assert service["User"] == ["licensing"]
    assert service["EnvironmentFile"][0] == "/etc/licensing/licensing.env"
    credentials = {v.split(":")[0] for v in service["LoadCredential"]}
    assert credentials == {"secret_key", "audit_hmac_key"}
    environment = " ".join(service["Environment"])
    assert "SECRET_KEY_FILE=%d/secret_key" in environment
    assert "AUDIT_HMAC_KEY_FILE=%d/audit_hmac_key" in environment
    assert "VAR_DIR=/var/lib/licensing" in environment
    # configparser reads it too (no stray lines), as systemd's own parser would.
    configparser.ConfigParser(strict=False, interpolation=None).read_string(path.read_text())


@pytest.mark.parametrize("path", RUNTIME_UNITS, ids=lambda p: p.name)
def test_web_worker_and_beat_start_at_boot_as_the_runtime_role_after_the_migrations(path):
    sections = unit(path)
    assert sections["Install"]["WantedBy"] == ["multi-user.target"]
    # licensing.env's DATABASE_URL: the runtime role; the owner's is in migrate.env only.
    assert sections["Service"]["EnvironmentFile"] == ["/etc/licensing/licensing.env"]
    assert "licensing-migrate.service" in sections["Unit"]["After"][0].split()
    assert "Requires" not in sections["Unit"]  # a restart never migrates


def test_the_migrate_unit_runs_as_the_owner_then_grants_the_runtime_role_and_is_never_enabled():
    sections = unit(MIGRATE_UNIT)
    service = sections["Service"]
    assert service["Type"] == ["oneshot"]
    assert service["ExecStart"] == [
        "/opt/licensing/.venv/bin/python manage.py migrate --noinput",
        "/opt/licensing/.venv/bin/python manage.py grant_runtime_role",
    ]
    # Read after licensing.env, so its DATABASE_URL (the owner) wins for this unit alone.
    assert service["EnvironmentFile"] == [
        "/etc/licensing/licensing.env",
        "/etc/licensing/migrate.env",
    ]
    assert "Install" not in sections


def test_the_web_unit_runs_gunicorn_with_its_configuration_file():
    [exec_start] = unit(DEPLOY / "systemd" / "licensing-web.service")["Service"]["ExecStart"]
    assert "gunicorn -c deploy/gunicorn.conf.py config.wsgi:application" in exec_start


def test_systemd_analyze_verifies_the_units_without_a_warning(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("no systemd-analyze here; the structural tests above stand in")
    venv_bin = ROOT / ".venv" / "bin"
    for path in UNITS:
        # The units name /opt/licensing/.venv; verify wants their programs to exist.
        text = path.read_text().replace("/opt/licensing/.venv/bin", str(venv_bin))
        (tmp_path / path.name).write_text(text)
    result = subprocess.run(
        [analyze, "verify", "--man=no", *(str(tmp_path / p.name) for p in UNITS)],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    # Unknown keys and unparsable values are only warnings to systemd: not here.
    problems = [line for line in result.stderr.splitlines() if str(tmp_path) in line]
    assert problems == []


# nginx

NGINX = DEPLOY / "nginx" / "licensing.conf"


def _bytes(size: str) -> int:
    number, unit_ = re.fullmatch(r"(\d+)([kmg]?)", size.lower()).groups()
    return int(number) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit_]


def _location(text: str, prefix: str) -> str:
    """The body of `location PREFIX {...}` in the HTTPS server."""
    text = text[text.index("listen 443") :]
    match = re.search(r"location\s+" + re.escape(prefix) + r"\s*\{(.*?)\}", text, re.S)
    assert match, f"no location {prefix}"
    return match.group(1)


def test_nginx_terminates_tls_and_sets_the_forwarded_headers_the_app_trusts():
    text = NGINX.read_text()
    assert text.count("{") == text.count("}")
    assert re.search(r"listen 443 ssl", text)
    assert re.search(r"ssl_certificate\s+\S+;", text)
    assert re.search(r"ssl_protocols TLSv1\.2 TLSv1\.3;", text)
    assert "return 301 https://$host$request_uri;" in text
    proxied = _location(text, "/")
    assert "proxy_pass http://licensing_app;" in proxied
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in proxied
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in proxied
    assert "proxy_set_header Host $host;" in proxied
    # ...which the app trusts only when told it is behind one proxy.
    assert "BEHIND_PROXY=true" in text
    assert "NUM_PROXIES=1" in text


def test_nginx_takes_an_upload_of_the_largest_document_with_its_form():
    [size] = re.findall(r"client_max_body_size\s+(\w+);", NGINX.read_text())
    limit = _bytes(size)
    assert settings.DOCUMENT_MAX_BYTES < limit <= settings.DOCUMENT_MAX_BYTES + 2 * 1024**2


def test_nginx_serves_static_files_and_documents_only_by_internal_redirect():
    text = NGINX.read_text()
    assert "alias /opt/licensing/staticfiles/;" in _location(text, "/static/")
    protected = _location(text, settings.DOCUMENTS_X_ACCEL_PREFIX)
    assert re.search(r"^\s*internal;", protected, re.M)
    assert "alias /var/lib/licensing/media/;" in protected
    assert "return 404;" in _location(text, "/media/")
    # The systemd units put MEDIA_ROOT where that alias points.
    web = unit(DEPLOY / "systemd" / "licensing-web.service")["Service"]
    environment = " ".join(web["Environment"])
    assert "MEDIA_ROOT=/var/lib/licensing/media" in environment


def test_nginx_accepts_the_configuration_when_installed(tmp_path):
    nginx = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None
    )
    openssl = shutil.which("openssl")
    if not nginx or not openssl:
        pytest.skip("nginx is not installed; the structural tests above stand in for nginx -t")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=licensing.example.org", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    site = (
        NGINX.read_text()
        .replace("/etc/ssl/licensing/fullchain.pem", str(cert))
        .replace("/etc/ssl/licensing/privkey.pem", str(key))
    )
    (tmp_path / "licensing.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        "events {}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {tmp_path};\n"
        f"  include {tmp_path}/licensing.conf;\n}}\n"
    )
    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
