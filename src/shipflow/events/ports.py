"""Local time at a port: B/L dates and cut-offs are local dates where the cargo is.

Country defaults cover single-zone countries; ports in countries with several zones are
listed one by one. An unknown port falls back to its country's first zone, else UTC.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

COUNTRY_ZONES = {
    "CN": "Asia/Shanghai", "HK": "Asia/Hong_Kong", "TW": "Asia/Taipei", "JP": "Asia/Tokyo",
    "KR": "Asia/Seoul", "SG": "Asia/Singapore", "MY": "Asia/Kuala_Lumpur",
    "VN": "Asia/Ho_Chi_Minh", "TH": "Asia/Bangkok", "ID": "Asia/Jakarta",
    "PH": "Asia/Manila", "IN": "Asia/Kolkata", "LK": "Asia/Colombo", "PK": "Asia/Karachi",
    "AE": "Asia/Dubai", "SA": "Asia/Riyadh", "OM": "Asia/Muscat", "TR": "Europe/Istanbul",
    "NL": "Europe/Amsterdam", "BE": "Europe/Brussels", "DE": "Europe/Berlin",
    "FR": "Europe/Paris", "ES": "Europe/Madrid", "IT": "Europe/Rome", "GB": "Europe/London",
    "PL": "Europe/Warsaw", "GR": "Europe/Athens", "EG": "Africa/Cairo",
    "ZA": "Africa/Johannesburg", "NG": "Africa/Lagos", "KE": "Africa/Nairobi",
    "US": "America/New_York", "CA": "America/Toronto", "MX": "America/Mexico_City",
    "PA": "America/Panama", "CO": "America/Bogota", "PE": "America/Lima",
    "CL": "America/Santiago", "BR": "America/Sao_Paulo", "AR": "America/Argentina/Buenos_Aires",
    "AU": "Australia/Sydney", "NZ": "Pacific/Auckland",
}

PORT_ZONES = {
    "USLAX": "America/Los_Angeles", "USLGB": "America/Los_Angeles",
    "USOAK": "America/Los_Angeles", "USSEA": "America/Los_Angeles",
    "USTIW": "America/Los_Angeles", "USHOU": "America/Chicago", "USMSY": "America/Chicago",
    "USMOB": "America/Chicago", "USCHI": "America/Chicago",
    "CAVAN": "America/Vancouver", "CAPRR": "America/Vancouver",
    "MXZLO": "America/Mexico_City", "MXLZC": "America/Mexico_City",
    "MXESE": "America/Tijuana", "AUPER": "Australia/Perth", "AUFRE": "Australia/Perth",
    "AUBNE": "Australia/Brisbane", "AUADL": "Australia/Adelaide",
    "BRMAO": "America/Manaus", "IDMAK": "Asia/Makassar",
}


def port_zone(locode: str | None) -> ZoneInfo:
    if not locode:
        return ZoneInfo("UTC")
    return ZoneInfo(PORT_ZONES.get(locode) or COUNTRY_ZONES.get(locode[:2], "UTC"))


def local_date(moment: datetime, locode: str | None) -> date:
    """The calendar date of ``moment`` at the port."""
    return moment.astimezone(port_zone(locode)).date()
