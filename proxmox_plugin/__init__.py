"""proxmox_plugin"""
