"""Which era of Tesla's cloud the simulator plays: the rules of 2021 or of late 2026.

``2021`` is the cloud the original TeslaPy README describes: the password sign-in
form, the ``void/callback`` redirect, the RFC 7523 exchange at the Owner API and a
vehicle list at ``api/1/vehicles``. ``2026`` is Tesla as of late 2026: sign-in only
in a browser (a page script stands in for reCAPTCHA), ``tesla://auth/callback``, the
SSO token as the Owner API bearer, single-use refresh tokens, TLS with HTTP/2 at the
SSO, and the minting gate: a token minted over a connection that lacks what
``mint_requires`` names is marked, and the Owner API refuses every data call made
with it (403 ``forbidden, see .../fleet-api``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import FrozenSet, Iterable, Optional

ERAS = ("2021", "2026")
#: What a connection to the token endpoint must have for its tokens to work in 2026.
MINT_REQUIREMENTS = ("h2", "tls1.3")


@dataclass(frozen=True)
class Rules:
    """The rule set one simulated cloud follows."""

    era: str = "2021"
    mint_requires: FrozenSet[str] = field(default_factory=lambda: frozenset(MINT_REQUIREMENTS))

    def __post_init__(self) -> None:
        if self.era not in ERAS:
            raise ValueError(f"unknown rules {self.era!r}; choose one of {', '.join(ERAS)}")
        unknown = set(self.mint_requires) - set(MINT_REQUIREMENTS)
        if unknown:
            raise ValueError(f"unknown minting requirement(s) {sorted(unknown)}; "
                             f"choose from {', '.join(MINT_REQUIREMENTS)}")

    @classmethod
    def named(cls, era: str, mint_requires: Optional[Iterable[str]] = None) -> "Rules":
        """The rules of ``era`` (``"2021"`` or ``"2026"``), optionally with other minting needs."""
        if mint_requires is None:
            return cls(era)
        return cls(era, frozenset(mint_requires))

    @property
    def today(self) -> bool:
        """Whether these are the rules of late 2026."""
        return self.era == "2026"


def parse_mint_requires(text: str) -> FrozenSet[str]:
    """Parse a comma-separated minting requirement list such as ``"h2,tls1.3"``.

    Blanks around names and empty items are ignored; ``""`` or ``"none"`` requires
    nothing. Raises ``ValueError`` naming an unknown requirement.
    """
    items = [item.strip().lower() for item in text.split(",")]
    names = frozenset(item for item in items if item)
    if names == {"none"}:
        return frozenset()
    unknown = sorted(names - set(MINT_REQUIREMENTS))
    if unknown:
        raise ValueError(f"unknown minting requirement(s) {', '.join(map(repr, unknown))}; "
                         f"choose from {', '.join(MINT_REQUIREMENTS)} or none")
    return names


def as_rules(rules: Rules | str | None) -> Optional[Rules]:
    """``rules`` as a :class:`Rules`: a Rules as is, an era name, or None.

    Raises ``ValueError`` for an unknown era and ``TypeError`` for anything else.
    """
    if rules is None or isinstance(rules, Rules):
        return rules
    if isinstance(rules, str):
        return Rules.named(rules)
    raise TypeError(f"rules must be a Rules or one of {', '.join(ERAS)}, "
                    f"not {type(rules).__name__}")
