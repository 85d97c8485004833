"""ReplicaSet identity: the pod-template-hash label and the revision annotations.

Upstream names a Deployment's ReplicaSet ``<deployment>-<hash>`` where the hash is FNV-1a
(32 bit) over the pod template, written with a consonant-and-digit alphabet so it never
spells words (``rand.SafeEncodeString``). Upstream hashes Go's printed struct; this hashes
the template's canonical JSON, so values differ from a real cluster's but are just as
stable: the same template always gives the same name. Pure functions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

POD_TEMPLATE_HASH_LABEL = "pod-template-hash"
REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
DESIRED_REPLICAS_ANNOTATION = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS_ANNOTATION = "deployment.kubernetes.io/max-replicas"

_FNV32_OFFSET = 0x811C9DC5
_FNV32_PRIME = 0x01000193
_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def fnv1a_32(data: bytes) -> int:
    """The 32-bit FNV-1a hash of ``data``."""
    value = _FNV32_OFFSET
    for byte in data:
        value = ((value ^ byte) * _FNV32_PRIME) & 0xFFFFFFFF
    return value


def safe_encode(text: str) -> str:
    """Map each character to the safe alphabet by its code (upstream SafeEncodeString)."""
    return "".join(_SAFE_ALPHABET[ord(ch) % len(_SAFE_ALPHABET)] for ch in text)


def pod_template_hash(template: Mapping[str, object], collision_count: int | None = None) -> str:
    """The pod-template-hash of a Deployment's ``spec.template`` (a JSON-like mapping).

    Any ``pod-template-hash`` label already in the template is ignored, so a ReplicaSet's
    template (which carries it) hashes like the Deployment template it came from.
    ``collision_count`` (status.collisionCount) salts the hash after a name collision,
    written as 8 little-endian bytes like upstream.
    """
    body = json.dumps(_without_hash_label(template), sort_keys=True, separators=(",", ":"))
    data = body.encode()
    if collision_count is not None:
        data += collision_count.to_bytes(4, "little") + bytes(4)
    return safe_encode(str(fnv1a_32(data)))


def _without_hash_label(template: Mapping[str, object]) -> Mapping[str, object]:
    metadata = template.get("metadata")
    if not isinstance(metadata, Mapping) or not isinstance(metadata.get("labels"), Mapping):
        return template
    labels = {k: v for k, v in metadata["labels"].items() if k != POD_TEMPLATE_HASH_LABEL}
    return {**template, "metadata": {**metadata, "labels": labels}}


def replica_set_name(deployment_name: str, template_hash: str) -> str:
    """The deterministic name of a Deployment's ReplicaSet for one template."""
    return f"{deployment_name}-{template_hash}"


def next_revision(old_revisions: Iterable[int]) -> int:
    """The new ReplicaSet's revision: one more than the highest old one (first is 1)."""
    return max(old_revisions, default=0) + 1


def parse_revision(annotations: Mapping[str, str]) -> int:
    """A ReplicaSet's revision annotation; 0 when absent or not a number, as upstream."""
    text = annotations.get(REVISION_ANNOTATION, "")
    return int(text) if text.isdigit() else 0


def replica_annotations(revision: int, desired: int, max_replicas: int) -> dict[str, str]:
    """The annotations the Deployment controller keeps on its ReplicaSets.

    ``desired`` is the Deployment's replicas and ``max_replicas`` replicas + maxSurge, both
    as of the last scale: proportional scaling reads them back to size each ReplicaSet.
    """
    return {
        REVISION_ANNOTATION: str(revision),
        DESIRED_REPLICAS_ANNOTATION: str(desired),
        MAX_REPLICAS_ANNOTATION: str(max_replicas),
    }
