"""The Tenfold agent: collects a device's inventory, metrics, checks and posture and delivers them."""

__version__ = "0.1.0"
