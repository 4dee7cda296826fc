"""REST v1 routes, one blueprint per area: they parse JSON and call ``controller.ops``."""
