"""Resume readers: text out of PDF (pypdf), DOCX (python-docx, tables included), plain-text and JSON Resume
(jsonresume.org) files, one record per file, failures kept with a reason.

Every file is read under a size limit and a wall-clock limit so that one pathological file cannot stall a batch.
"""
from __future__ import annotations

import json
import logging
import os
import re
import signal
import threading
import time
from datetime import date
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

RESUME_SUFFIXES = {".pdf", ".txt", ".docx", ".json"}
MAX_RESUME_BYTES = 10 * 1024 * 1024
DEFAULT_TIMEOUT_S = 30.0
MAX_BYTES_ENV = "SKILLMATCH_RESUME_MAX_BYTES"
TIMEOUT_ENV = "SKILLMATCH_RESUME_TIMEOUT_S"
# fewer non-space characters than this from a PDF with pages means the pages are images (a scan), not text
MIN_PDF_TEXT_CHARS = 20
JSON_RESUME_KEYS = ("basics", "work", "volunteer", "education", "awards", "certificates", "publications", "skills",
                    "languages", "interests", "references", "projects")

Result = tuple[str, int, str | None]


class _Timeout(BaseException):
    """Raised by the SIGALRM handler; a BaseException so that parsers' own ``except Exception`` cannot swallow it."""


def _env_number(name: str, default: float) -> float:
    """A positive number from the environment, or ``default`` (with a warning) when unset or not usable."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value <= 0:
        log.warning("%s=%r is not a positive number; using %s", name, raw, default)
        return default
    return value


def max_resume_bytes() -> int:
    """The per-file size limit: env ``SKILLMATCH_RESUME_MAX_BYTES`` (read at call time) or MAX_RESUME_BYTES."""
    return int(_env_number(MAX_BYTES_ENV, MAX_RESUME_BYTES))


def resume_timeout_s() -> float:
    """The per-file time limit: env ``SKILLMATCH_RESUME_TIMEOUT_S`` (read at call time) or DEFAULT_TIMEOUT_S."""
    return _env_number(TIMEOUT_ENV, DEFAULT_TIMEOUT_S)


def _clean(reason: str) -> str:
    """A reason safe to store: lone surrogates from odd file names become '?' (parquet wants valid UTF-8)."""
    return reason.encode("utf-8", errors="replace").decode("utf-8")[:300]


def extract_text(path: Path, timeout_s: float | None = None) -> Result:
    """Return (text, pages, error) for one resume file; ``error`` names why no usable text came out.

    Never raises: a corrupt, encrypted, oversized, empty or too slow file yields an error string so the batch goes
    on and the file lands in quarantine downstream. ``timeout_s`` defaults to :func:`resume_timeout_s`; it is
    enforced with SIGALRM only in a process's main thread (elsewhere the file is read without a time limit).
    """
    path = Path(path)
    limit = resume_timeout_s() if timeout_s is None else float(timeout_s)
    use_alarm = (limit > 0 and hasattr(signal, "setitimer")
                 and threading.current_thread() is threading.main_thread())
    if not use_alarm:
        return _extract(path)

    def _on_alarm(signum: int, frame: Any) -> None:
        raise _Timeout()

    previous = signal.signal(signal.SIGALRM, _on_alarm)
    started = time.monotonic()
    outer_delay = 0.0
    try:
        try:
            outer_delay, _ = signal.setitimer(signal.ITIMER_REAL, limit)
            return _extract(path)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _Timeout:
        # also reached when the alarm lands between the end of _extract and the cancel above: a file that needed
        # the whole budget is reported as too slow either way
        return "", 0, f"timed out after {limit:g} s"
    finally:
        signal.signal(signal.SIGALRM, previous)
        if outer_delay > 0:  # a caller's own pending alarm keeps running with what is left of it
            signal.setitimer(signal.ITIMER_REAL, max(outer_delay - (time.monotonic() - started), 1e-3))


def _extract(path: Path) -> Result:
    """extract_text without the time limit."""
    try:
        size = path.stat().st_size
        if size == 0:
            return "", 0, "empty file (0 bytes)"
        limit = max_resume_bytes()
        if size > limit:
            return "", 0, f"file larger than {limit} bytes"
        suffix = path.suffix.lower()
        if suffix == ".txt":
            text = _decode(path.read_bytes())
            return (text, 1, None) if text.strip() else ("", 1, "no text")
        if suffix == ".docx":
            return _docx_text(path)
        if suffix == ".json":
            return _json_resume_text(path)
        return _pdf_text(path)
    except Exception as exc:  # a parser bug on one file must not take the batch down
        return "", 0, _clean(f"unexpected error: {type(exc).__name__}: {exc}")


def _decode(data: bytes) -> str:
    """Text of a plain-text file: UTF-8 (BOM or not), UTF-16/32 with a BOM, Western (cp1252) text, else what
    charset_normalizer detects, else latin-1. Never raises."""
    text: str | None = None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        if data[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"):
            text = _try_decode(data, "utf-32")
        elif data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            text = _try_decode(data, "utf-16")
        if text is None:
            text = _western(data)
        if text is None:
            try:
                from charset_normalizer import from_bytes

                best = from_bytes(data).best()
                text = str(best) if best is not None else None
            except Exception as exc:  # detection is a nicety; latin-1 below always decodes
                log.debug("charset detection failed: %s", exc)
        if text is None:
            text = data.decode("latin-1")
    return text.replace("\x00", "").lstrip("\ufeff")


def _try_decode(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


def _western(data: bytes) -> str | None:
    """``data`` as cp1252 when that reads like Western text, else None.

    charset_normalizer often names a Central European or even a CJK code page for a short latin-1 resume
    ("R\xe9sum\xe9"); Western text has accented letters as the minority of its letters, while Cyrillic or Greek
    bytes read as cp1252 come out as runs of accented Latin letters.
    """
    text = _try_decode(data, "cp1252")
    if text is None:
        return None
    letters = [c for c in text if c.isalpha()]
    accented = sum(1 for c in letters if not c.isascii())
    return text if letters and accented * 2 <= len(letters) else None


def _pdf_text(path: Path) -> Result:
    """Text of every page of a PDF; an encrypted one is opened when its user password is empty."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            try:
                opened = bool(reader.decrypt(""))
            except Exception:  # a missing crypto backend or an odd handler: treat as locked
                opened = False
            if not opened:
                return "", 0, "encrypted PDF"
        pages = [(p.extract_text() or "") for p in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        return "", 0, _clean(f"unreadable PDF: {type(exc).__name__}: {exc}")
    text = "\n".join(pages).replace("\x00", "")
    if pages and len(re.sub(r"\s+", "", text)) < MIN_PDF_TEXT_CHARS:
        return "", len(pages), "no text layer (scanned image?)"
    return text, len(pages), None


def document_date(path: Path) -> date | None:
    """When the document was made, from its own metadata (a PDF's CreationDate, a DOCX's core "created"), or None.

    A resume's "Current" / "Present" runs to this date, not to the day it is read: a 2021 PDF read in 2026 must not
    gain five years of experience. TXT / JSON files and unreadable or absent metadata give None.
    """
    path = Path(path)
    try:
        if path.suffix.lower() == ".pdf":
            from pypdf import PdfReader

            made = PdfReader(path).metadata
            made = made.creation_date if made is not None else None
        elif path.suffix.lower() == ".docx":
            from docx import Document

            made = Document(str(path)).core_properties.created
        else:
            return None
    except Exception:  # noqa: BLE001 - odd metadata never stops an ingest; the text is read separately
        return None
    if made is None:
        return None
    day = made.date() if hasattr(made, "date") else None
    return day if day is not None and date(1960, 1, 1) <= day <= date.today() else None


def _docx_text(path: Path) -> Result:
    """Paragraphs and table cells of a DOCX in document order; a file that is not a DOCX gets a reason."""
    import zipfile

    from docx import Document
    from docx.opc.exceptions import PackageNotFoundError

    try:
        doc = Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        return "", 0, _clean(f"unreadable DOCX: {type(exc).__name__}: {exc}")
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            cells = dict.fromkeys(c.text.strip() for c in row.cells)  # merged cells repeat their text
            parts.append(" | ".join(c for c in cells if c))
    text = "\n".join(p for p in parts if p.strip())
    return (text, 1, None) if text.strip() else ("", 1, "no text")


# --- JSON Resume -----------------------------------------------------------------------------------------------

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _s(value: Any) -> str:
    """A scalar field as one clean line; anything else (lists, objects, null) as ''."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, (str, int, float)):
        return " ".join(str(value).split())
    return ""


def _items(value: Any) -> list[dict[str, Any]]:
    """The objects of a JSON Resume array; a lone object counts as a one-item array, other values are dropped."""
    if isinstance(value, dict):
        value = [value]
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _strings(value: Any) -> list[str]:
    """The non-empty strings of an array of strings (highlights, keywords, courses)."""
    if isinstance(value, str):
        value = [value]
    return [s for s in (_s(v) for v in value) if s] if isinstance(value, list) else []


def _date(value: Any) -> str:
    """ISO 8601 dates (YYYY, YYYY-MM, YYYY-MM-DD) as 'Mon YYYY' / 'YYYY', the form the years estimator reads."""
    raw = _s(value)
    m = re.fullmatch(r"(\d{4})(?:-(\d{1,2})(?:-\d{1,2})?)?", raw)
    if not m:
        return raw
    if m.group(2) and 1 <= int(m.group(2)) <= 12:
        return f"{_MONTHS[int(m.group(2)) - 1]} {m.group(1)}"
    return m.group(1)


def _span(item: dict[str, Any], start_key: str = "startDate", end_key: str = "endDate", open_end: str = "") -> str:
    """'start to end' of an entry; a work entry with a start and no end is current."""
    start, end = _date(item.get(start_key)), _date(item.get(end_key))
    if start and not end:
        end = open_end
    return " to ".join(p for p in (start, end) if p)


def _join(*parts: str, sep: str = ", ") -> str:
    return sep.join(p for p in parts if p)


def _json_resume_lines(doc: dict[str, Any]) -> list[str]:
    """The text lines of a JSON Resume, section by section under the headings the section splitter knows.

    Contact data (email, phone, url, street address, profiles) and references are left out on purpose.
    """
    out: list[str] = []

    def section(heading: str, lines: list[str]) -> None:
        lines = [ln for ln in lines if ln]
        if lines:
            out.extend(["", heading, *lines])

    basics = doc.get("basics") if isinstance(doc.get("basics"), dict) else {}
    out.extend(ln for ln in (_s(basics.get("name")), _s(basics.get("label"))) if ln)
    section("Summary", [_s(basics.get("summary"))])

    def roles(items: object, *org_keys: str) -> list[str]:
        lines: list[str] = []
        for r in _items(items):
            org = next((_s(r.get(k)) for k in org_keys if _s(r.get(k))), "")
            lines += [_join(_s(r.get("position")), org), _span(r, open_end="Current"), _s(r.get("summary")),
                      *_strings(r.get("highlights"))]
        return lines

    section("Experience", roles(doc.get("work"), "name", "company"))
    section("Volunteer Work", roles(doc.get("volunteer"), "organization"))

    education: list[str] = []
    for e in _items(doc.get("education")):
        education.append(_join(_s(e.get("studyType")), _s(e.get("area"))))
        education.append(_s(e.get("institution")))
        education.append(_span(e))
        score = _s(e.get("score"))
        education.append(f"Score: {score}" if score else "")
        courses = _strings(e.get("courses"))
        education.append(f"Courses: {', '.join(courses)}" if courses else "")
    section("Education", education)

    skills: list[str] = []
    for k in _items(doc.get("skills")):
        name, keywords = _s(k.get("name")), ", ".join(_strings(k.get("keywords")))
        skills.append(f"{name}: {keywords}" if name and keywords else name or keywords)
    section("Skills", skills)

    projects: list[str] = []
    for p in _items(doc.get("projects")):
        projects.append(_join(_s(p.get("name")), _span(p)))
        projects.append(_s(p.get("description")))
        projects.extend(_strings(p.get("highlights")))
        keywords = _strings(p.get("keywords"))
        projects.append(f"Keywords: {', '.join(keywords)}" if keywords else "")
    section("Projects", projects)

    section("Certifications", [_join(_s(c.get("name")), _s(c.get("issuer")), _date(c.get("date")))
                               for c in _items(doc.get("certificates"))])
    section("Awards", [_join(_s(a.get("title")), _s(a.get("awarder")), _date(a.get("date")))
                       for a in _items(doc.get("awards"))])
    section("Publications", [_join(_s(p.get("name")), _s(p.get("publisher")), _date(p.get("releaseDate")))
                             for p in _items(doc.get("publications"))])
    section("Languages", [_join(_s(lang.get("language")), _s(lang.get("fluency")), sep=": ")
                          for lang in _items(doc.get("languages"))])
    section("Interests", [_join(_s(i.get("name")), ", ".join(_strings(i.get("keywords"))), sep=": ")
                          for i in _items(doc.get("interests"))])
    return out


def _json_resume_text(path: Path) -> Result:
    """Text of a JSON Resume file; a file that is not one gets a 'not a JSON Resume: ...' reason."""
    try:
        doc = json.loads(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError:
        return "", 0, "not a JSON Resume: not UTF-8"
    except (json.JSONDecodeError, RecursionError) as exc:
        return "", 0, _clean(f"not a JSON Resume: invalid JSON: {exc}")
    if not isinstance(doc, dict):
        return "", 0, f"not a JSON Resume: top level is {type(doc).__name__}, not an object"
    if not any(k in doc for k in JSON_RESUME_KEYS):
        return "", 0, "not a JSON Resume: none of the keys " + ", ".join(JSON_RESUME_KEYS)
    text = "\n".join(_json_resume_lines(doc)).strip()
    return (text, 1, None) if text else ("", 1, "no text")


# --- batches ---------------------------------------------------------------------------------------------------

def _extract_many(paths: list[str]) -> list[Result]:
    return [extract_text(Path(p)) for p in paths]


def extract_texts(paths: list[Path], workers: int = 2) -> list[Result]:
    """Extract text from many files, in ``workers`` processes when there are enough files to pay for them.

    Each file gets the per-file size and time limits of :func:`extract_text` (worker processes read the same
    environment variables).
    """
    if len(paths) < 40 or workers <= 1:
        return [extract_text(p) for p in paths]
    chunks = [[str(p) for p in paths[i::workers * 4]] for i in range(workers * 4)]
    out: dict[str, Result] = {}
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for chunk, res in zip(chunks, pool.map(_extract_many, chunks)):
            out.update(zip(chunk, res))
    return [out[str(p)] for p in paths]


def list_resume_files(root: Path, limit: int | None = None) -> list[Path]:
    """Resume files under ``root`` in a stable order, spread over categories when ``limit`` cuts the list."""
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in RESUME_SUFFIXES)
    if limit is None or limit >= len(files):
        return files
    by_dir: dict[Path, list[Path]] = {}
    for f in files:
        by_dir.setdefault(f.parent, []).append(f)
    picked: list[Path] = []
    i = 0
    while len(picked) < limit:
        for d in sorted(by_dir):
            if i < len(by_dir[d]) and len(picked) < limit:
                picked.append(by_dir[d][i])
        i += 1
    return sorted(picked)
