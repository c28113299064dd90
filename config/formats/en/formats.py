"""One date format everywhere, the admin included, and dates typed day first.

Django's English formats would read "03/12/2026" as 12 March and show dates as
"Dec. 3, 2026". Here a date is typed as ISO (2026-12-03) or day first
(03/12/2026), nothing else, and shown as "Thu 03 Dec 2026"; times are in
Asia/Jerusalem (TIME_ZONE) with the zone's abbreviation.
"""

DATE_FORMAT = "D d M Y"
DATETIME_FORMAT = "D d M Y H:i T"
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
TIME_FORMAT = "H:i"
FIRST_DAY_OF_WEEK = 0  # Sunday: Israel's working week runs Sunday to Thursday

DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
]
