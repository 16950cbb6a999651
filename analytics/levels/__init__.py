"""River and groundwater levels: sensor-fault guard, vigilance thresholds, rate of rise."""
