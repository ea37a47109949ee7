"""Personal data handling: contact-detail redaction and keyed pseudonymous candidate ids."""
from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
URL = re.compile(r"(?:https?://|www\.)[^\s<>\"')]+", re.I)
PHONE_CANDIDATE = re.compile(r"(?<![\w/.])\+?\(?\d{1,4}\)?(?:[ .-]?\(?\d{2,4}\)?){2,5}(?![\w/])")
YEAR_RANGE = re.compile(r"^(19|20)\d{2}\s*[-.]\s*(19|20)\d{2}$")
# "1234 N. Maple Avenue, Apt 5": a house number, up to four capitalised words, a street type, an optional unit.
# Bare "Dr" / "Ct" / "Pl" are left out on purpose: "5 Years With Dr" is not an address.
STREET = re.compile(
    r"\b\d{1,6}(?:-\d{1,4})?[ \t]+(?:[NSEW]\.?[ \t]+)?(?:(?:[A-Z][\w'.-]*|\d+(?:st|nd|rd|th))[ \t]+){1,4}"
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Court|Way|Place|Terrace|Parkway|Pkwy|Circle|"
    r"Highway|Hwy|Square|Sq)\b\.?(?:,?[ \t]+(?:Apt|Apartment|Suite|Ste|Unit|#)\.?[ \t]*[\w-]+)?")
# a US ZIP code after ", <state code> " ("Springfield, IL 62704-1234")
ZIP = re.compile(r"(?<=, [A-Z]{2} )\d{5}(?:-\d{4})?\b")


def _phone(m: re.Match[str]) -> str:
    s = m.group(0)
    digits = sum(c.isdigit() for c in s)
    if digits < 9 or digits > 15 or YEAR_RANGE.match(s.strip("() ")):
        return s
    return "[PHONE]"


def redact_contacts(text: str) -> str:
    """Replace emails, URLs, street addresses, ZIP codes and phone numbers with placeholders ([EMAIL], [URL],
    [ADDRESS], [ZIP], [PHONE])."""
    if not text:
        return text
    text = EMAIL.sub("[EMAIL]", text)
    text = URL.sub("[URL]", text)
    text = STREET.sub("[ADDRESS]", text)
    text = ZIP.sub("[ZIP]", text)
    return PHONE_CANDIDATE.sub(_phone, text)


def pseudonym_key(data_dir: Path) -> bytes:
    """The HMAC key for candidate ids: ``SKILLMATCH_PSEUDONYM_KEY``, else a random key kept beside a local lake.

    The key never enters the repository; losing it changes every candidate id on the next run. A lake on an object
    store needs the variable: a key stored in the bucket would sit beside the data it protects, readable by every
    reader of the marts, and each worker would need to agree on it.
    """
    env = os.environ.get("SKILLMATCH_PSEUDONYM_KEY")
    if env:
        return env.encode()
    from skillmatch.lake import is_remote

    if is_remote(data_dir):
        raise RuntimeError(f"the lake is on an object store ({data_dir}): set SKILLMATCH_PSEUDONYM_KEY, the "
                           "HMAC key behind the pseudonymous candidate ids, the same on every worker")
    path = data_dir / ".secrets" / "pseudonym.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(secrets.token_hex(32))
        tmp.chmod(0o600)
        os.replace(tmp, path)
    return path.read_text().strip().encode()


def candidate_id(key: bytes, source: str, source_file: str) -> str:
    """Pseudonymous, stable candidate id: keyed hash of the source file identity."""
    return "cand_" + hmac.new(key, f"{source}:{source_file}".encode(), hashlib.sha256).hexdigest()[:20]
