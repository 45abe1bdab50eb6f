"""The control channel policy lives in ``validators.policy.channels``; re-exported here for
the callers that know it by its old place (the console, the pipeline's tests)."""

from __future__ import annotations

from validators.policy.channels import (
    BUSY_DAILY_AVERAGE,
    DEFAULT_RED_CEILING,
    ORANGE_SHARE,
    PROJECT_RED_SHARE,
    RED_CEILINGS,
    ChannelDecision,
    ChannelInputs,
    LimitKind,
    MonthCounts,
    RedLimit,
    channel_inputs,
    choose_channel,
    mandatory_red,
    quota_in_force,
    red_limit,
    risk_weight,
    select_channel,
    shares_apply,
)

__all__ = [
    "BUSY_DAILY_AVERAGE",
    "DEFAULT_RED_CEILING",
    "ORANGE_SHARE",
    "PROJECT_RED_SHARE",
    "RED_CEILINGS",
    "ChannelDecision",
    "ChannelInputs",
    "LimitKind",
    "MonthCounts",
    "RedLimit",
    "channel_inputs",
    "choose_channel",
    "mandatory_red",
    "quota_in_force",
    "red_limit",
    "risk_weight",
    "select_channel",
    "shares_apply",
]
