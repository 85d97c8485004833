"""Server-side printing for kubectl: Table answers when the Accept header asks."""

from __future__ import annotations

import json

import httpx

from slagate.sandbox.apiserver.store import ObjectStore
from slagate.sandbox.objects.resources import HORIZONTAL_POD_AUTOSCALERS

TABLE_ACCEPT = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
HPA_URL = "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers"
HPA = {
    "metadata": {"name": "web"},
    "spec": {
        "scaleTargetRef": {"kind": "Deployment", "name": "web"},
        "maxReplicas": 10,
        "metrics": [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": 15},
                },
            }
        ],
    },
}


def test_list_as_table_has_kubectl_columns(
    raw_http: httpx.Client, sandbox_store: ObjectStore
) -> None:
    sandbox_store.create(HORIZONTAL_POD_AUTOSCALERS, HPA, "default")
    sandbox_store.modify(
        HORIZONTAL_POD_AUTOSCALERS,
        "default",
        "web",
        lambda h: {
            **h,
            "status": {
                "currentReplicas": 3,
                "desiredReplicas": 3,
                "currentMetrics": [
                    {
                        "type": "Resource",
                        "resource": {"name": "cpu", "current": {"averageUtilization": 42}},
                    }
                ],
            },
        },
        "status",
    )
    table = raw_http.get(HPA_URL, headers={"accept": TABLE_ACCEPT}).json()
    assert table["kind"] == "Table"
    assert [c["name"] for c in table["columnDefinitions"]] == [
        "Name",
        "Reference",
        "Targets",
        "MinPods",
        "MaxPods",
        "Replicas",
        "Age",
    ]
    assert table["rows"][0]["cells"][:6] == ["web", "Deployment/web", "cpu: 42%/15%", 1, 10, 3]
    assert table["rows"][0]["object"]["metadata"]["name"] == "web"


def test_plain_accept_gets_plain_objects(
    raw_http: httpx.Client, sandbox_store: ObjectStore
) -> None:
    sandbox_store.create(HORIZONTAL_POD_AUTOSCALERS, HPA, "default")
    assert raw_http.get(HPA_URL).json()["kind"] == "HorizontalPodAutoscalerList"
    assert raw_http.get(f"{HPA_URL}/web").json()["kind"] == "HorizontalPodAutoscaler"


def test_watch_as_table_streams_table_rows(
    raw_http: httpx.Client, sandbox_store: ObjectStore
) -> None:
    sandbox_store.create(HORIZONTAL_POD_AUTOSCALERS, HPA, "default")
    params = {"watch": "true", "resourceVersion": "0", "timeoutSeconds": "1"}
    lines = raw_http.get(HPA_URL, params=params, headers={"accept": TABLE_ACCEPT}).text
    events = [json.loads(line) for line in lines.splitlines()]
    assert [(e["type"], e["object"]["kind"]) for e in events] == [("ADDED", "Table")]
    assert events[0]["object"]["rows"][0]["cells"][0] == "web"
