"""Billing: monthly runs, invoices and credit notes, payments, ageing, reconciliation."""
