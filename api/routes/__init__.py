"""One router per resource; each carries its full prefix so route templates are complete."""

API_V1 = "/api/v1"
