"""People: employees, compensation plans, peer reviews, training, technician scorecards and payout statements."""
