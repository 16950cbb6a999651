"""TimeSeriesStore implementations: InfluxDB (HTTP API v1) and the embedded SQLite default."""
