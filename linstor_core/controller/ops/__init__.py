"""The controller's operations, one module per REST area; each mutation is one ``Change``."""
