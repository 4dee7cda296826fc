"""OpenNebula datastore (DS_MAD) and transfer manager (TM_MAD) driver on LINSTOR.

oned runs one small script per action (``/var/lib/one/remotes/{datastore,tm}/linstor/<action>``);
each is a one-line wrapper around ``linstor-one ds|tm <action> ...``. This package turns the
action's arguments and stdin into one ``linstor_core.disks`` call and prints oned's answer.

Modules: ``cli`` (argument parsing, the one error renderer), ``xmldoc`` (safe base64/XML
decoding into the records of ``records``), ``args`` (``host:path`` and number arguments),
``oned`` (pyone lookups), ``hosts`` (commands and symlinks on hypervisor hosts), ``env``
(what an action needs; datastore template -> disk service and profile), ``names`` (LINSTOR
names and owner props), ``contextiso`` (the context CD-ROM), ``ds`` and ``tm`` (the actions).
"""
