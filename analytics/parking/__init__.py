"""Carpool-area availability: space states, area counts and status, history, forecast, frozen feeds.

The API's entry point is ``area_availability(area, spaces, readings, now, settings, frozen=None,
forecast=None) -> AreaAvailability`` (``analytics.parking.availability``): ``area`` a
``ParkingArea`` (or anything with ``id_lieu``, ``nbre_pl``, ``nbre_pmr``, ``ouvert``), ``spaces``
its ``ParkingSpace`` rows (``code``, ``pmr``, ``device`` with ``dev_eui``, ``codec_id``,
``parameters``), ``readings`` the sensors' ``occupied`` readings over at least the longest
heartbeat × grace before ``now``, in any order. ``frozen`` (``learn_space_limits`` over weeks of
the area's readings) shows stuck spaces as unknown; ``forecast`` (``ForecastModel.fit`` on the
area's free share, e.g. from ``occupancy_history``) adds free spaces at 15/30/60 min. Beside it:
``judge_feed`` (frozen and stale count feeds) and ``stale_csv`` (``vigie analytics
parking-stale``).
"""
