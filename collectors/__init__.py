"""Collectors turn a target into results. No storage, no web, no alerts here."""
