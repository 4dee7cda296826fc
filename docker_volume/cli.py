"""``linstor-docker-volume``: run the Docker volume plugin (or check on a running one)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import textwrap
import threading
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

from linstor_core import config as client_config
from linstor_core.config import warn_of_a_cleartext_token
from linstor_core.disks import DiskService
from linstor_core.errors import ConfigError, LinstorError

from docker_volume import config, probe
from docker_volume.driver import MKFS_TIMEOUT, VolumeDriver
from docker_volume.mounts import MountTable
from docker_volume.options import DEFAULT_SIZE, MAX_REPLICAS, MIN_SIZE_KIB, VALID_OPTIONS
from docker_volume.protocol import create_app
from docker_volume.server import PluginServer, inherited_socket

log = logging.getLogger("linstor-docker-volume")

DESCRIPTION = """\
Serve Docker's volume plugin protocol on a unix socket, so that

    docker volume create -d linstor -o size=10G -o profile=gold web

makes LINSTOR disks (resource definitions spawned from a resource group profile), and
containers that use the volume get it attached on this node (diskless when it holds no
replica), formatted on first use and mounted under the mount root.
"""

def _wrapped(text: str, indent: str = "  ") -> str:
    return textwrap.fill(text, width=88, initial_indent=indent, subsequent_indent=indent,
                         break_on_hyphens=False)  # never split a path or an option


EPILOG = f"""\
volume options (docker volume create -o KEY=VALUE):
  size=SIZE          default {DEFAULT_SIZE}, at least {MIN_SIZE_KIB // 1024} MiB; units as the linstor client:
                     K/M/G/T or KiB/MiB/GiB/TiB (1024-based), KB/MB/GB/TB (1000-based);
                     a plain number is MiB
  profile=NAME       resource group profile (linstor-core profiles apply FILE);
                     default --profile / profile= in the config file
  fs=ext4|xfs|ext3   filesystem made on the first mount (xfs needs 300 MiB or more)
  fsopts="ARGS"      extra mkfs arguments, split as a shell would: fsopts="-L data"
  mountopts=A,B      mount options: mountopts=noatime,nodev
  replicas=N         replicas to place (1 to {MAX_REPLICAS}); default: the profile's place count
  storagepool=NAME   storage pool to take every replica from; default: the profile's
  nodes=A,B          only these nodes hold replicas, one each unless replicas= says how
                     many; default: the profile's choice
{_wrapped("Any other key is refused with the list of valid ones: " + ", ".join(VALID_OPTIONS) + ".")}

behaviour:
{_wrapped("Create with the same name and options is a no-op; with other options it is an error "
          "naming each difference. Mounts are counted per mount ID (each Mount one hold, each Unmount "
          "one release; docker cp into a running container Mounts its ID again): the first Mount attaches "
          "the disk on this node (diskless when no replica is here), makes the filesystem unless "
          "the volume records it as made (Aux/bundle/filesystem; a volume without the record is "
          "formatted only when blank) and mounts it. mkfs gets " + f"{MKFS_TIMEOUT:g}" + " s (Docker waits 2 minutes for a "
          "Mount) and never discards the new volume (a discard would deallocate a thick one; "
          "fsopts='-E discard' asks for it on ext4), and a first Mount "
          "that fails detaches again. The last Unmount unmounts and detaches (a "
          "diskful replica stays). Remove is refused while a container uses the volume. Who holds what "
          "is kept in the state file and checked against /proc/self/mountinfo at start, so a "
          "restart neither loses nor double-mounts a volume. Errors reach Docker as the LINSTOR "
          "message, never as a traceback.")}

configuration (strongest first):
{_wrapped("these flags; the linstor client's environment variables (LS_CONTROLLERS, LS_ROOT_CA, "
          "LS_USER_CERTIFICATE, LS_USER_KEY, LS_TOKEN, LS_TOKEN_FILE, LS_NODE_NAME); [global] in "
          "the config file and its drop-ins (keys: " + ", ".join(config.FILE_KEYS) + "); "
          f"the linstor client's files, for connection settings only: {client_config.USER_CONFIG}, "
          f"then {client_config.SYSTEM_CONFIG} with its drop-ins "
          f"{client_config.SYSTEM_CONFIG.with_suffix('.d')}/*.conf; built-in defaults.")}

files:
  {config.DEFAULT_CONFIG_FILE}     configuration ([global] section)
  {config.DEFAULT_CONFIG_FILE.with_suffix(".d")}/*.conf  drop-ins, read after it in name order
                                      (each overrides the files before it)
  {config.DEFAULT_SOCKET}    the socket dockerd connects to (mode 0600); under
                                      systemd socket activation it is inherited
  {config.DEFAULT_MOUNT_ROOT}/NAME  where volume NAME is mounted
  {config.DEFAULT_STATE_FILE}  who holds which volume mounted

examples:
  linstor-docker-volume --controllers linstor://ctrl1 --profile gold
  docker volume create -d linstor -o size=10G -o fs=xfs -o mountopts=noatime pgdata
  docker run --rm -v pgdata:/var/lib/postgresql/data postgres:16
  linstor-docker-volume --check

exit status: 0 stopped cleanly (or --check succeeded), 1 error (printed on stderr), 2 usage error
(an unknown or malformed flag).
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="linstor-docker-volume",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--socket", metavar="PATH", help=f"unix socket to serve (default {config.DEFAULT_SOCKET})")
    parser.add_argument("--controllers", metavar="URL,...",
                        help="LINSTOR controllers, e.g. linstor://ctrl1,linstor+ssl://ctrl2 (default: LS_CONTROLLERS, "
                             "the config file, the linstor client's files, then linstor://localhost)")
    parser.add_argument("--mount-root", metavar="DIR",
                        help=f"where volumes are mounted, one directory each (default {config.DEFAULT_MOUNT_ROOT}; "
                             "for a managed plugin, a directory under its propagatedMount)")
    parser.add_argument("--config", metavar="FILE", type=Path,
                        help=f"INI file DIR/NAME.conf with a [global] section, then its drop-ins DIR/NAME.d/*.conf "
                             f"(default {config.DEFAULT_CONFIG_FILE}, which may be missing; a FILE given here "
                             "must exist)")
    parser.add_argument("--profile", metavar="NAME",
                        help="profile for volumes created without -o profile (default: profile= in the config file, "
                             f"else {config.DEFAULT_PROFILE})")
    parser.add_argument("--node", metavar="NAME", help="this host's LINSTOR node name (default: the host name)")
    parser.add_argument("--state-file", metavar="FILE",
                        help=f"who holds which volume mounted (default {config.DEFAULT_STATE_FILE})")
    parser.add_argument("--check", action="store_true",
                        help="ask the plugin already running on --socket for its volumes, print them, and exit")
    parser.add_argument("--verbose", "-v", action="store_true", help="log every request")
    return parser


def _serve(settings: config.PluginConfig) -> None:
    mounts = MountTable(settings.state_file, settings.mount_root)
    driver = VolumeDriver(
        DiskService.from_config(settings.client), mounts, node=settings.node, default_profile=settings.profile
    )
    server = PluginServer(create_app(driver), settings.socket, inherited=inherited_socket()).bind()
    with ExitStack() as held:
        # Until serving starts, any failure removes the socket again: Docker then finds no
        # plugin rather than a dead one (serve_forever stops the server itself after that).
        held.callback(server.stop)
        held.enter_context(mounts.exclusive())  # for as long as this process serves
        for change in mounts.load():
            log.info("mount state: %s", change)
        warn_of_a_cleartext_token(settings.client)
        # In the background: with the controller unreachable at boot, each would wait out its
        # timeouts before dockerd got its first answer.
        threading.Thread(target=driver.detach_released, args=(mounts.released,), name="detach-released",
                         daemon=True).start()
        log.info("node %s, profile %s, controllers %s, mount root %s", settings.node, settings.profile,
                 ", ".join(settings.client.controllers), settings.mount_root)
        server.serve_forever()
    log.info("stopped")


def _check(socket: Path) -> None:
    status, answer = probe.call(socket, "/VolumeDriver.List", timeout=60)
    if status != 200 or answer.get("Err"):
        raise LinstorError(f"the plugin on {socket} answered HTTP {status}: {answer.get('Err', answer)}")
    print(json.dumps(answer["Volumes"], indent=2))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    flags = {key: getattr(args, key.replace("-", "_")) for key in config.FLAG_KEYS}
    try:
        if args.config is not None and not args.config.is_file():
            raise ConfigError(f"--config {args.config}: no such file",
                              correction=f"check the path, or leave --config out to read {config.DEFAULT_CONFIG_FILE}")
        settings = config.load_plugin_config(flags, config_file=args.config or config.DEFAULT_CONFIG_FILE)
        if args.check:
            _check(settings.socket)
        else:
            _serve(settings)
    except (LinstorError, OSError) as error:
        print(f"linstor-docker-volume: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
