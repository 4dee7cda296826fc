"""mount(2) and umount(2) through libmount, in-process: what mount(8) does, without starting it.

The Docker plugin mounts on every first Mount and unmounts on every last Unmount. The
``mount`` and ``umount`` processes cost about 2 ms each, most of it starting up; the same work
through libmount (``libmount.so.1``, the util-linux library mount(8) and umount(8) are built
on, on every Debian host) costs the system call and little more. libmount also does what the
commands do around the call: it turns ``noatime,nodev`` into mount flags and passes the rest
to the filesystem, runs a ``mount.<type>`` helper where one is installed, and words each
failure as mount(8) would (``mnt_context_get_excode``), so errors read the same either way.

Where the library cannot be loaded, :func:`default_mounter` answers the commands instead.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from collections.abc import Sequence
from functools import cache

from linstor_core.errors import StorageError

_MESSAGE_BUFFER = 4096
_EXIT_SUCCESS = 0  # MNT_EX_SUCCESS: mount(8)'s exit code for success


@cache
def _library() -> ctypes.CDLL | None:
    """libmount with the prototypes used here (``mnt_context_get_excode``: util-linux >= 2.30)."""
    try:
        lib = ctypes.CDLL(ctypes.util.find_library("mount") or "libmount.so.1", use_errno=True)
        get_excode = lib.mnt_context_get_excode
    except (OSError, AttributeError):
        return None
    lib.mnt_new_context.argtypes = []
    lib.mnt_new_context.restype = ctypes.c_void_p
    lib.mnt_free_context.argtypes = [ctypes.c_void_p]
    lib.mnt_free_context.restype = None
    for setter in ("mnt_context_set_source", "mnt_context_set_target", "mnt_context_set_fstype",
                   "mnt_context_set_options"):
        getattr(lib, setter).argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        getattr(lib, setter).restype = ctypes.c_int
    for action in ("mnt_context_mount", "mnt_context_umount"):
        getattr(lib, action).argtypes = [ctypes.c_void_p]
        getattr(lib, action).restype = ctypes.c_int
    get_excode.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t]
    get_excode.restype = ctypes.c_int
    return lib


def mount_argv(device: str, target: str, fstype: str | None, options: Sequence[str]) -> list[str]:
    """The mount(8) command line for these arguments: what the commands run, and what a
    libmount failure names."""
    return ["mount", *(["-t", fstype] if fstype else []), *(["-o", ",".join(options)] if options else []),
            device, target]


def available() -> bool:
    """Whether libmount can be loaded here."""
    return _library() is not None


class LibMount:
    """Mounts and unmounts in-process; each call raises ``StorageError`` as the command would.

    The error's argv is the equivalent command line, so a failure names what was tried in the
    same words whichever way it ran.
    """

    def mount(self, device: str, target: str, fstype: str | None, options: Sequence[str]) -> None:
        argv = mount_argv(device, target, fstype, options)
        settings = [("mnt_context_set_source", device), ("mnt_context_set_target", target)]
        if fstype:
            settings.append(("mnt_context_set_fstype", fstype))
        if options:
            settings.append(("mnt_context_set_options", ",".join(options)))
        self._run(argv, target, settings, "mnt_context_mount")

    def unmount(self, target: str) -> None:
        self._run(["umount", target], target, [("mnt_context_set_target", target)], "mnt_context_umount")

    @staticmethod
    def _run(argv: list[str], target: str, settings: list[tuple[str, str]], action: str) -> None:
        lib = _library()
        if lib is None:
            raise StorageError(argv, 127, "libmount.so.1 cannot be loaded", correction="install util-linux (libmount1)")
        context = lib.mnt_new_context()
        if not context:
            raise StorageError(argv, -1, "libmount could not make a mount context (out of memory)")
        try:
            for setter, value in settings:
                if getattr(lib, setter)(context, os.fsencode(value)) != 0:
                    raise StorageError(argv, -1, f"libmount refused {value!r} ({setter})")
            result = getattr(lib, action)(context)
            message = ctypes.create_string_buffer(_MESSAGE_BUFFER)
            code = lib.mnt_context_get_excode(context, result, message, _MESSAGE_BUFFER)
        finally:
            lib.mnt_free_context(context)
        if code != _EXIT_SUCCESS:
            text = message.value.decode(errors="replace") or f"failed (libmount {result})"
            raise StorageError(argv, code, f"{argv[0]}: {target}: {text}")


__all__ = ["LibMount", "available", "mount_argv"]
