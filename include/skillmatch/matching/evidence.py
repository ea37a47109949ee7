"""Resume-side evidence strength: how firmly a resume shows each skill it holds.

A skill used in a job weighs more than one only listed; one used in the latest jobs more than one last used long
ago. Per (resume, skill), over every place the resume mentions the skill (the facts' ``mention_starts``):

- a mention in the **experience** section counts fully, less for staleness when the job it sits under is dated:
  the job is the dated period ('01/2015 to Current', 'Jan 2012 - Mar 2016') nearest above the mention in its
  section (or the first below it, for an entry whose dates follow its bullet points), and its staleness is the
  years between its end and the resume's own date. That date is unknown, so it is taken as the latest date the
  resume's jobs state: an ended job's end, a current job's start (a resume from 2015 says 'Current' too; reading
  it as today would make every earlier job look a decade stale). A current job is never stale. Up to
  ``RECENT_YEARS`` stale: 1; then ``STALE_DECAY`` less a year, never below ``STALE_FLOOR``;
- a mention anywhere else (skills list, summary, education, accomplishments...) of a resume that has an
  experience section counts ``LISTED``: the skill is claimed but not shown in work;
- a resume without an experience section gives no way to judge: every skill counts 1.

The strength is the largest over the mentions. It multiplies the credit a held skill earns in a posting's coverage
(``engine.skill_matrices``) and the soft credit it lends to related skills (``soft.candidate_credits``).
Pure functions, no I/O.
"""
from __future__ import annotations

import bisect
from collections.abc import Iterable
from datetime import date

import numpy as np
import pandas as pd

from skillmatch.sources.resume_sections import dated_ranges, section_spans

LISTED = 0.8
RECENT_YEARS = 2.0
STALE_DECAY = 0.05
STALE_FLOOR = 0.6
EVIDENCE_COLUMNS = ["doc_id", "skill_id", "evidence_section", "last_used_year", "evidence_strength"]


def staleness_factor(years_stale: float) -> float:
    """Strength of a skill last used ``years_stale`` years before the resume's most recent job ended."""
    return max(STALE_FLOOR, min(1.0, 1.0 - STALE_DECAY * (years_stale - RECENT_YEARS)))


class ResumeLayout:
    """Where each character of one resume sits: its section and, in the experience section, its job's dates."""

    def __init__(self, text: str, today: date | None = None) -> None:
        spans = section_spans(text or "")
        self._starts = [s for _, s, _ in spans]
        self._keys = [k for k, _, _ in spans]
        self.has_experience = "experience" in self._keys
        dated = []  # (span index, range start offset, start year, end year, open-ended)
        for i, (key, s, e) in enumerate(spans):
            if key == "experience":
                found = dated_ranges(text[s:e], today or date.today())
                dated += [(i, s + a, y0, y1, cur) for a, _, y0, y1, cur in found]
        # the resume's own date: the latest date its jobs state (a current job's start, an ended job's end)
        self.latest = max((y0 if cur else y1 for _, _, y0, y1, cur in dated), default=None)
        self._jobs = [(i, off, self.latest if cur else y1) for i, off, _, y1, cur in dated]

    def section_at(self, pos: int) -> tuple[int, str | None]:
        i = max(0, bisect.bisect_right(self._starts, pos) - 1)
        return i, self._keys[i] if self._keys else None

    def job_end(self, span: int, pos: int) -> float | None:
        """End year of the job a position of experience span ``span`` belongs to, or None (no dated job there)."""
        same = [(off, end) for i, off, end in self._jobs if i == span]
        if not same:
            return None
        above = [end for off, end in same if off <= pos]
        return above[-1] if above else same[0][1]

    def evidence(self, starts: Iterable[int]) -> tuple[str, float | None, float]:
        """(section of the strongest mention, end year of the latest job using the skill, strength)."""
        best: tuple[float, str, float | None] = (-1.0, "unsectioned", None)
        last_used: float | None = None
        for pos in starts:
            span, key = self.section_at(int(pos))
            if not self.has_experience:
                strength, section, end = 1.0, key or "unsectioned", None
            elif key == "experience":
                end = self.job_end(span, int(pos))
                strength = 1.0 if end is None or self.latest is None else staleness_factor(self.latest - end)
                section = "experience"
                if end is not None:
                    last_used = end if last_used is None else max(last_used, end)
            else:
                strength, section, end = LISTED, key or "unsectioned", None
            if strength > best[0] or (strength == best[0] and section == "experience" and best[1] != section):
                best = (strength, section, end)
        return best[1], last_used, max(best[0], 0.0)


def _starts_of(row_starts: object, char_start: object) -> list[int]:
    """A fact's mention positions: its ``mention_starts`` list, else its kept evidence's start (older facts)."""
    if row_starts is not None and not (isinstance(row_starts, float) and np.isnan(row_starts)):
        starts = [int(s) for s in row_starts]
        if starts:
            return starts
    return [] if char_start is None or pd.isna(char_start) else [int(char_start)]


def candidate_evidence(resumes: pd.DataFrame, facts: pd.DataFrame, today: date | None = None) -> pd.DataFrame:
    """``EVIDENCE_COLUMNS`` for each (resume, skill) fact: ``resumes`` has ``candidate_id`` (or ``doc_id``) and the
    redacted ``text`` the facts' offsets point into; ``facts`` has doc_id, skill_id, char_start and optionally
    mention_starts. A fact whose resume is missing gets strength 1 (nothing to judge it by)."""
    ids = resumes["candidate_id"] if "candidate_id" in resumes else resumes["doc_id"]
    text = dict(zip(ids.astype(str), resumes["text"].astype(object)))
    starts = facts["mention_starts"] if "mention_starts" in facts else pd.Series([None] * len(facts), index=facts.index)
    rows = []
    layouts: dict[str, ResumeLayout | None] = {}
    for doc, skill, ms, cs in zip(facts["doc_id"].astype(str), facts["skill_id"], starts.astype(object),
                                  facts["char_start"].astype(object)):
        if doc not in layouts:
            t = text.get(doc)
            layouts[doc] = ResumeLayout(t, today) if isinstance(t, str) else None
        lay = layouts[doc]
        section, used, strength = lay.evidence(_starts_of(ms, cs)) if lay else ("unsectioned", None, 1.0)
        rows.append((doc, skill, section, None if used is None else int(used), round(strength, 4)))
    out = pd.DataFrame(rows, columns=EVIDENCE_COLUMNS)
    out["last_used_year"] = out["last_used_year"].astype("Int64")
    out["evidence_strength"] = out["evidence_strength"].astype("float64")
    return out


def strengths(evidence: pd.DataFrame | None) -> dict[str, dict[str, float]]:
    """{candidate: {skill: strength}} for the skills held with a strength below 1 (the rest count 1)."""
    if evidence is None or evidence.empty:
        return {}
    weak = evidence[evidence["evidence_strength"] < 1.0]
    out: dict[str, dict[str, float]] = {}
    for d, s, v in zip(weak["doc_id"], weak["skill_id"], weak["evidence_strength"]):
        out.setdefault(str(d), {})[s] = float(v)
    return out
