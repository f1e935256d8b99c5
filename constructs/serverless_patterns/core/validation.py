"""Construction-time validation: collect every problem, raise one clear ``ValueError``."""

from collections.abc import Iterable
from typing import Any

from aws_cdk import Token


def is_token(value: Any) -> bool:
    """True for values only known at deploy time; they are never validated."""
    return Token.is_unresolved(value)


def is_alias(key: object, alias: str) -> bool:
    """True if ``key`` (a KMS key or alias) is the alias named ``alias``, known at synth."""
    name = getattr(key, "alias_name", None)
    return isinstance(name, str) and not is_token(name) and name == alias


class Problems:
    """Every invalid option of one construct, each line naming the option, value and fix."""

    def __init__(self, construct: str) -> None:
        self._construct = construct
        self._lines: list[str] = []

    def add(self, option: str, value: Any, fix: str) -> None:
        self._lines.append(f"  - {option}={value!r}: {fix}")

    def expect(self, option: str, value: Any, expected: type, example: str) -> None:
        """``value`` must be None, a token or an ``expected``, e.g. ``lambda_.Code`` for code=."""
        if value is not None and not is_token(value) and not isinstance(value, expected):
            self.add(option, value, f"expected {example}; got {type(value).__name__}")

    def list_of(self, option: str, value: Any, item: type) -> None:
        """``value`` must be a list of ``item``, not one ``item`` on its own."""
        if isinstance(value, item):
            self.add(option, value, f"expected a list of {item.__name__}: wrap it in [...]")

    def only_with_code(self, option: str, value: Any, existing_function: Any) -> None:
        """``option`` (handler=, processor=) configures the function the construct creates."""
        if value is not None and existing_function is not None:
            self.add(option, value, "applies only to the function built from code=; remove it")

    def exclusive(self, **options: Any) -> None:
        """At most one of ``options`` may be given (e.g. ``existing_table`` or ``table_props``)."""
        given = [name for name, value in options.items() if value is not None]
        if len(given) > 1:
            self.add(" and ".join(given), "both given", f"give only one of {' or '.join(given)}")

    def in_range(self, option: str, value: float | None, low: float, high: float) -> None:
        if value is not None and not is_token(value) and not low <= value <= high:
            self.add(option, value, f"must be between {low} and {high}")

    def unique(self, option: str, names: Iterable[str]) -> None:
        seen: set[str] = set()
        for name in names:
            if name in seen:
                self.add(option, name, "names must be unique; rename one of them")
            seen.add(name)

    def __len__(self) -> int:
        return len(self._lines)

    def raise_if_any(self) -> None:
        if self._lines:
            raise ValueError(f"Invalid {self._construct} options:\n" + "\n".join(self._lines))
