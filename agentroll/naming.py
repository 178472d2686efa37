"""Standard computer names: transliteration, the configurable format, validity and collisions.

The default rule (the design's contract) is ``UNITCODE-SHORT``: SHORT is the owner's given name
(the last word) followed by the initials of the other words, after transliteration, so
``Phạm Văn Thắng`` in unit ``SNV`` becomes ``SNV-THANGPV``. Hosts without an owner get ``PC01``,
``PC02``, ... in inventory-hostname order within their unit.

The format is a Jinja2 template rendered in a sandbox with these variables:

``unit_code``  the unit's ASCII code
``short``      SHORT as above (possibly cut so the name fits 15 characters)
``given``      the transliterated given name, upper case ("" without owner)
``initials``   the initials of the other words, upper case ("" without owner)
``owner``      the transliterated owner, as written ("" without owner)
``index``      1-based position among the owner-less hosts of the unit (0 for hosts with an owner);
               owner-less hosts with an override count too, so adding one renumbers nobody
``host``       the inventory hostname

The rendered text is stripped and upper-cased. A name longer than 15 characters is fitted by
rendering again with an ever shorter ``short``; a template that does not use ``short`` therefore
cannot be fitted and yields a ``NamingError``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from agentroll.model import Host, Inventory

DEFAULT_TEMPLATE = "{{ unit_code }}-{{ short }}"

#: NetBIOS limit for computer names.
MAX_NAME_LENGTH = 15

_NAME_PATTERN = re.compile(r"[A-Z0-9-]{1,15}")
_NOT_NAME_CHARS = re.compile(r"[^A-Z0-9]")

# These letters are not decomposed by NFD (they are letters of their own, not letter + mark).
# Ð/ð (Icelandic eth) stand in for Đ/đ in text converted from old Vietnamese encodings.
_UNDECOMPOSABLE = str.maketrans({"đ": "d", "Đ": "D", "Ð": "D", "ð": "d"})


class NamingError(ValueError):
    """A standard name cannot be computed; the message names the host (or template) and why."""


@dataclass(frozen=True)
class _Person:
    """The parts of an owner's name the template can use, already transliterated."""

    owner: str
    given: str
    initials: str

    @property
    def short(self) -> str:
        return self.given + self.initials


def transliterate(text: str) -> str:
    """Return ``text`` in ASCII letters: đ→d, Đ→D, every other diacritic dropped, case preserved."""
    decomposed = unicodedata.normalize("NFD", text.translate(_UNDECOMPOSABLE))
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return unicodedata.normalize("NFC", stripped)


def _person(owner: str) -> _Person | None:
    """Split an owner's name into given name and initials; None when nothing usable remains."""
    ascii_owner = " ".join(transliterate(owner).split())
    words = [_NOT_NAME_CHARS.sub("", word) for word in ascii_owner.upper().split()]
    words = [word for word in words if word]
    if not words:
        return None
    *others, given = words
    return _Person(owner=ascii_owner, given=given, initials="".join(word[0] for word in others))


def short_name(owner: str) -> str:
    """Return SHORT for an owner: given name plus initials of the other words, e.g. THANGPV."""
    person = _person(owner)
    if person is None:
        raise NamingError(f"owner {owner!r} has no letters or digits to build a short name from")
    return person.short


def is_valid_name(name: str) -> bool:
    """Tell whether ``name`` is a valid standard computer name."""
    return _invalidity(name) is None


def _invalidity(name: str) -> str | None:
    """Say why ``name`` is not a valid computer name, or None when it is."""
    if not name:
        return "is empty"
    if len(name) > MAX_NAME_LENGTH:
        return f"is longer than {MAX_NAME_LENGTH} characters"
    if not _NAME_PATTERN.fullmatch(name):
        return "has characters other than A-Z, 0-9 and -"
    if name.isdigit():
        return "is all digits"
    if name.startswith("-") or name.endswith("-"):
        return "starts or ends with -"
    return None


def is_correctly_named(computer_name: str | None, standard_name: str) -> bool:
    """Tell whether a PC's computer name equals its standard name, ignoring case."""
    if computer_name is None:
        return False
    return computer_name.strip().upper() == standard_name.strip().upper()


class _HostNamer:
    """Renders and fits the name of one host under one template."""

    def __init__(self, template: Template, host: Host, person: _Person | None, index: int) -> None:
        self.template = template
        self.host = host
        self.person = person
        self.index = index

    @property
    def full_short(self) -> str:
        return self.person.short if self.person else f"PC{self.index:02d}"

    def render(self, short: str) -> str:
        """Render the template with ``short`` in place of SHORT; upper-cased, stripped."""
        person = self.person
        variables = {
            "unit_code": self.host.unit,
            "short": short,
            "given": person.given if person else "",
            "initials": person.initials if person else "",
            "owner": person.owner if person else "",
            "index": 0 if person else self.index,
            "host": self.host.name,
        }
        try:
            return self.template.render(variables).strip().upper()
        except TemplateError as error:
            raise NamingError(f"host {self.host.name}: name template failed: {error}") from error

    def fit(self, suffix: str = "") -> str:
        """Return the name with ``suffix`` appended, cutting SHORT until it fits 15 characters."""
        short = self.full_short
        name = self.render(short) + suffix
        # Cut one character at a time: cheap at this size and works for any template shape.
        for length in range(len(short) - 1, 0, -1):
            if len(name) <= MAX_NAME_LENGTH:
                break
            name = self.render(short[:length]) + suffix
        self.check(name)
        return name

    def check(self, name: str) -> None:
        """Raise NamingError naming the host when ``name`` is not a valid computer name."""
        why = _invalidity(name)
        if why is not None:
            raise NamingError(f"host {self.host.name}: standard name {name!r} {why}")


def _compile(template: str | None) -> Template:
    """Compile the name template in a sandbox; undefined variables are errors, not blanks."""
    source = DEFAULT_TEMPLATE if template is None else template
    environment = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
    try:
        return environment.from_string(source)
    except TemplateError as error:
        raise NamingError(f"name template {source!r} is invalid: {error}") from error


def _namers(inventory: Inventory, template: Template) -> list[_HostNamer]:
    """One namer per host, sorted by inventory hostname, with PC indexes counted per unit."""
    namers: list[_HostNamer] = []
    ownerless_seen: dict[str, int] = {}
    for host in sorted(inventory.hosts, key=lambda h: h.name):
        person = _person(host.owner) if host.owner else None
        index = 0
        if person is None:
            index = ownerless_seen.get(host.unit, 0) + 1
            ownerless_seen[host.unit] = index
        namers.append(_HostNamer(template, host, person, index))
    return namers


def _override_names(namers: Iterable[_HostNamer]) -> dict[str, str]:
    """Validate the explicit overrides; returns name → host and refuses two hosts on one name."""
    holders: dict[str, str] = {}
    for namer in namers:
        override = namer.host.standard_name_override
        if override is None:
            continue
        name = override.strip().upper()
        namer.check(name)
        if name in holders:
            raise NamingError(
                f"hosts {holders[name]} and {namer.host.name}: both override the standard name {name}"
            )
        holders[name] = namer.host.name
    return holders


def standard_names(inventory: Inventory, template: str | None = None) -> dict[str, str]:
    """Return the standard name of every host of the inventory, valid and unique.

    The format is ``template`` when given, else the inventory's ``agentroll_name_template``, else
    :data:`DEFAULT_TEMPLATE`.

    Overrides win. When several hosts would get one computed name, the first by inventory
    hostname keeps it (unless an override holds it) and the others get 2, 3, ... appended, SHORT
    cut further to fit. A host whose computed name nobody else wants always keeps it.
    """
    namers = _namers(inventory, _compile(template if template is not None else inventory.name_template))
    override_holders = _override_names(namers)
    names = {host: name for name, host in override_holders.items()}
    computed = [namer for namer in namers if namer.host.standard_name_override is None]
    base_names = {namer.host.name: namer.fit() for namer in computed}

    taken = set(override_holders)
    needs_suffix: list[_HostNamer] = []
    for namer in computed:
        base = base_names[namer.host.name]
        if base in taken:
            needs_suffix.append(namer)
        else:
            taken.add(base)
            names[namer.host.name] = base
    # Reserve every first holder before handing out suffixes, so that a suffixed name never takes
    # the natural name of a host that comes later in hostname order.
    for namer in needs_suffix:
        names[namer.host.name] = _first_free_suffixed(namer, taken)
    return {host.name: names[host.name] for host in inventory.hosts}


def _first_free_suffixed(namer: _HostNamer, taken: set[str]) -> str:
    """Return the host's name with the lowest suffix 2, 3, ... not yet taken, and take it."""
    counter = 2
    while True:
        candidate = namer.fit(str(counter))
        if candidate not in taken:
            taken.add(candidate)
            return candidate
        counter += 1
