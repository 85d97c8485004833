"""Kubernetes objects as every part of the sandbox reads them (upstream's apimachinery).

Shared by the API server, the controller manager, the kubelet and the proxy, so that
none of them depends on another to understand an object::

    bodies         RawObject (the JSON as stored) and helpers for the metadata every object has
    resources      ResourceType: plural, kind, scope, subresources of each type served
    selection      Selection: which objects a list or watch wants (type, namespace, selectors)
    labelselectors ?labelSelector= and spec.selector: equality- and set-based requirements
    fieldselectors ?fieldSelector=: metadata.name, metadata.namespace, status.phase, ...
"""
