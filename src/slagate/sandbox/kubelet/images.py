"""The image table: which host command a container image stands for.

The sandbox pulls no images. An image is a name for a command line on this machine:

- a repository ending in ``slagate-shop`` (``ghcr.io/slagate/slagate-shop:0.1``) is the
  reference shop, entrypoint ``python -m slagate.shop``;
- a ``python`` repository (``python:3.12-slim``, ``docker.io/library/python``) is a
  Python interpreter, default command ``python3``;
- anything else cannot be pulled: ``pull_problem`` says why, and the kubelet shows what a
  real one shows for an image no registry has: ``ErrImagePull``, then ``ImagePullBackOff``
  (``image_config`` itself raises ``ContainerStartError`` with reason ``ImageNotMapped``).

``command`` and ``args`` combine with the image's entrypoint and default command as
Docker's ENTRYPOINT and CMD do, and a leading ``python`` (``python3``, ``python3.12``)
is this interpreter, ``sys.executable``, so pods import the very slagate that runs them.
Pure.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from slagate.errors import ContainerStartError

SHOP_REPOSITORY_SUFFIX = "slagate-shop"
PYTHON_REPOSITORY = "python"
IMAGE_NOT_MAPPED = "ImageNotMapped"
_PYTHON_PROGRAM = re.compile(r"(?:.*/)?python(?:\d+(?:\.\d+)?)?")


@dataclass(frozen=True)
class ImageConfig:
    """What an image would declare: ENTRYPOINT and CMD."""

    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()


SHOP_IMAGE = ImageConfig(entrypoint=("python", "-m", "slagate.shop"))
PYTHON_IMAGE = ImageConfig(cmd=("python3",))


def repository(image: str) -> str:
    """``registry/path/name:tag@digest`` without tag and digest."""
    name = image.split("@", 1)[0]
    head, slash, last = name.rpartition("/")
    return head + slash + last.split(":", 1)[0]


def image_config(image: str) -> ImageConfig:
    """The table entry for ``image``; ``ContainerStartError`` (ImageNotMapped) if none."""
    config = _mapped(image)
    if config is None:
        raise ContainerStartError(IMAGE_NOT_MAPPED, _not_mapped(image))
    return config


def pull_problem(image: str) -> str | None:
    """Why pulling ``image`` fails (the sandbox has no command for it); None if it runs."""
    return None if _mapped(image) is not None else _not_mapped(image)


def _mapped(image: str) -> ImageConfig | None:
    repo = repository(image)
    if repo.endswith(SHOP_REPOSITORY_SUFFIX):
        return SHOP_IMAGE
    if repo.rsplit("/", 1)[-1] == PYTHON_REPOSITORY:
        return PYTHON_IMAGE
    return None


def _not_mapped(image: str) -> str:
    return (
        f'image "{image}" is not mapped to a command in the sandbox: use a repository '
        f'ending in "{SHOP_REPOSITORY_SUFFIX}" (the shop) or a "{PYTHON_REPOSITORY}" image'
    )


def container_argv(
    image: str, command: Sequence[str], args: Sequence[str], python: str
) -> list[str]:
    """The host command line of a container (``command``/``args`` already expanded)."""
    config = image_config(image)
    argv = [*command, *args] if command else [*config.entrypoint, *(args or config.cmd)]
    return with_python(argv, python)


def with_python(argv: Sequence[str], python: str) -> list[str]:
    """``argv`` with a leading ``python``-like program replaced by ``python``."""
    if argv and _PYTHON_PROGRAM.fullmatch(argv[0]):
        return [python, *argv[1:]]
    return list(argv)
