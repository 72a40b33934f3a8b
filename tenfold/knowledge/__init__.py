"""Documented procedures: runbooks with versions and checklists, client documentation, the credential
vault, and search across them (P5.1–P5.4)."""
