"""Energy baselines of building meters: reading hourly files, fitting, and their goodness."""
