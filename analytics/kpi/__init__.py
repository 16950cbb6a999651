"""Energy and sobriety KPIs of public buildings: consumption, degree days, targets, reports."""
