"""deploy/shop/base holds together: the shop reaches the database the StatefulSet runs,
with the credentials the Secret holds. (The sandbox cannot apply the base: it serves no
Secret or StatefulSet; tests/sandbox/test_applying.py checks that refusal.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from slagate.shop.cli import DATABASE_URL_ENV
from slagate.shop.database import Backend, DatabaseUrl

BASE = Path(__file__).resolve().parents[2] / "deploy/shop/base"


def objects() -> dict[tuple[str, str], dict[str, Any]]:
    found = {}
    for path in sorted(BASE.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document:
                found[(document["kind"], document["metadata"]["name"])] = document
    return found


def containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    spec = workload["spec"]["template"]["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]


def test_no_shop_pod_needs_a_shared_volume_any_more() -> None:
    found = objects()

    assert not [key for key in found if key[0] == "PersistentVolumeClaim"]
    for name in ("product", "order"):
        spec = found[("Deployment", name)]["spec"]["template"]["spec"]
        assert "volumes" not in spec
        assert "--db" not in spec["containers"][0]["args"]


def test_the_shop_reads_the_secret_the_database_is_made_with() -> None:
    found = objects()
    secret = found[("Secret", "shop-database")]
    keys = set(secret["stringData"])
    workloads = [found[("StatefulSet", "postgres")]] + [
        found[("Deployment", name)] for name in ("product", "order")
    ]

    for workload in workloads:
        for container in containers(workload):
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref is not None:
                    assert (ref["name"], ref["key"] in keys) == ("shop-database", True), env


def test_the_shop_url_names_the_headless_service_of_the_statefulset() -> None:
    found = objects()
    service = found[("Service", "postgres")]
    statefulset = found[("StatefulSet", "postgres")]
    port = service["spec"]["ports"][0]["port"]

    assert service["spec"]["clusterIP"] == "None"
    assert statefulset["spec"]["serviceName"] == "postgres"
    labels = statefulset["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert statefulset["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
    for name in ("product", "order"):
        env = {e["name"]: e for e in containers(found[("Deployment", name)])[-1]["env"]}
        url = env[DATABASE_URL_ENV]["value"]
        assert DatabaseUrl.parse(url).backend is Backend.POSTGRES
        assert f"@postgres:{port}/" in url
        for variable in ("DB_USER", "DB_PASSWORD", "DB_NAME"):
            assert f"$({variable})" in url
            assert list(env).index(variable) < list(env).index(DATABASE_URL_ENV)  # $(VAR) order


def test_the_database_is_ready_only_when_it_accepts_connections() -> None:
    container = objects()[("StatefulSet", "postgres")]["spec"]["template"]["spec"]["containers"][0]

    assert container["image"].startswith("postgres:")
    assert "pg_isready" in " ".join(container["readinessProbe"]["exec"]["command"])
