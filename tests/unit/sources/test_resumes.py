"""Unit tests for skillmatch.sources.resumes: every resume format, and every way a file can fail without raising."""
from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from skillmatch.sources import resumes
from skillmatch.sources.resume_sections import split_sections
from skillmatch.sources.resumes import RESUME_SUFFIXES, extract_text, extract_texts, list_resume_files


def _text_pdf(lines: list[str]) -> bytes:
    """A minimal one-page PDF whose text layer holds ``lines`` (pypdf cannot draw text, and no PDF writer is a dep)."""
    ops = ["BT /F1 12 Tf 72 720 Td 14 TL"]
    for line in lines:
        ops.append("(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") Tj T*")
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


JSON_RESUME: dict[str, Any] = {
    "basics": {
        "name": "Jane Doe",
        "label": "Senior Data Engineer",
        "email": "jane.doe@example.com",
        "phone": "+1 555 010 9999",
        "url": "https://janedoe.example.com",
        "summary": "Data engineer building batch and streaming pipelines.",
        "location": {"address": "42 Elm Street", "postalCode": "90210", "city": "Springfield", "region": "CA"},
        "profiles": [{"network": "GitHub", "username": "janedoe-gh", "url": "https://github.com/janedoe-gh"}],
    },
    "work": [
        {"name": "Acme Corp", "position": "Senior Data Engineer", "startDate": "2019-03-01",
         "summary": "Owns the lakehouse.", "highlights": ["Cut Spark costs by 40%", "Migrated Airflow 1 to 2"]},
        {"company": "Initech", "position": "Data Analyst", "startDate": "2015-01", "endDate": "2019-02",
         "highlights": "Built SQL dashboards"},
    ],
    "education": [{"institution": "State University", "area": "Computer Science", "studyType": "Bachelor",
                   "startDate": "2011", "endDate": "2015", "courses": ["Databases", "Statistics"]}],
    "skills": [{"name": "Data engineering", "level": "Master", "keywords": ["Python", "Spark", "Airflow"]},
               {"name": "Kubernetes"}],
    "projects": [{"name": "skillmatch", "description": "Matches resumes to postings.", "keywords": ["FAISS"]}],
    "certificates": [{"name": "AWS Certified Data Engineer", "issuer": "Amazon", "date": "2023-06-01"}],
    "languages": [{"language": "English", "fluency": "Native"}, {"language": "German", "fluency": "B2"}],
    "references": [{"name": "John Roe", "reference": "Jane is great."}],
}


# ---------------------------------------------------------------- JSON Resume


def test_json_resume_text_has_content_and_no_contact_data(tmp_path: Path) -> None:
    text, pages, error = extract_text(_write(tmp_path / "jane.json", json.dumps(JSON_RESUME).encode()))
    assert error is None and pages == 1
    lines = text.splitlines()
    assert lines[:2] == ["Jane Doe", "Senior Data Engineer"]
    for heading in ("Summary", "Experience", "Education", "Skills", "Projects", "Certifications", "Languages"):
        assert heading in lines
    for piece in ("Data engineer building batch and streaming pipelines.", "Senior Data Engineer, Acme Corp",
                  "Mar 2019 to Current", "Cut Spark costs by 40%", "Data Analyst, Initech", "Jan 2015 to Feb 2019",
                  "Built SQL dashboards", "Bachelor, Computer Science", "State University", "2011 to 2015",
                  "Courses: Databases, Statistics", "Data engineering: Python, Spark, Airflow", "Kubernetes",
                  "skillmatch", "Matches resumes to postings.", "AWS Certified Data Engineer, Amazon, Jun 2023",
                  "English: Native", "German: B2"):
        assert piece in text, piece
    for private in ("jane.doe@example.com", "555", "janedoe.example.com", "42 Elm", "90210", "janedoe-gh",
                    "John Roe", "Jane is great"):
        assert private not in text, private


def test_json_resume_text_splits_into_sections(tmp_path: Path) -> None:
    text, _, _ = extract_text(_write(tmp_path / "jane.json", json.dumps(JSON_RESUME).encode()))
    sections = split_sections(text)
    assert sections["summary"] == "Data engineer building batch and streaming pipelines."
    assert "Acme Corp" in sections["experience"] and "State University" not in sections["experience"]
    assert "State University" in sections["education"]
    assert "Python, Spark, Airflow" in sections["skills"] and "FAISS" not in sections["skills"]


def test_json_resume_tolerates_wrong_field_types(tmp_path: Path) -> None:
    doc = {"basics": "Jane", "work": {"position": "Cook", "highlights": 7, "startDate": 2015},
           "skills": ["Python", {"keywords": "SQL"}], "education": None}
    text, _, error = extract_text(_write(tmp_path / "odd.json", json.dumps(doc).encode()))
    assert error is None
    assert "Cook" in text and "SQL" in text


@pytest.mark.parametrize(("data", "reason"), [
    (b'[{"basics": {"name": "Jane"}}]', "not a JSON Resume: top level is list, not an object"),
    (b'{"basics": {"name": "Jane"', "not a JSON Resume: invalid JSON"),
    (b'{"title": "Data Engineer", "company": "Acme"}', "not a JSON Resume: none of the keys"),
    (b'"just a string"', "not a JSON Resume: top level is str"),
    (b'{"basics": "\xff\xfe"}', "not a JSON Resume: not UTF-8"),
])
def test_json_that_is_not_a_resume_gets_a_reason(tmp_path: Path, data: bytes, reason: str) -> None:
    text, _, error = extract_text(_write(tmp_path / "x.json", data))
    assert text == ""
    assert error is not None and error.startswith(reason)


def test_json_resume_without_any_text_is_no_text(tmp_path: Path) -> None:
    _, _, error = extract_text(_write(tmp_path / "empty.json", b'{"basics": {"email": "a@b.c"}, "work": []}'))
    assert error == "no text"


# ---------------------------------------------------------------- TXT


def test_txt_latin1_is_detected(tmp_path: Path) -> None:
    raw = "Résumé\nJosé Müller, café crème\nSkills: señor niño".encode("latin-1")
    text, pages, error = extract_text(_write(tmp_path / "latin1.txt", raw))
    assert (text, pages, error) == ("Résumé\nJosé Müller, café crème\nSkills: señor niño", 1, None)


def test_txt_short_latin1_word_is_not_read_as_cjk(tmp_path: Path) -> None:
    text, _, _ = extract_text(_write(tmp_path / "short.txt", "Résumé".encode("latin-1")))
    assert text == "Résumé"


def test_txt_cyrillic_falls_through_to_detection(tmp_path: Path) -> None:
    original = "Резюме: опыт работы инженером, навыки Python"
    text, _, error = extract_text(_write(tmp_path / "ru.txt", original.encode("cp1251")))
    assert error is None and text == original


def test_txt_utf8_with_bom(tmp_path: Path) -> None:
    text, _, error = extract_text(_write(tmp_path / "bom.txt", "\ufeffExperience\nNaïve Bayes".encode("utf-8")))
    assert error is None and text == "Experience\nNaïve Bayes"


def test_txt_utf16_with_bom(tmp_path: Path) -> None:
    text, _, error = extract_text(_write(tmp_path / "u16.txt", "Skills\nC++, Rust".encode("utf-16")))
    assert error is None and text == "Skills\nC++, Rust"


def test_txt_whitespace_only_is_no_text(tmp_path: Path) -> None:
    assert extract_text(_write(tmp_path / "blank.txt", b" \n\t\n")) == ("", 1, "no text")


@pytest.mark.parametrize("suffix", [".txt", ".pdf", ".docx", ".json"])
def test_zero_byte_file(tmp_path: Path, suffix: str) -> None:
    assert extract_text(_write(tmp_path / f"empty{suffix}", b"")) == ("", 0, "empty file (0 bytes)")


def test_oversized_file_uses_env_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path / "big.txt", b"x" * 64)
    monkeypatch.setenv("SKILLMATCH_RESUME_MAX_BYTES", "10")
    assert extract_text(path) == ("", 0, "file larger than 10 bytes")
    monkeypatch.setenv("SKILLMATCH_RESUME_MAX_BYTES", "not-a-number")  # a bad value falls back to the default
    assert extract_text(path)[2] is None


# ---------------------------------------------------------------- PDF


def test_pdf_with_text(tmp_path: Path) -> None:
    text, pages, error = extract_text(_write(tmp_path / "ok.pdf", _text_pdf(["Summary", "Welder with MIG skills"])))
    assert error is None and pages == 1
    assert "Summary" in text and "Welder with MIG skills" in text


def test_pdf_encrypted_with_a_password(tmp_path: Path) -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(612, 792)
    writer.encrypt("secret")
    path = tmp_path / "locked.pdf"
    writer.write(path)
    assert extract_text(path) == ("", 0, "encrypted PDF")


def test_pdf_encrypted_with_owner_password_only_is_read(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    plain = _write(tmp_path / "plain.pdf", _text_pdf(["Experience", "Line cook at a busy diner"]))
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.encrypt("", owner_password="owner")
    path = tmp_path / "owner.pdf"
    writer.write(path)
    text, _, error = extract_text(path)
    assert error is None and "Line cook at a busy diner" in text


def test_pdf_corrupt_bytes(tmp_path: Path) -> None:
    data = random.Random(7).randbytes(4096)
    text, pages, error = extract_text(_write(tmp_path / "corrupt.pdf", data))
    assert (text, pages) == ("", 0)
    assert error is not None and error.startswith("unreadable PDF")


def test_pdf_blank_page_has_no_text_layer(tmp_path: Path) -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(612, 792)
    path = tmp_path / "scan.pdf"
    writer.write(path)
    assert extract_text(path) == ("", 1, "no text layer (scanned image?)")


def test_pdf_with_a_few_characters_only_has_no_text_layer(tmp_path: Path) -> None:
    _, _, error = extract_text(_write(tmp_path / "stamp.pdf", _text_pdf(["Page 1 of 1"])))
    assert error == "no text layer (scanned image?)"


# ---------------------------------------------------------------- DOCX


def test_docx_with_paragraphs_and_table(tmp_path: Path) -> None:
    from docx import Document

    doc = Document()
    doc.add_paragraph("Skills")
    table = doc.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Python"
    table.rows[0].cells[1].text = "SQL"
    path = tmp_path / "cv.docx"
    doc.save(str(path))
    assert extract_text(path) == ("Skills\nPython | SQL", 1, None)


def test_docx_that_is_another_zip(tmp_path: Path) -> None:
    path = tmp_path / "fake.docx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("payload.bin", random.Random(3).randbytes(256))
    text, _, error = extract_text(path)
    assert text == ""
    assert error is not None and error.startswith("unreadable DOCX")


def test_docx_that_is_not_a_zip(tmp_path: Path) -> None:
    _, _, error = extract_text(_write(tmp_path / "notzip.docx", b"plain text with a docx suffix"))
    assert error is not None and error.startswith("unreadable DOCX")


# ---------------------------------------------------------------- time limit


def _slow_pdf(seconds: float) -> Any:
    def slow(path: Path) -> tuple[str, int, str | None]:
        time.sleep(seconds)
        return "slow but done", 1, None
    return slow


def test_timeout_stops_a_slow_file_and_restores_the_handler(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resumes, "_pdf_text", _slow_pdf(10))
    path = _write(tmp_path / "slow.pdf", b"%PDF-1.4 whatever")

    def mine(signum: int, frame: Any) -> None:
        raise AssertionError("the caller's SIGALRM handler must not run")

    previous = signal.signal(signal.SIGALRM, mine)
    try:
        started = time.monotonic()
        assert extract_text(path, timeout_s=1) == ("", 0, "timed out after 1 s")
        assert time.monotonic() - started < 3
        assert signal.getsignal(signal.SIGALRM) is mine
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    finally:
        signal.signal(signal.SIGALRM, previous)


def test_timeout_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resumes, "_pdf_text", _slow_pdf(10))
    monkeypatch.setenv("SKILLMATCH_RESUME_TIMEOUT_S", "0.3")
    assert extract_text(_write(tmp_path / "slow.pdf", b"%PDF")) == ("", 0, "timed out after 0.3 s")


def test_fast_file_keeps_a_callers_pending_alarm(tmp_path: Path) -> None:
    fired: list[int] = []
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: fired.append(signum))
    try:
        signal.setitimer(signal.ITIMER_REAL, 100)
        assert extract_text(_write(tmp_path / "a.txt", b"Skills\nWelding"), timeout_s=5)[2] is None
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 90 < remaining <= 100
        assert not fired
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_no_alarm_outside_the_main_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resumes, "_pdf_text", _slow_pdf(0.3))
    path = _write(tmp_path / "slow.pdf", b"%PDF")
    out: list[Any] = []
    worker = threading.Thread(target=lambda: out.append(extract_text(path, timeout_s=0.05)))
    worker.start()
    worker.join(5)
    assert out == [("slow but done", 1, None)]


def test_worker_processes_apply_the_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the patch reaches the workers because they are forked; under another start method, skip rather than lie
    import multiprocessing

    if multiprocessing.get_start_method() != "fork":
        pytest.skip("needs fork so that worker processes see the patched reader")
    monkeypatch.setattr(resumes, "_pdf_text", _slow_pdf(10))
    monkeypatch.setenv("SKILLMATCH_RESUME_TIMEOUT_S", "0.5")
    paths = [_write(tmp_path / f"r{i:02d}.txt", f"Skills\nskill {i}".encode()) for i in range(40)]
    paths += [_write(tmp_path / "slow1.pdf", b"%PDF"), _write(tmp_path / "slow2.pdf", b"%PDF")]
    out = extract_texts(paths, workers=2)
    assert out[:40] == [(f"Skills\nskill {i}", 1, None) for i in range(40)]
    assert out[40:] == [("", 0, "timed out after 0.5 s")] * 2


# ---------------------------------------------------------------- names and listing


def test_non_utf8_file_names(tmp_path: Path) -> None:
    base = os.fsencode(tmp_path)
    good = Path(os.fsdecode(base + b"/r\xe9sum\xe9.txt"))
    bad = Path(os.fsdecode(base + b"/c\xf6rrupt\xff.pdf"))
    try:
        good.write_bytes(b"Skills\nForklift")
        bad.write_bytes(b"not a pdf at all")
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system refuses non-UTF-8 names")
    assert extract_text(good) == ("Skills\nForklift", 1, None)
    _, _, error = extract_text(bad)
    assert error is not None
    error.encode("utf-8")  # storable: no lone surrogates in the reason
    assert set(list_resume_files(tmp_path)) == {good, bad}
    assert extract_texts([good, bad])[0] == ("Skills\nForklift", 1, None)


def test_json_is_a_resume_suffix(tmp_path: Path) -> None:
    assert RESUME_SUFFIXES == {".pdf", ".txt", ".docx", ".json"}
    for name in ("a.json", "b.PDF", "c.txt", "d.docx", "e.md"):
        _write(tmp_path / name, b"x")
    assert [p.name for p in list_resume_files(tmp_path)] == ["a.json", "b.PDF", "c.txt", "d.docx"]


def test_extract_texts_matches_extract_text(tmp_path: Path) -> None:
    paths = [_write(tmp_path / "a.txt", b"Skills\nWelding"), _write(tmp_path / "b.json", b"[]"),
             _write(tmp_path / "c.pdf", b"")]
    assert extract_texts(paths) == [extract_text(p) for p in paths]


# ---------------------------------------------------------------- document dates


def test_document_date_from_pdf_and_docx_metadata(tmp_path: Path) -> None:
    """"Current" in a resume means the day it was written: the PDF's CreationDate, the DOCX's core "created"."""
    from datetime import date, datetime

    from docx import Document
    from pypdf import PdfReader, PdfWriter

    plain = _write(tmp_path / "plain.pdf", _text_pdf(["Experience", "09/2016 to Current Teacher"]))
    assert resumes.document_date(plain) is None  # no metadata
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.add_metadata({"/CreationDate": "D:20210808153420+05'30'"})
    dated = tmp_path / "dated.pdf"
    writer.write(dated)
    assert resumes.document_date(dated) == date(2021, 8, 8)
    writer.add_metadata({"/CreationDate": "D:29990101000000Z"})  # a date in the future is not believed
    writer.write(tmp_path / "future.pdf")
    assert resumes.document_date(tmp_path / "future.pdf") is None
    doc = Document()
    doc.add_paragraph("Experience")
    doc.core_properties.created = datetime(2019, 3, 4, 10, 0)
    doc.save(tmp_path / "cv.docx")
    assert resumes.document_date(tmp_path / "cv.docx") == date(2019, 3, 4)
    assert resumes.document_date(_write(tmp_path / "cv.txt", b"Experience\n2016 - Current")) is None
    assert resumes.document_date(_write(tmp_path / "bad.pdf", b"%PDF-1.4\nnot a pdf")) is None


def _ingest_and_validate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN202 - Settings
    """Ingest + validate the resume folder ``tmp_path / "resumes"`` into the lake ``tmp_path / "lake"``."""
    from skillmatch.config import load_settings
    from skillmatch.sources.ingest import ingest_resumes
    from skillmatch.validation.validate import validate_resumes

    config = tmp_path / "sources.yaml"
    config.write_text(f"postings: []\nresumes:\n  - name: cv\n    kind: resume_folder\n    path: {tmp_path / 'resumes'}\n")
    monkeypatch.setenv("SKILLMATCH_SOURCES_CONFIG", str(config))
    monkeypatch.setenv("SKILLMATCH_DATA_DIR", str(tmp_path / "lake"))
    monkeypatch.setenv("SKILLMATCH_DQ_MAX_INVALID_SHARE", "1")
    settings = load_settings()
    ingest_resumes(settings, "r1")
    validate_resumes(settings, "v1")
    return settings


def test_years_of_experience_run_to_the_document_date_not_today(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                                 ) -> None:
    """Ingest + validate of a 2021 PDF: "09/2016 to Current" is about 4.9 years, however late it is read; the same
    resume without a creation date runs to the day it is validated."""
    from datetime import date

    from pypdf import PdfReader, PdfWriter

    from skillmatch.lake import read_parquet

    folder = tmp_path / "resumes" / "TEACHER"
    folder.mkdir(parents=True)
    lines = ["BIOLOGY TEACHER", "Summary", "Biology teacher who designs labs and assessments for large classes.",
             "Experience", "09/2016 to Current", "Biology Teacher", "Company Name City , State",
             "Execute, implement, and modify lesson plans while incorporating differentiated instruction."]
    writer = PdfWriter(clone_from=PdfReader(_write(tmp_path / "plain.pdf", _text_pdf(lines))))
    writer.add_metadata({"/CreationDate": "D:20210808153420+05'30'"})
    writer.write(folder / "dated.pdf")
    _write(folder / "undated.pdf", _text_pdf([*lines, "Coached the school science olympiad team."]))
    settings = _ingest_and_validate(tmp_path, monkeypatch)
    bronze = read_parquet(settings.lake("bronze", "resumes"))
    made = dict(zip(bronze["source_file"].map(lambda f: Path(f).name), bronze["document_date"]))
    assert str(made["dated.pdf"])[:10] == "2021-08-08" and str(made["undated.pdf"]) in {"NaT", "None"}
    name = dict(zip(bronze["record_hash"], bronze["source_file"].map(lambda f: Path(f).name)))
    silver = read_parquet(settings.lake("silver", "resumes.parquet"))
    years = {name[h]: float(y) for h, y in zip(silver["record_hash"], silver["years_experience"])}
    since = (date.today() - date(2016, 9, 1)).days / 365.25
    assert years["dated.pdf"] == pytest.approx(4.9, abs=0.1)
    assert years["undated.pdf"] == pytest.approx(since, abs=0.1)


@pytest.mark.parametrize("broken, fixed", [
    ("\u00e2\u20ac\u00a2 Sales Analysis\u200b", "\u2022 Sales Analysis\u200b"),  # a bullet; the zero-width space stays
    ("Staff Accountant , 10/2014 \u00ef\u00bc\u200b 10/2019", "Staff Accountant , 10/2014 \uff0d 10/2019"),
    ("Managed budgets.\u00c2 Led audits\u00c2\nCaf\u00c3\u00a9 \u00e2\u20ac\u201c owner", "Managed budgets. Led audits\nCaf\u00e9 \u2013 owner"),
    ("NI\u00d1O a\u00f1o \u00dcber 5\u20ac", "NI\u00d1O a\u00f1o \u00dcber 5\u20ac"),  # real accents and signs: unchanged
])
def test_mojibake_in_resume_text_is_repaired_run_by_run(broken: str, fixed: str) -> None:
    from skillmatch.sources.normalize import fix_mojibake

    assert fix_mojibake(broken) == fixed


def test_validated_resume_text_has_its_mojibake_repaired_before_redaction(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Ingest + validate of a TXT resume carrying the shared PDFs' mojibake: silver holds the repaired text, and the
    e-mail address the broken bytes were glued to is still redacted."""
    from skillmatch.lake import read_parquet

    folder = tmp_path / "resumes" / "ACCOUNTANT"
    folder.mkdir(parents=True)
    text = ("STAFF ACCOUNTANT\nContact: \u00c2 jane.roe@example.com\u00c2 \nSkills\n\u00e2\u20ac\u00a2 Sales Analysis\n"
            "\u00e2\u20ac\u00a2 Cognos\nExperience\nStaff Accountant , 10/2014 \u00ef\u00bc\u200b 10/2019\n"
            "Company Name \u00ef\u00bc\u200b City , State\nPrepared monthly reconciliations.\u00c2 \n"
            "Reconciled the general ledger, prepared financial statements and supported the annual external audit.\n")
    _write(folder / "moji.txt", text.encode("utf-8"))
    settings = _ingest_and_validate(tmp_path, monkeypatch)
    [silver] = read_parquet(settings.lake("silver", "resumes.parquet"))["text"]
    assert "\u2022 Sales Analysis\n\u2022 Cognos" in silver and "10/2014 \uff0d 10/2019" in silver
    assert not any(c in silver for c in "\u00c2\u00e2\u00ef") and "jane.roe" not in silver and "example.com" not in silver
    assert "Prepared monthly reconciliations. \n" in silver
    [raw] = read_parquet(settings.lake("bronze", "resumes"))["raw_text"]
    assert raw == text  # bronze keeps what the file said
