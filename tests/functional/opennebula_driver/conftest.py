"""The ``one`` fixture: the embedded controller + oned stand-in + ssh stand-in (see one_harness).

The action scripts are installed by ``packaging/opennebula/install.sh`` into the test's
``$ONE_LOCATION/var/remotes``, and tests run those, as oned does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from one_docs import datastore_xml
from one_harness import FAKE_SSH, FRONTEND, PROFILE, SCRIPTS, One
from oned_standin import OnedStandIn


@pytest.fixture
def one(controller: Any, tmp_path: Path) -> Iterator[One]:
    url = controller.url
    created = requests.post(f"{url}/v1/resource-groups", json={
        "name": PROFILE, "select_filter": {"place_count": 1, "storage_pool": "thinpool", "layer_stack": ["storage"],
                                           "node_name_list": [FRONTEND]}}, timeout=30)
    created.raise_for_status()
    bin_dir, hosts_root, safe_dir = tmp_path / "bin", tmp_path / "hosts", tmp_path / "uploads"
    for directory in (bin_dir, hosts_root, safe_dir):
        directory.mkdir()
    (bin_dir / "ssh").write_text(FAKE_SSH)
    (bin_dir / "ssh").chmod(0o755)
    ssh_log = tmp_path / "ssh.log"
    ssh_log.touch()
    remotes = tmp_path / "one" / "var" / "remotes"
    subprocess.run(["sh", str(SCRIPTS / "install.sh"), "--remotes", str(remotes),
                    "--linstor-one", str(Path(sys.executable).parent / "linstor-one")],
                   check=True, capture_output=True, timeout=60)
    template = {"LINSTOR_CONTROLLERS": url, "LINSTOR_RESOURCE_GROUP": PROFILE, "LINSTOR_FRONTEND_NODE": FRONTEND,
                "RESTRICTED_DIRS": "/", "SAFE_DIRS": str(safe_dir)}
    standin = OnedStandIn()
    standin.datastores[100] = datastore_xml(100, template)
    standin.datastores[0] = datastore_xml(0, template, name="system", ds_type=1)
    standin.start()
    auth = tmp_path / "one_auth"
    auth.write_text(standin.session + "\n")
    env = {
        "PATH": os.pathsep.join([str(bin_dir), "/usr/sbin:/usr/bin:/sbin:/bin"]),  # oned's minimal PATH
        "HOME": str(tmp_path),
        "ONE_XMLRPC": standin.endpoint,
        "ONE_AUTH": str(auth),
        "ONE_LOCATION": str(tmp_path / "one"),
        "SSH_LOG": str(ssh_log),
        "HOSTS_ROOT": str(hosts_root),
        "LC_ALL": "C",
    }
    try:
        yield One(url, standin, env, remotes, hosts_root, ssh_log, safe_dir, template)
    finally:
        standin.stop()
