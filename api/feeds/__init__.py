"""Open feeds of carpool-area availability: DATEX II, NGSI-LD and the national base (BNLC)."""
