"""Platform-neutral core of the LINSTOR plugin bundle: cluster model, profiles, disk service,
REST v1 client and the embedded LINSTOR-compatible controller."""

__version__ = "0.1.0"
