"""Sales: leads (from technicians and by hand), deals and quotes built from the catalog."""
