"""Resume readers: text out of PDF (pypdf), DOCX (python-docx, tables included) and plain-text files, one record
per file, failures kept with a reason."""
from __future__ import annotations

import logging
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

log = logging.getLogger(__name__)

RESUME_SUFFIXES = {".pdf", ".txt", ".docx"}
MAX_RESUME_BYTES = 10 * 1024 * 1024


def extract_text(path: Path) -> tuple[str, int, str | None]:
    """Return (text, pages, error) for one resume file; ``error`` names why no usable text came out.

    Never raises: a corrupt, encrypted or oversized file yields an error string so the batch goes on and the
    file lands in quarantine downstream.
    """
    try:
        size = path.stat().st_size
        if size == 0:
            return "", 0, "empty file (0 bytes)"
        if size > MAX_RESUME_BYTES:
            return "", 0, f"file larger than {MAX_RESUME_BYTES} bytes"
        if path.suffix.lower() == ".txt":
            return path.read_text(encoding="utf-8", errors="replace"), 1, None
        if path.suffix.lower() == ".docx":
            return _docx_text(path)
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError

        logging.getLogger("pypdf").setLevel(logging.ERROR)
        try:
            reader = PdfReader(str(path))
            if reader.is_encrypted:
                return "", len(reader.pages), "encrypted PDF"
            pages = [(p.extract_text() or "") for p in reader.pages]
        except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
            return "", 0, f"unreadable PDF: {type(exc).__name__}: {exc}"[:300]
        text = "\n".join(pages).replace("\x00", "")
        return text, len(pages), None
    except Exception as exc:  # a parser bug on one file must not take the batch down
        return "", 0, f"unexpected error: {type(exc).__name__}: {exc}"[:300]


def _docx_text(path: Path) -> tuple[str, int, str | None]:
    """Paragraphs and table cells of a DOCX in document order; a file that is not a DOCX gets a reason."""
    import zipfile

    from docx import Document
    from docx.opc.exceptions import PackageNotFoundError

    try:
        doc = Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        return "", 0, f"unreadable DOCX: {type(exc).__name__}: {exc}"[:300]
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            cells = dict.fromkeys(c.text.strip() for c in row.cells)  # merged cells repeat their text
            parts.append(" | ".join(c for c in cells if c))
    return "\n".join(p for p in parts if p.strip()), 1, None


def _extract_many(paths: list[str]) -> list[tuple[str, int, str | None]]:
    return [extract_text(Path(p)) for p in paths]


def extract_texts(paths: list[Path], workers: int = 2) -> list[tuple[str, int, str | None]]:
    """Extract text from many files, in ``workers`` processes when there are enough files to pay for them."""
    if len(paths) < 40 or workers <= 1:
        return [extract_text(p) for p in paths]
    chunks = [[str(p) for p in paths[i::workers * 4]] for i in range(workers * 4)]
    out: dict[str, tuple[str, int, str | None]] = {}
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
