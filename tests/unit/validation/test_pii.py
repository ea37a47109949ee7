"""Unit tests for skillmatch.validation.pii: contact redaction and keyed pseudonymous candidate ids."""
from __future__ import annotations

import stat
from pathlib import Path

import pytest

from skillmatch.validation.pii import candidate_id, pseudonym_key, redact_contacts

# ---------------------------------------------------------------- redact_contacts


@pytest.mark.parametrize("email", ["john.doe@example.com", "jane+jobs@mail.example.co.uk", "a_b-c@x-y.org"])
def test_emails_are_redacted(email: str) -> None:
    out = redact_contacts(f"Contact: {email}, thanks")
    assert out == "Contact: [EMAIL], thanks"


@pytest.mark.parametrize("url", ["https://example.com/cv?x=1", "http://foo.bar/baz", "www.linkedin.com/in/someone"])
def test_urls_are_redacted(url: str) -> None:
    out = redact_contacts(f"See {url} for more")
    assert out == "See [URL] for more"


@pytest.mark.parametrize("phone", [
    "+1 (555) 123-4567",
    "(555) 123-4567",
    "555-123-4567",
    "555.123.4567",
    "+1 555 010 0042",
    "+44 20 7946 0958",
    "07700 900123",
    "+44 7700 900123",
])
def test_us_and_uk_phones_are_redacted(phone: str) -> None:
    out = redact_contacts(f"Call {phone} today")
    assert out == "Call [PHONE] today"
    assert not any(c.isdigit() for c in out)


def test_all_kinds_in_one_text() -> None:
    text = "Jane Roe\njane.roe@example.com | +1 555 123 4567 | https://github.com/janeroe\nSummary"
    out = redact_contacts(text)
    assert out == "Jane Roe\n[EMAIL] | [PHONE] | [URL]\nSummary"


def test_email_domain_not_left_as_url() -> None:
    out = redact_contacts("write to someone@www.example.com")
    assert out == "write to [EMAIL]"


@pytest.mark.parametrize("keep", [
    "Worked there 2010-2015 as an analyst.",
    "Worked there (2016 - 2020) as a lead.",
    "From 2001.2005 onwards",
    "Built services in Python 3.11 and Java 17.",
    "Managed a budget of 1,000,000 USD.",
    "Grew revenue 12.5% to $3,500,000 in 2019.",
    "Released v1.2.3 on 2020-01-15.",
    "Ticket ABC-1234-5678 closed.",
])
def test_non_contact_numbers_survive(keep: str) -> None:
    assert redact_contacts(keep) == keep


def test_year_range_alone_survives_even_with_many_digits_nearby() -> None:
    text = "Acme Corp 2010-2015, Beta Inc 2015-2020"
    assert redact_contacts(text) == text


def test_empty_text_passthrough() -> None:
    assert redact_contacts("") == ""
    assert redact_contacts(None) is None  # type: ignore[arg-type]


# ---------------------------------------------------------------- candidate_id


def test_candidate_id_is_deterministic_and_keyed() -> None:
    a = candidate_id(b"key-one", "resumes-pdf", "ENGINEERING/123.pdf")
    assert a == candidate_id(b"key-one", "resumes-pdf", "ENGINEERING/123.pdf")
    assert a.startswith("cand_")
    assert len(a) == len("cand_") + 20
    assert all(c in "0123456789abcdef" for c in a[len("cand_"):])
    assert candidate_id(b"key-two", "resumes-pdf", "ENGINEERING/123.pdf") != a
    assert candidate_id(b"key-one", "resumes-pdf", "ENGINEERING/124.pdf") != a
    assert candidate_id(b"key-one", "other-source", "ENGINEERING/123.pdf") != a


def test_candidate_id_does_not_leak_file_name() -> None:
    cid = candidate_id(b"k", "resumes-pdf", "john_smith_resume.pdf")
    assert "john" not in cid and "smith" not in cid


# ---------------------------------------------------------------- pseudonym_key


def test_pseudonym_key_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SKILLMATCH_PSEUDONYM_KEY", "s3cret-from-env")
    assert pseudonym_key(tmp_path) == b"s3cret-from-env"
    assert not (tmp_path / ".secrets").exists()  # no key file is written when the env var is set


def test_pseudonym_key_file_created_and_reused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SKILLMATCH_PSEUDONYM_KEY", raising=False)
    k1 = pseudonym_key(tmp_path)
    key_file = tmp_path / ".secrets" / "pseudonym.key"
    assert key_file.is_file()
    assert key_file.read_text().strip().encode() == k1
    assert len(k1) == 64  # 32 random bytes, hex
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert pseudonym_key(tmp_path) == k1  # reused, not regenerated
    assert not list((tmp_path / ".secrets").glob("*.tmp"))


def test_pseudonym_key_differs_per_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SKILLMATCH_PSEUDONYM_KEY", raising=False)
    assert pseudonym_key(tmp_path / "a") != pseudonym_key(tmp_path / "b")


def test_pseudonym_key_env_overrides_existing_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SKILLMATCH_PSEUDONYM_KEY", raising=False)
    from_file = pseudonym_key(tmp_path)
    monkeypatch.setenv("SKILLMATCH_PSEUDONYM_KEY", "override")
    assert pseudonym_key(tmp_path) == b"override" != from_file


@pytest.mark.parametrize("text,expected", [
    ("Home: 1234 N. Maple Avenue, Apt 5, Springfield, IL 62704", "Home: [ADDRESS], Springfield, IL [ZIP]"),
    ("742 Evergreen Terrace\nSpringfield", "[ADDRESS]\nSpringfield"),
    ("Office at 55 West 46th Street Suite 300-B.", "Office at [ADDRESS]."),
    ("Austin, TX 78701-1234 (remote ok)", "Austin, TX [ZIP] (remote ok)"),
])
def test_street_addresses_and_zip_codes_are_redacted(text: str, expected: str) -> None:
    assert redact_contacts(text) == expected


@pytest.mark.parametrize("text", [
    "5 Years With Dr Smith in oncology",  # bare "Dr" is not a street type
    "Managed 12 Sales Reps across the West",
    "Led 3 Agile Teams; shipped 40 Features",
    "Python 3 Way faster than before",  # lowercase word breaks the street pattern
    "Scored 1450 on the SAT in 2012",
])
def test_ordinary_resume_lines_are_not_addresses(text: str) -> None:
    assert redact_contacts(text) == text


@pytest.mark.parametrize("text", [
    "2012\n \nGeorgian Court University",  # a year above a college name: the pattern never crosses lines
    "Quality systems: ISO/TS 16949 and ISO 9001",  # a standard number is not a ZIP code
])
def test_line_breaks_and_standard_numbers_are_not_addresses(text: str) -> None:
    assert redact_contacts(text) == text
