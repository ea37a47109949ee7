"""Resume structure from plain (already redacted) text: the summary / experience / education / skills sections and
an estimate of the years of work experience.

Pure functions, no I/O. The heading vocabulary comes from the shared resume corpus (LiveCareer-style PDFs whose
headings are Title-case words alone on a line: "Summary", "Highlights", "Experience", "Education and Training",
"Skills", ...) plus the usual variants of hand-written and JSON Resume text.
"""
from __future__ import annotations

import re
from datetime import date

SECTION_KEYS = ("summary", "experience", "education", "skills")
OTHER = "other"

_HEADINGS: dict[str, tuple[str, ...]] = {
    "summary": (
        "summary", "professional summary", "executive summary", "career summary", "summary statement",
        "profile", "professional profile", "executive profile", "career profile", "personal profile", "profile summary",
        "objective", "career objective", "professional objective", "objective statement", "job objective",
        "career overview", "professional overview", "overview", "career focus", "about me",
        "personal statement", "introduction", "executive overview", "summary of experience",
    ),
    "experience": (
        "experience", "work experience", "professional experience", "work history", "employment history",
        "employment", "employment experience", "career history", "career experience", "relevant experience",
        "related experience", "professional background", "work background", "military experience",
        "teaching experience", "industry experience", "relevant work experience", "professional history",
        "experience and accomplishments", "professional work experience", "positions held", "internships",
        "internship experience",
    ),
    "education": (
        "education", "education and training", "training and education", "educational background",
        "academic background", "academic qualifications", "educational qualifications", "academic history",
        "academics", "education history", "education and certifications", "education and certification",
        "education and credentials", "education and qualifications", "academic training", "academic profile",
        "education background", "educational history", "education and professional development",
    ),
    "skills": (
        "skills", "technical skills", "core qualifications", "skill highlights", "highlights", "qualifications",
        "summary of skills", "summary of qualifications", "skills summary", "core strengths", "strengths",
        "areas of expertise", "expertise", "core competencies", "competencies", "key skills", "computer skills",
        "skill set", "skillset", "skills and abilities", "technical skills and qualifications", "key qualifications",
        "professional skills", "relevant skills", "technical proficiencies", "technical expertise",
        "qualification highlights", "qualifications summary", "highlights of qualifications", "specialties",
        "areas of strength", "skills and competencies", "skills and expertise", "additional skills",
        "software skills", "technical competencies", "tools and technologies", "technologies", "it skills",
        "language and computer skills", "computer proficiencies", "skills and qualifications",
    ),
    OTHER: (
        "accomplishments", "core accomplishments", "achievements", "key achievements", "awards", "honors",
        "honors and awards", "awards and honors", "activities", "activities and honors", "extracurricular activities",
        "certifications", "certification", "certificates", "licenses", "licenses and certifications",
        "certifications and licenses", "credentials", "professional certifications", "interests", "hobbies",
        "hobbies and interests", "additional information", "personal information", "personal details", "languages",
        "affiliations", "professional affiliations", "memberships", "professional memberships", "associations",
        "publications", "presentations", "publications and presentations", "projects", "key projects",
        "volunteer", "volunteer work", "volunteer experience", "community service", "community involvement",
        "leadership experience", "references", "courses", "coursework",
        "relevant coursework", "professional development", "conferences", "patents",
        "military service",
    ),
}
_HEADING_KEY = {h: key for key, names in _HEADINGS.items() for h in names}
_MAX_HEADING_CHARS = 60


def _heading_of(line: str) -> str | None:
    """The section key a line announces ('summary', ..., 'other'), or None when the line is not a heading."""
    s = line.strip()
    if not s or len(s) > _MAX_HEADING_CHARS:
        return None
    # markdown / decorated headings ("## Skills", "--- EXPERIENCE ---", "SKILLS:") count as the bare word
    s = s.strip("#*=_-–—|•: \t").lower().replace("&", " and ")
    if not s or s[-1] in ".,;" or any(c.isdigit() for c in s):
        return None  # the wrapped tail of a sentence ("... for several projects."), a dated entry
    s = " ".join(re.sub(r"[^a-z ]+", " ", s).split())
    return _HEADING_KEY.get(s)


def is_heading(line: str) -> bool:
    """Whether a line is a section heading the splitter knows ("Summary", "Executive Profile", "Skills"...)."""
    return _heading_of(line) is not None


def section_spans(text: str) -> list[tuple[str | None, int, int]]:
    """(section key, start, end) character spans of ``text``, in order and covering it: 'summary', 'experience',
    'education', 'skills', 'other' for a section's body (its heading line excluded), None for the text before
    the first heading and for heading lines. A heading's section runs to the next heading of any kind."""
    out: list[tuple[str | None, int, int]] = []
    current: str | None = None
    pos = 0
    for line in (text or "").splitlines(keepends=True):
        key = _heading_of(line)
        if key is not None:
            current = key
        span = (None if key is not None else current, pos, pos + len(line))
        if out and out[-1][0] == span[0]:
            out[-1] = (span[0], out[-1][1], span[2])
        else:
            out.append(span)
        pos += len(line)
    return out


def split_sections(text: str) -> dict[str, str]:
    """Split resume text into {"summary", "experience", "education", "skills"} (each '' when not detectable).

    A heading is a known heading word or phrase alone on its line (case-insensitive, an optional trailing colon);
    its section runs to the next heading of any kind, so "Accomplishments", "Certifications", "Languages" and the
    like end the previous section. Text before the first heading (the title line) belongs to no section, and a
    section that appears twice ("Skill Highlights" ... "Skills") is joined.
    """
    parts: dict[str, list[str]] = {k: [] for k in SECTION_KEYS}
    for key, start, end in section_spans(text):
        if key in parts:
            parts[key].append(text[start:end])
    return {k: _tidy("".join(v)) for k, v in parts.items()}


def _tidy(block: str) -> str:
    # the PDF text layer leaves lone spaces on their own lines between the pieces of one entry
    return "\n".join(ln.rstrip() for ln in block.splitlines() if ln.strip()).strip()


# --- years of experience ---------------------------------------------------------------------------------------

_MONTH_NUM = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10,
              "nov": 11, "dec": 12, "spring": 3, "summer": 6, "fall": 9, "autumn": 9, "winter": 12}
_MONTH = (r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?"
          r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|spring|summer|fall|autumn|winter")


def _date_re(g: str) -> str:
    """A date: 'Jan 2012', 'January, 2012', '06/2014', '6/1/2014', '06-2014' or a bare year, named by prefix g."""
    return (rf"(?:(?P<{g}mon>{_MONTH})\.?,?\s*|(?P<{g}num>\d{{1,2}})\s*[/.-]\s*(?:\d{{1,2}}\s*[/.-]\s*)?)?"
            rf"(?P<{g}y>(?:19|20)\d{{2}})")


# hyphen and dash forms, plus "ï¼" (a fullwidth hyphen U+FF0D read as cp1252): how many corpus PDFs separate dates
_DASHES = r"-+|[–—‒―−－~]|ï¼"
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\u008d]")

_RANGE = re.compile(
    rf"(?<![\w/.-]){_date_re('s')}(?!\d)\s*(?:{_DASHES}|\bto\b|\buntil\b|\btill\b|\bthrough\b|\bthru\b)\s*"
    rf"(?:{_date_re('e')}(?!\d)|(?P<cur>current(?:ly)?|present|now|today|date|ongoing)\b)",
    re.IGNORECASE)

_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
                 "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
                 "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30}
_NUM = r"(?P<n>\d{1,2}(?:\.\d+)?|" + "|".join(_NUMBER_WORDS) + r")"
# "over 10 years of experience", "15 years' experience", "10 years of progressive sales experience", "7+ years"
_STATEMENT = re.compile(
    rf"\b{_NUM}\s*(?:(?P<plus>\+|plus\b)\s*)?(?:years?|yrs?)\b['’]?"
    r"(?P<tail>\s*(?:of\s+)?(?:[\w/&-]+\s+){0,4}?(?:experience|exp)\b)?",
    re.IGNORECASE)

MAX_YEARS = 50.0
MIN_YEAR = 1960


def _point(mon: str | None, num: str | None, year: str) -> tuple[float, bool]:
    """(fractional year, month known) of one matched date."""
    y = int(year)
    month = None
    if mon:
        month = _MONTH_NUM.get(mon[:3].lower()) or _MONTH_NUM.get(mon.lower())
    elif num and 1 <= int(num) <= 12:
        month = int(num)
    return (y + (month - 1) / 12, True) if month else (float(y), False)


def dated_ranges(text: str, today: date) -> list[tuple[int, int, float, float, bool]]:
    """(char start, char end, start year, end year, open-ended) of each plausible work period in ``text``
    ('01/2015 to Current', 'Jan 2012 - Mar 2016', '2010 - 2014'), years fractional; an open-ended period
    ('Current', 'Present') ends ``today``. Character offsets are ``text``'s own (zero-width debris counts as a
    space)."""
    now = today.year + (today.month - 1) / 12
    out = []
    for m in _RANGE.finditer(_ZERO_WIDTH.sub(" ", text)):
        start, _ = _point(m.group("smon"), m.group("snum"), m.group("sy"))
        end = now if m.group("cur") else _point(m.group("emon"), m.group("enum"), m.group("ey"))[0]
        if int(start) < MIN_YEAR or end > now or start > end:
            continue
        out.append((m.start(), m.end(), start, end, bool(m.group("cur"))))
    return out


def _ranges(text: str, today: date) -> list[tuple[float, float]]:
    """Plausible (start, end) work periods found in ``text``, in fractional years."""
    # PDF text puts 'Jan 2013', 'to' and 'Jan 2014' on separate lines, with zero-width debris in between
    flat = " ".join(_ZERO_WIDTH.sub("", text).split())
    return [(start, end) for _, _, start, end, _ in dated_ranges(flat, today)]


def _merged_years(ranges: list[tuple[float, float]]) -> float:
    """Total length of the union of the ranges (overlapping jobs count once)."""
    total, cur_start, cur_end = 0.0, None, None
    for start, end in sorted(ranges):
        if cur_end is None or start > cur_end:
            if cur_end is not None:
                total += cur_end - cur_start
            cur_start, cur_end = start, end
        else:
            cur_end = max(cur_end, end)
    if cur_end is not None:
        total += cur_end - cur_start
    return total


def _stated_years(text: str) -> float | None:
    """The largest explicit 'N years of experience' / 'N+ years' figure in the text, or None."""
    best = None
    for m in _STATEMENT.finditer(" ".join(text.split())):
        if not (m.group("plus") or m.group("tail")):
            continue  # "2 years as a clerk" without '+' or 'experience' is one job's length, not a total
        raw = m.group("n").lower()
        value = float(_NUMBER_WORDS[raw]) if raw in _NUMBER_WORDS else float(raw)
        if 0 < value <= MAX_YEARS and (best is None or value > best):
            best = value
    return best


def estimate_years_experience(text: str, today: date | None = None) -> float | None:
    """Years of work experience in a resume, rounded to 1 decimal, or None when the text gives no clue.

    Sums the date ranges ('01/2015 to Current', 'Jan 2012 - Mar 2016', '2010 - 2014') of the experience section,
    or of the whole text when no experience section is found, after merging overlaps; 'Current' / 'Present' is
    ``today`` (default: the real today). Ranges starting before 1960, ending after today or running backwards are
    ignored. Without any range, an explicit statement ('over 10 years of experience', '7+ years') is used. The
    result is capped at 50.
    """
    if not text or not text.strip():
        return None
    today = today or date.today()
    scope = split_sections(text)["experience"] or text
    ranges = _ranges(scope, today)
    if ranges:
        years: float | None = _merged_years(ranges)
    else:
        years = _stated_years(text)
    if years is None:
        return None
    return round(min(max(years, 0.0), MAX_YEARS), 1)
