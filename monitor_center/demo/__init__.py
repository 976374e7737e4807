"""The demo: a simulated national fleet of agency portals and the config that watches it."""
