"""The 1997 dial-up link: a Hayes modem, a 9600-bps MNP line, a TCP proxy.

Sans-IO cores (bytes and simulated seconds in, events out): ``Modem`` (AT commands,
dialling, ``+++``), ``DirectCall`` (an already dialled line), ``Link`` (the line model:
rate, MNP 4/5, latency, noise, carrier loss). ``ModemProxy`` is the asyncio adapter behind
``teledispatch modem``; ``ModemLine`` dials through it from a client program. The modem a
DTE talks to is one of the named ``PROFILES`` (``dialup_sim.vendors``).
"""

from dialup_sim.client import CallSummary, CarrierLost, DialError, ModemLine
from dialup_sim.comport import ComPort
from dialup_sim.direct import DirectCall
from dialup_sim.events import (
    Answered,
    CallEnded,
    CallEngine,
    CarrierChanged,
    DialOutcome,
    DialRequested,
    Event,
    ToCallee,
    ToCaller,
)
from dialup_sim.line import Link, LinkParams, LossReason, MnpLevel
from dialup_sim.modem import Mode, Modem
from dialup_sim.noise import NoiseSettings
from dialup_sim.phonebook import Address, Phonebook, PhonebookError, parse_address
from dialup_sim.profile import ErrorControl, ModemProfile
from dialup_sim.proxy import ModemProxy, ProxySettings
from dialup_sim.result_codes import LINE_RATES, ConnectInfo, Result
from dialup_sim.stats import CallReport, DirectionStats
from dialup_sim.timing import CallTiming
from dialup_sim.vendors import DEFAULT_PROFILE, PROFILES, VendorProfile, vendor_profile

__all__ = [
    "DEFAULT_PROFILE",
    "LINE_RATES",
    "PROFILES",
    "Address",
    "Answered",
    "CallEnded",
    "CallEngine",
    "CallReport",
    "CallSummary",
    "CallTiming",
    "CarrierChanged",
    "CarrierLost",
    "ComPort",
    "ConnectInfo",
    "DialError",
    "DialOutcome",
    "DialRequested",
    "DirectCall",
    "DirectionStats",
    "ErrorControl",
    "Event",
    "Link",
    "LinkParams",
    "LossReason",
    "MnpLevel",
    "Mode",
    "Modem",
    "ModemLine",
    "ModemProfile",
    "ModemProxy",
    "NoiseSettings",
    "Phonebook",
    "PhonebookError",
    "ProxySettings",
    "Result",
    "ToCallee",
    "ToCaller",
    "VendorProfile",
    "parse_address",
    "vendor_profile",
]
