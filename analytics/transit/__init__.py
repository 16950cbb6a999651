"""Bus departures for the hub screens: GTFS timetables and GTFS-Realtime news."""
