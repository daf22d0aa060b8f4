"""Reading one environment mapping the way every setting is read: trimmed text, checked numbers, choices, pairs.

`app/config.py` is the only module that reads `os.environ`; it hands the mapping to an `EnvReader`, and the setting
groups kept in their own modules (`app/config_*.py`) parse their part from that reader.
"""

from __future__ import annotations

from collections.abc import Mapping


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message names it and never echoes a secret."""


class EnvReader:
    """One environment mapping, read the way every setting is: trimmed text, checked numbers."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = values

    def text(self, name: str, default: str = "") -> str:
        # Set but empty (`X=` in an env file, compose's `${X:-}`) reads as unset: the default.
        return self._values.get(name, "").strip() or default.strip()

    def optional(self, name: str) -> str | None:
        return self.text(name) or None

    def integer(self, name: str, default: int, minimum: int = 0) -> int:
        raw = self.text(name, str(default))
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
        if value < minimum:
            raise ConfigError(f"{name} must be >= {minimum}, got {value}")
        return value

    def number(self, name: str, default: float) -> float:
        raw = self.text(name, str(default))
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a number, got {raw!r}") from None
        if value < 0:
            raise ConfigError(f"{name} must be >= 0, got {value}")
        return value

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.text(name, default).lower()
        if value not in choices:
            raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
        return value

    def pairs(self, name: str, default: str = "") -> dict[str, str]:
        """`key=value,key=value` (empty when unset)."""
        raw = self.text(name, default)
        pairs: dict[str, str] = {}
        for chunk in filter(None, (c.strip() for c in raw.split(","))):
            key, sep, value = chunk.partition("=")
            if not sep or not key.strip() or not value.strip():
                raise ConfigError(f"{name}: expected key=value pairs separated by commas, got {chunk!r}")
            pairs[key.strip()] = value.strip()
        return pairs
