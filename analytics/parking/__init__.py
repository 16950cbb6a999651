"""Carpool-area availability: space states, area counts and status, history, forecast, frozen feeds.

The API's entry point is ``area_availability(area, spaces, readings, now, settings, frozen=None,
forecast=None) -> AreaAvailability`` (``analytics.parking.availability``): ``area`` a
``ParkingArea`` (or anything with ``id_lieu``, ``nbre_pl``, ``nbre_pmr``, ``ouvert``), ``spaces``
its ``ParkingSpace`` rows (``code``, ``pmr``, ``device`` with ``dev_eui``, ``codec_id``,
``parameters``), ``readings`` the sensors' ``occupied`` readings over at least the longest
heartbeat × grace before ``now``, in any order. Beside it: ``occupancy_history`` (dashboards),
``ForecastModel`` (free spaces at 15/30/60 min), ``DurationLimits``/``judge_feed`` (frozen and
stale feeds) and ``stale_csv`` (the ``vigie analytics parking-stale`` command).
"""
