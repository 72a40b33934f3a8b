"""Automation: the script library with signed versions, signing keys, and (later) the no-code workflows."""
