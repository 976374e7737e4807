"""Alerting in the service: feeding the pure rules in ``alerts.rules`` from the database."""
