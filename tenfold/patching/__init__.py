"""Patching: available updates reported by agents, approval policies, install windows and the patch report."""
