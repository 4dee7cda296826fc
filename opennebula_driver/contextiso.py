"""The CONTEXT CD-ROM: the files oned hands ``tm context``, as an ISO 9660 image (label CONTEXT).

Built on the front-end with whichever of genisoimage, mkisofs or xorriso is installed, as
OpenNebula's own drivers do; only local files are accepted (oned passes local paths).
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from linstor_core.errors import ConfigError, InvalidInput
from linstor_core.runner import Runner

_TOOLS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("genisoimage", ()),
    ("mkisofs", ()),
    ("xorriso", ("-as", "mkisofs")),
)


def iso_command() -> list[str]:
    """The first ISO tool found on PATH, as the start of an argument list."""
    for tool, prefix in _TOOLS:
        found = shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/usr/bin:/sbin:/bin")
        if found:
            return [found, *prefix]
    raise ConfigError(
        "no ISO 9660 tool found for the context CD-ROM",
        correction="install genisoimage (or xorriso) on the front-end",
    )


def build_iso(files: Sequence[str], workdir: Path, runner: Runner) -> Path:
    """Copy ``files`` (``path`` or ``path:name`` as oned writes them) into ``workdir`` and master
    them into ``workdir/context.iso``."""
    content = workdir / "content"
    content.mkdir()
    for spec in files:
        if "://" in spec:
            raise InvalidInput("context file", spec, "only local files can go on the context CD-ROM")
        source, _, target = spec.partition(":")
        path = Path(source)
        name = Path(target.strip("'\"") or path.name).name
        if path.is_dir():
            shutil.copytree(path, content / name)
        elif path.is_file():
            shutil.copy2(path, content / name)
        else:
            raise InvalidInput("context file", spec, "does not exist on the front-end")
    iso = workdir / "context.iso"
    runner([*iso_command(), "-o", str(iso), "-V", "CONTEXT", "-J", "-R", "-quiet", str(content)])
    return iso
