"""Flags and helpers several subcommands share."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from config.settings import Settings, load_settings
from gateway.eventlog import EventFormatter, LogFormat

__all__ = ["add_node_flags", "fail", "settings_from", "setup_logging"]


def add_node_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, help="where the SQLite store lives (./var)")
    parser.add_argument("--config", type=Path, help="TOML settings file")


def settings_from(args: argparse.Namespace, **overrides: Any) -> Settings:
    """Settings from the file and environment, with the flags the user gave on top."""
    return load_settings(args.config, data_dir=args.data_dir, **overrides)


def fail(message: str, status: int = 1) -> int:
    print(f"teledispatch: {message}", file=sys.stderr)
    return status


def setup_logging(verbose: bool = False, output: LogFormat = "text") -> None:
    """Log to stderr at INFO (DEBUG if ``verbose``), events as ``output`` says."""
    handler = logging.StreamHandler()
    handler.setFormatter(EventFormatter(output))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler])
    if not verbose:  # aiosmtpd logs every command at INFO
        logging.getLogger("mail.log").setLevel(logging.WARNING)
