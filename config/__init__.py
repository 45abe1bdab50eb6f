"""Settings, the office registry and the node's clock."""

from config.clock import Clock, EmulatedClock, FixedClock, SystemClock
from config.offices import Office, OfficeMode, OfficeRegistry, load_offices
from config.settings import ConfigError, Settings, load_settings

__all__ = [
    "Clock",
    "ConfigError",
    "EmulatedClock",
    "FixedClock",
    "Office",
    "OfficeMode",
    "OfficeRegistry",
    "Settings",
    "SystemClock",
    "load_offices",
    "load_settings",
]
