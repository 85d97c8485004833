"""The embedded sandbox cluster: a Kubernetes API server on loopback, and its controllers.

API server and store (nothing here runs at import time)::

    apiserver      ApiServer / start_api_server: threaded HTTP/1.1, chunked watch streams
    api            Api.handle(Request) -> Response | WatchPlan; counters, open watches
    routing        URL path -> route;  resthandlers: list/watch/get/create/update/patch/delete
    watchstream    one watch on the wire: events, BOOKMARK, timeout, cut, 410 ERROR
    store          ObjectStore: objects, global revision, delete hooks, in-process watch
    watching       WatchEvent, EventLog (ring buffer per type), Watcher (subscription)
    strategies     server-owned metadata, status/spec split, generation
    defaulting, validation       upstream defaults; 422 Invalid with field causes
    patching, strategic          merge patch and JSON patch (jsonpatch); strategic merge patch
    labelselectors, fieldselectors, selection   ?labelSelector= / ?fieldSelector=
    scale, access, tables, discovery, openapi    /scale, SSAR, kubectl tables, discovery
    deleting       DeleteOptions, DeleteHook, GracefulDeletion (for the kubelet)
    kubeconfig     write_kubeconfig: context "slagate-sandbox", namespace default
    resources, bodies, apierrors, messages       the vocabulary shared by all of the above

``decisions/`` holds the pure controller decisions (Deployment, ReplicaSet, HPA);
``controllermanager/`` runs them as informer-driven loops over the store;
``kubelet/`` runs pods as OS processes (its pure probe and termination rules beside it);
``proxy/`` is the service proxy process;
``assembling`` (Sandbox), ``applying`` (manifests), ``daemon`` and ``cli`` put it together.
See docs/sandbox.md.
"""
