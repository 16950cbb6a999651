"""Alert notification channels: e-mail (SMTP), signed webhook, MQTT topic."""
