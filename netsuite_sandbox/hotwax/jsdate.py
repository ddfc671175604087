"""JavaScript's ``Date.prototype.toString()``, which HotWax's SuiteScripts put into every file name they write.

``var date = new Date(); var errorFileName = date + '-ErrorAddCustomer.csv';`` (HC_SC_ImportCustomer.js:134-135)
turns the date into text with ``toString()``: ``Mon Nov 30 2026 10:15:00 GMT-0800 (Pacific Standard Time)``. The
part in parentheses is the long name of the server's time zone as ICU spells it; NetSuite's servers run on Pacific
time, so that is the sandbox's default. Checked against Node.js 20 (``TZ=... node -e 'console.log(String(d))'``).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

DEFAULT_TIME_ZONE = "America/Los_Angeles"

# ICU's long names (standard, daylight) of the zones the sandbox is run in; others print as ``GMT+hh:mm``, as
# ICU does for a zone it has no name for.
_LONG_NAMES: dict[str, tuple[str, str]] = {
    "America/Los_Angeles": ("Pacific Standard Time", "Pacific Daylight Time"),
    "America/Denver": ("Mountain Standard Time", "Mountain Daylight Time"),
    "America/Chicago": ("Central Standard Time", "Central Daylight Time"),
    "America/New_York": ("Eastern Standard Time", "Eastern Daylight Time"),
    "Europe/London": ("Greenwich Mean Time", "British Summer Time"),
    "Europe/Berlin": ("Central European Standard Time", "Central European Summer Time"),
    "Asia/Kolkata": ("India Standard Time", "India Standard Time"),
    "UTC": ("Coordinated Universal Time", "Coordinated Universal Time"),
    "Etc/UTC": ("Coordinated Universal Time", "Coordinated Universal Time"),
}


def date_to_string(moment: datetime, time_zone: str = DEFAULT_TIME_ZONE) -> str:
    """Format an aware datetime as ``String(new Date(...))`` does in a server running in ``time_zone``."""
    local = moment.astimezone(ZoneInfo(time_zone))
    offset = local.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    names = _LONG_NAMES.get(time_zone, (f"GMT{sign}{hours:02d}:{mins:02d}",) * 2)
    name = names[1] if local.dst() else names[0]
    return f"{local:%a %b %d %Y %H:%M:%S} GMT{sign}{hours:02d}{mins:02d} ({name})"
