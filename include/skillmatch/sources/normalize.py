"""Field normalisation shared by every postings connector: text decoding, mojibake repair, salaries, HTML."""
from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

import pandas as pd

from skillmatch.sources.base import POSTING_COLUMNS

_MOJIBAKE = re.compile("[\u00c3\u00c2\u00e2][\u0080-\u00bf\u2018-\u203a\u20ac\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u02c6\u02dc]")
_WESTERN_SIGNS = set("€£°«»–—‘’‚“”„…•™©®§¶·¿¡ºª×÷±½¼¾\xa0")
_HTML = re.compile(r"<\s*/?\s*(?:p|br|div|li|ul|ol|span|strong|b|i|em|a|h[1-6]|script|style|table|tr|td)\b", re.I)


def decode_bytes(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """Decode a text file's bytes; returns (text, encoding used).

    Order: the declared encoding when the source config names one; UTF-8 (a BOM is dropped); a file that is
    mostly UTF-8 with some lines in a legacy 8-bit encoding (exports concatenated together) line by line, UTF-8
    where a line decodes as UTF-8 and cp1252 elsewhere; the best guess of ``charset_normalizer``, except that
    Western 8-bit text is read as cp1252 (see :func:`_western`); Latin-1 as the last resort (it maps every byte,
    so nothing is ever lost, and the log says so). Mojibake left in a field is repaired per field afterwards.
    """
    if declared:
        return data.decode(declared), declared
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    lines = data.split(b"\n")
    utf8 = [_utf8(line) for line in lines]
    if not data.startswith((b"\xff\xfe", b"\xfe\xff")) and any(
            t is not None and not line.isascii() for t, line in zip(utf8, lines)):
        return "\n".join(_cp1252(line) if t is None else t for t, line in zip(utf8, lines)), "utf-8+cp1252 (mixed)"
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[: 1 << 20]).best()
        if best is not None and best.encoding:
            text = data.decode(best.encoding, errors="strict")
            if _western(data, text):
                return _cp1252(data), "cp1252"
            return text, best.encoding
    except (UnicodeDecodeError, LookupError):
        pass
    return data.decode("latin-1"), "latin-1 (fallback)"


def _utf8(line: bytes) -> str | None:
    """One line as UTF-8 (a BOM dropped), or None when it is not UTF-8."""
    try:
        return line.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def _cp1252(data: bytes) -> str:
    """``data`` as cp1252 (as Latin-1 when it holds one of the five bytes cp1252 leaves undefined)."""
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _western(data: bytes, guessed: str) -> bool:
    """Whether bytes ``charset_normalizer`` decoded as ``guessed`` are better read as cp1252.

    On a small file its guess among 8-bit code pages is close to arbitrary (cp1250 for "Société São Paulo", which
    gives "Săo"; big5 for a Latin-1 file whose accents stand alone between ASCII letters). cp1252 is taken when the
    guess is itself Latin-script (or a multi-byte encoding although the non-ASCII bytes stand alone, as 8-bit
    accents do) and cp1252 reads every non-ASCII byte as a Latin letter or common Western sign. A guess in another
    script (Cyrillic, Greek, CJK text) stands, and so does Central European text with letters cp1252 lacks ("ł"
    would read as "³"); a source in another code page can always declare ``encoding:``.
    """
    def latin(chars: set[str]) -> bool:
        return all(c in _WESTERN_SIGNS or unicodedata.name(c, "").startswith("LATIN") for c in chars)

    runs = [len(r) for r in re.findall(rb"[\x80-\xff]+", data)]
    if not runs or b"\x00" in data:  # NUL bytes: UTF-16/32 text, not an 8-bit code page
        return False
    if len(guessed) == len(data):  # an 8-bit guess: is it a Latin-script one?
        if not all(not c.isalpha() or unicodedata.name(c, "").startswith("LATIN") for c in guessed if ord(c) > 127):
            return False
    elif sum(r == 1 for r in runs) < 0.8 * len(runs):  # a multi-byte guess: do the bytes come in runs?
        return False
    return latin({c for c in _cp1252(data) if ord(c) > 127})


# the characters cp1252 (Latin-1 for the five bytes cp1252 leaves undefined) reads the bytes 0x80-0xFF as
_BYTE_OF = {bytes([b]).decode("cp1252", errors="ignore") or chr(b): b for b in range(0x80, 0x100)}
_CONT = "".join(c for c, b in _BYTE_OF.items() if b < 0xC0)  # UTF-8 continuation bytes
# one or more UTF-8 sequences read byte by byte: a lead byte and as many continuation bytes as it announces
_MOJIBAKE_RUN = re.compile(f"(?:[\u00c2-\u00df][{_CONT}]|[\u00e0-\u00ef][{_CONT}]{{2}}|[\u00f0-\u00f4][{_CONT}]{{3}})+")
# U+FF0D (fullwidth hyphen, EF BC 8D) read as cp1252 loses its third byte, undefined there: "\u00ef\u00bc" is all that
# is left, always before a zero-width space in the shared resumes ("Company Name", it, "City"; between two dates)
_LOST_FULLWIDTH_HYPHEN = "\u00ef\u00bc\u200b"
# a no-break space (C2 A0) whose second byte became a plain space: the "\u00c2" left before a space or a line end
_LOST_NBSP = re.compile("\u00c2(?=[ \t\n]|$)")


def _repair_run(m: re.Match[str]) -> str:
    try:
        return bytes(_BYTE_OF[c] for c in m.group(0)).decode("utf-8")
    except UnicodeDecodeError:
        return m.group(0)


def fix_mojibake(text: str) -> str:
    """Repair UTF-8 text that was once decoded as cp1252/Latin-1 ("Caf\u00c3\u00a9" -> "Caf\u00e9", a bullet read as
    "\u00e2\u20ac\u00a2" -> "\u2022"); other text is unchanged. The whole text at once where it allows it, else each run
    of mojibake on its own (a text mixing repaired and broken parts, or holding characters cp1252 has no byte for,
    like the zero-width space), and the two traces the shared resumes keep of characters that lost a byte (above)."""
    if not text or not (_MOJIBAKE.search(text) or _LOST_FULLWIDTH_HYPHEN in text or _LOST_NBSP.search(text)):
        return text
    for enc in ("cp1252", "latin-1"):
        try:
            return text.encode(enc).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
    text = _MOJIBAKE_RUN.sub(_repair_run, text.replace(_LOST_FULLWIDTH_HYPHEN, "\uff0d"))
    return _LOST_NBSP.sub("", text)


def looks_like_html(text: str) -> bool:
    """Whether a description carries HTML markup (raw or escaped) to convert to text."""
    return bool(text) and bool(_HTML.search(text) or re.search(r"&lt;\s*/?\s*(?:p|br|div|li|ul)\b", text, re.I))


_CURRENCY = {"$": "USD", "US$": "USD", "€": "EUR", "£": "GBP", "CA$": "CAD", "C$": "CAD", "A$": "AUD",
             "USD": "USD", "EUR": "EUR", "GBP": "GBP", "CAD": "CAD", "AUD": "AUD", "CHF": "CHF", "INR": "INR"}
_PERIOD_WORDS = [("hour", r"(?:/|per |an? )\s*(?:hr|hour)|hourly|\bph\b"), ("day", r"(?:/|per |a )\s*day|daily"),
                 ("week", r"(?:/|per |a )\s*week|weekly"), ("month", r"(?:/|per |a )\s*(?:mo|month)|monthly"),
                 ("year", r"(?:/|per |a )\s*(?:yr|year|annum)|annual|yearly|\bpa\b|\bp\.a\.")]
_PERIOD_NAMES = {"hourly": "hour", "hour": "hour", "daily": "day", "day": "day", "weekly": "week", "week": "week",
                 "biweekly": "week", "monthly": "month", "month": "month", "yearly": "year", "year": "year",
                 "annual": "year", "annually": "year"}
_AMOUNT = re.compile(r"(?P<cur>US\$|CA\$|C\$|A\$|[$€£]|USD|EUR|GBP|CAD|AUD|CHF|INR)?\s?"
                     r"(?P<num>\d{1,3}(?:[,.]\d{3})+|\d+(?:\.\d+)?)\s?(?P<k>[kK]\b|[mM]\b)?")


def normalise_period(value: Any) -> str | None:
    """A pay period from free text or an API enum ("YEARLY", "per-year-salary", "1 YEAR") as year/month/week/day/hour."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    low = str(value).strip().lower()
    for word, period in _PERIOD_NAMES.items():
        if word in low:
            return period
    return None


def parse_salary(text: str | None) -> tuple[float | None, float | None, str | None, str | None]:
    """(min, max, ISO currency, period) stated in a salary text such as "$53K-$91K (Glassdoor est.)",
    "€60,000 - €75,000 per year", "$85/hr" or "150-180k + equity"; Nones for what the text does not state.

    Only amounts with a currency sign or a k/M suffix count (a bare "5" in "5 days a week" is not a salary);
    a range with k on one end only ("150-180k") applies it to both. Without a stated period, amounts under
    1,000 are read as hourly and larger ones as yearly.
    """
    if not text or not str(text).strip():
        return None, None, None, None
    s = str(text)
    hits = []
    for m in _AMOUNT.finditer(s):
        num = float(m.group("num").replace(",", "").replace(".", "") if re.fullmatch(r"\d{1,3}(?:[,.]\d{3})+",
                                                                                     m.group("num"))
                    else m.group("num"))
        mult = {"k": 1e3, "m": 1e6}.get((m.group("k") or "").lower(), 1.0)
        hits.append((num, mult, m.group("cur"), m.start(), m.end()))
    # a range "150-180k": the bare first number takes the second's suffix
    for i in range(len(hits) - 1):
        a, b = hits[i], hits[i + 1]
        if a[1] == 1.0 and b[1] > 1.0 and re.fullmatch(r"\s*(?:-|–|to)\s*", s[a[4]:b[3]]):
            hits[i] = (a[0], b[1], a[2] or b[2], a[3], a[4])
    amounts = [(n * mult, cur) for n, mult, cur, _, _ in hits if cur or mult > 1.0]
    if not amounts:
        return None, None, None, None
    values = [v for v, _ in amounts[:2]]
    cur = next((_CURRENCY.get(c.upper() if c.isalpha() else c) for _, c in amounts if c), None)
    period = next((p for p, rx in _PERIOD_WORDS if re.search(rx, s, re.I)), None)
    if period is None:
        period = "hour" if max(values) < 1000 else "year"
    return float(min(values)), float(max(values)), cur, period


def _currency(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    v = value.strip()
    return _CURRENCY.get(v.upper() if v.isalpha() else v, v.upper()[:3] if v.isalpha() else None)


def canonical_postings(df: pd.DataFrame) -> pd.DataFrame:
    """Normalise a connector's records in place of the canonical columns: text fields stripped and
    mojibake-repaired, HTML descriptions as text, salary fields parsed from ``salary_text`` where the source gave
    no structured salary, ``posted_at`` as UTC timestamps, types fixed for Parquet."""
    from skillmatch.sources.postings import html_to_text

    out = df.reindex(columns=POSTING_COLUMNS).copy()
    for c in ["title", "company", "location", "employment_type", "seniority", "salary_text", "description", "url",
              "salary_currency", "salary_period"]:
        out[c] = pd.Series([None if v is None or (isinstance(v, float) and math.isnan(v)) or not str(v).strip()
                            else fix_mojibake(str(v).strip()) for v in out[c]], index=out.index, dtype=object)
    for c in ["description", "title"]:
        out[c] = pd.Series([html_to_text(t) if isinstance(t, str) and looks_like_html(t) else t for t in out[c]],
                           index=out.index, dtype=object)
    for c in ["salary_min", "salary_max"]:
        out[c] = pd.to_numeric(out[c], errors="coerce")
    parsed = [parse_salary(t) if pd.isna(lo) and pd.isna(hi) else None
              for t, lo, hi in zip(out["salary_text"], out["salary_min"], out["salary_max"])]
    for i, p in enumerate(parsed):
        if p is not None and p[0] is not None:
            out.iat[i, out.columns.get_loc("salary_min")] = p[0]
            out.iat[i, out.columns.get_loc("salary_max")] = p[1]
            if not isinstance(out.iat[i, out.columns.get_loc("salary_currency")], str):
                out.iat[i, out.columns.get_loc("salary_currency")] = p[2]
            if not isinstance(out.iat[i, out.columns.get_loc("salary_period")], str):
                out.iat[i, out.columns.get_loc("salary_period")] = p[3]
    out["salary_period"] = [normalise_period(p) if isinstance(p, str) else None for p in out["salary_period"]]
    out["salary_currency"] = [_currency(c) for c in out["salary_currency"]]
    for c in ["salary_min", "salary_max"]:
        out[c] = out[c].astype("Float64")
    out["native_id"] = [None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
                        for v in out["native_id"]]
    out["source_file"] = out["source_file"].astype("string")
    out["source_row"] = pd.to_numeric(out["source_row"], errors="coerce").astype("Int64")
    out["remote"] = out["remote"].astype("boolean")
    out["posted_at"] = pd.to_datetime(out["posted_at"], utc=True, errors="coerce")
    for c in ["title", "company", "location", "employment_type", "seniority", "salary_text", "description", "url",
              "salary_currency", "salary_period", "native_id", "source"]:
        out[c] = out[c].astype("string")
    return out


# Lines a posting's export glued together when it dropped the line breaks of its bullets and headers:
# "communication skillsDesired Skills and Experience", "Experience with Python.Ability to", "SummaryThe role".
_LETTER_RUN = re.compile(r"(?<![0-9])[A-Za-z]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_SHORT_LEFT = frozenset("us it and you off the to in on or of at is be we our per all any can may now not for".split())
_HEADERS = frozenset("summary description overview qualifications qualification requirements responsibilities "
                     "responsibility duties skills experience education benefits opportunity role preferred required "
                     "desired location".split())
_STARTERS = frozenset("The This These We Our You Your As At If Job What Who Why How Experience Ability Strong "
                      "Excellent Bachelor Bachelors Minimum Must Demonstrated Proven Familiarity Knowledge Proficiency "
                      "Proficient Responsibilities Qualifications Requirements Required Preferred Education Location "
                      "Salary Benefits Apply Advanced An Work".split())
_NAME_TAILS = frozenset({"Ops"})  # "dataOps"
_PERIOD_GLUE = re.compile(r"(?<=[a-z]{2}[.!?])(?=(?:[A-Z][a-z]+|[A-Z]{3,}|A)\b)")
_DOMAIN_TAILS = frozenset({"Js", "Io", "Ai", "Net", "Com", "Org", "Bio", "Edu", "Gov"})


def unglue_lines(text: str) -> str:
    """Put back the line breaks a posting's export dropped between bullets, headers and sentences.

    - A word glued to the next line's first word: "skillsDesired", "plusExperience", "experienceSQL", "usWe" (a
      lowercase word of 4+ letters, or a short function word, then a capital), "SummaryThe",
      "QualificationsBachelor", "SparkExperience" (a section header, or a word that opens bullets: "The", "Strong",
      "Experience"...). Product names keep their capitals: "JavaScript", "PowerPoint", "LinkedIn", "ScrumMaster",
      "macOS", "noSQL", "dataOps", "23andMe", "WeWork".
    - A sentence glued to the next: "Preferred.Centene", "etc.You"; not "Node.Js", "Asp.Net", "Nest.Bio", URLs.

    Without the break the alias matcher cannot see a word ("JavaScriptProductivity" read as one word hid
    JavaScript), the tagger reads two bullets as one, and a sentence runs into the next one.
    """
    if not text:
        return text
    out: list[str] = []
    pos = 0
    for m in _LETTER_RUN.finditer(text):
        parts = _CAMEL.split(m.group())
        if len(parts) < 2:
            continue
        at = m.start()
        for j in range(len(parts) - 1):
            left, right = parts[j], parts[j + 1]
            at += len(left)
            if _glued(left, right, first=j == 0):
                out.append(text[pos:at])
                out.append("\n")
                pos = at
    out.append(text[pos:])
    text = "".join(out)
    return _PERIOD_GLUE.sub(_period_break, text) if _PERIOD_GLUE.search(text) else text


def _glued(left: str, right: str, first: bool) -> bool:
    if right in _NAME_TAILS:
        return False
    if first and left.islower():
        return len(left) >= 4 or left in _SHORT_LEFT
    return len(left) > 2 and (left.lower() in _HEADERS or right in _STARTERS)  # not "WeWork"


def _period_break(m: re.Match[str]) -> str:
    text, at = m.string, m.start()
    token_start = max(text.rfind(" ", 0, at), text.rfind("\n", 0, at)) + 1
    token = text[token_start:text.find(" ", at) if text.find(" ", at) > 0 else len(text)]
    if "://" in token or token.lower().startswith("www.") or token.count(".") > 1:
        return ""
    word = re.match(r"[A-Za-z]+", text[at:])
    return "" if word and word.group() in _DOMAIN_TAILS else "\n"
