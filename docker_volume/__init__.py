"""Docker volume plugin: ``docker volume create -d linstor`` volumes as LINSTOR disks.

A legacy (or managed) Docker plugin on a unix socket. Module map, in the order a call flows:
``cli`` (configuration, start-up) -> ``server`` (cheroot on the socket) -> ``protocol`` (the
``/VolumeDriver.*`` JSON endpoints, the one place errors become ``{"Err": ...}``) -> ``driver``
(one ``linstor_core.disks.DiskService`` call per endpoint, plus filesystem and mount work) with
``names`` (Docker names -> resource names), ``options`` (``-o`` options) and ``mounts`` (who
holds which volume mounted, kept across restarts).
"""
