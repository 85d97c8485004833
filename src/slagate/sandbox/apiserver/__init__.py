"""The sandbox's kube-apiserver: the REST API on loopback (HTTPS, a bearer token) and the
store behind it.

What the API server owns, from the wire down (nothing here runs at import time)::

    serving        ApiServer: threaded HTTP/1.1 over TLS, chunked watch streams, port, stop
    authenticating the bearer token every request but /version carries (admin, or a
                   ServiceAccount's: serviceaccounts); 401 otherwise
    authorizing    RBAC over the stored Roles and bindings; 403 in upstream's words
    certificates   a throwaway authority and the serving certificate for loopback
    api            Api.handle(Request) -> Response | WatchPlan; counters, open watches
    messages       Request, Response, WatchPlan: what passes between the wire and Api
    routing        URL path -> route;  resthandlers: list/watch/get/create/update/patch/delete
    watchstream    one watch on the wire: events, BOOKMARK, timeout, cut, 410 ERROR
    slowing        Slowdown: answers and watch events held back for a while (a fault)
    statuses       the Status body of an ApiError (the errors are in slagate.errors)
    store          ObjectStore: objects, global revision, delete hooks, in-process watch
    watching       WatchEvent, EventLog (ring buffer per type), Watcher (subscription)
    strategies     server-owned metadata, status/spec split, generation
    defaulting, validation       upstream defaults; 422 Invalid with field causes
    patching, strategic          merge patch and JSON patch (jsonpatch); strategic merge patch
    scale, access, tables        /scale, SelfSubjectAccessReview, kubectl's server-side tables
    evicting       pods/NAME/eviction honouring PodDisruptionBudgets (429)
    configdata, customresources  Secret/ConfigMap rules; what a CRD serves
    discovery, openapi           /api, /apis and the documents kubectl asks for
    deleting       DeleteOptions, DeleteHook, GracefulDeletion (for the kubelet)
    kubeconfig     write_kubeconfig (mode 0600): URL, authority, token; context
                   "slagate-sandbox", namespace default

The controller manager, the kubelet and the proxy supervisor live in the same process and
use ``store`` (and ``watching``, ``deleting``, ``scale``) directly instead of HTTP, as
upstream components would use client-go; the service proxy is a process of its own and
goes through HTTP like any client.
"""

from slagate.sandbox.apiserver.serving import ApiServer, ApiServerSettings
from slagate.sandbox.apiserver.store import ObjectStore

__all__ = ["ApiServer", "ApiServerSettings", "ObjectStore"]
