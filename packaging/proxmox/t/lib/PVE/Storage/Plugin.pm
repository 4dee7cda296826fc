package PVE::Storage::Plugin;

# Minimal stand-in for pve-storage's base class, so the shim can be loaded and
# driven without Proxmox VE installed. It offers only what the shim relies on
# (being a class to inherit from); anything else the shim called on its base
# class would fail loudly here instead of passing silently.

use strict;
use warnings;

1;
