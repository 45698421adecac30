"""Buyer addresses as Auth0 will hold them: validated once, normalised to one spelling per mailbox."""

from __future__ import annotations

import re
import unicodedata

from chalicelib.errors import InvalidEmail

MAX_ADDRESS_LENGTH = 254  # RFC 5321's path limit, less the angle brackets
MAX_LOCAL_LENGTH = 64
MAX_LABEL_LENGTH = 63

# Characters a dot-atom local part may hold besides letters and digits (RFC 5322 atext).
_ATEXT_SYMBOLS = frozenset("!#$%&'*+/=?^_`{|}~-")
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
# Control, format (zero-width, bidi), surrogate, private-use and unassigned characters, and every
# kind of space: none of them can be typed into a sign-in form by a buyer who means their address.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"})


def normalise_email(raw: str) -> str:
    """The one spelling of ``raw`` the service looks up and creates in Auth0.

    Surrounding spaces go and the address is lower-cased (Auth0 database connections store
    addresses lower-cased, and Gumroad lower-cases them too). An internationalised domain is
    written in its ASCII (punycode) form, so ``a@exämple.com`` and ``a@xn--exmple-cua.com``
    are the same buyer.

    Raises
    ------
    InvalidEmail
        The address has control or invisible characters, is too long, is not one local part and
        one domain with a dot, or its domain is not a valid (internationalised) host name.
    """
    address = raw.strip().lower()
    if any(unicodedata.category(character) in _INVISIBLE_CATEGORIES for character in address):
        raise InvalidEmail("invisible_or_control_character")
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise InvalidEmail("not_an_address")
    _check_local_part(local)
    ascii_domain = _ascii_domain(domain)
    normalised = f"{local}@{ascii_domain}"
    if len(normalised.encode("utf-8")) > MAX_ADDRESS_LENGTH:
        raise InvalidEmail("too_long")
    return normalised


def _check_local_part(local: str) -> None:
    if len(local.encode("utf-8")) > MAX_LOCAL_LENGTH:
        raise InvalidEmail("local_part_too_long")
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise InvalidEmail("invalid_local_part")
    for character in local:
        if character == "." or character in _ATEXT_SYMBOLS or character.isalnum():
            continue
        # Non-ASCII letters are allowed (RFC 6531); quotes, brackets, commas and the like are not.
        raise InvalidEmail("invalid_local_part")


def _ascii_domain(domain: str) -> str:
    if domain.isascii() and "xn--" not in domain:
        ascii_domain = domain
    else:
        # Imported on first use: only internationalised domains need the IDNA 2008 tables.
        import idna

        try:
            ascii_domain = idna.encode(domain, uts46=True).decode("ascii")
            idna.decode(ascii_domain)  # a punycode label that does not decode is no domain
        except (idna.IDNAError, UnicodeError, ValueError):
            raise InvalidEmail("invalid_domain") from None
    labels = ascii_domain.split(".")
    if len(labels) < 2:
        raise InvalidEmail("domain_without_dot")
    if any(len(label) > MAX_LABEL_LENGTH or not _LABEL.match(label) for label in labels):
        raise InvalidEmail("invalid_domain")
    if labels[-1].isdigit():
        raise InvalidEmail("invalid_domain")  # an IP address, or a made-up numeric top-level domain
    return ascii_domain
