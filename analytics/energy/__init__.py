"""Energy and comfort analytics of public buildings: baselines, their goodness, and anomalies."""
