"""Docker volume plugin: ``docker volume create -d linstor`` volumes as LINSTOR disks.

A legacy (systemd) or managed Docker plugin on a unix socket. Module map, in the order a call
flows: ``cli`` (flags, start-up) with ``config`` (flags > LS_* > docker-volume.conf) ->
``server`` (cheroot on the socket, or the one systemd passes) -> ``protocol`` (the
``/VolumeDriver.*`` JSON endpoints, the one place errors become ``{"Err": ...}``) -> ``driver``
(one ``linstor_core.disks.DiskService`` call per endpoint, plus filesystem and mount work) with
``names`` (Docker names -> resource names), ``options`` (``-o`` options) and ``mounts`` (who
holds which volume mounted, kept across restarts). ``probe`` talks to a running plugin the way
dockerd does (``--check``, tests, the benchmark).
"""
