"""Reporting: the client scorecard, quarterly business reviews and their decks, KPIs, reports and forecasts."""
