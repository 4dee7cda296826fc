"""Functional-test fixtures: a real embedded controller over real HTTP.

``controller``, ``client``, ``controller_url``, ``pool_root`` and ``reflink_root`` are the
shared ones of tests/controller_fixtures.py (see there).
"""

from controller_fixtures import client, controller, controller_url, pool_root, reflink_root

__all__ = ["client", "controller", "controller_url", "pool_root", "reflink_root"]
