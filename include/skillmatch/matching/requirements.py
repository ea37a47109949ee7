"""Required vs preferred: which of a posting's skills the text asks for as a must and which as a bonus.

Postings say it two ways, and the shared ones often lose their line breaks ("...business termsPreferred
Qualifications"), so both are found by phrase, not by line:

- a section heading: after "Preferred qualifications", "Nice to have", "Bonus points", "Pluses"... every skill is
  preferred until a heading that opens another section ("Requirements", "Responsibilities", "Benefits"...);
- an inline cue in the skill's own clause (between the nearest ``. ; • ! ? ( )`` or line break on either side):
  "Redshift experience is a plus", "Bonus: Terraform", "Kafka preferred", "ideally Go" (brackets close a clause too).

Everything else is required: a skill the posting names without hedging is one it expects.
"""
from __future__ import annotations

import re
from bisect import bisect_right

import pandas as pd

REQUIRED, PREFERRED = "required", "preferred"

_PREFERRED_HEADING = re.compile(
    r"preferred\s+(?:qualifications?|skills|experience|requirements)|nice[\s-]+to[\s-]+haves?|bonus\s+points?|"
    r"\bpluses\b|desired\s+(?:skills|qualifications|experience)|good\s+to\s+have|extra\s+credit|"
    r"additional\s+(?:preferred\s+)?qualifications|it'?s\s+a\s+bonus\s+if|would\s+be\s+(?:great|nice)\s+if",
    re.I)
_OTHER_HEADING = re.compile(
    r"(?:minimum|basic|required|key)\s+qualifications|\brequirements\b|\bresponsibilities\b|what\s+you(?:'ll|\s+will)"
    r"\s+(?:do|need|bring)|must[\s-]+haves?|\bbenefits\b|what\s+we\s+offer|about\s+(?:us|the\s+(?:role|team|company))"
    r"|\bperks\b|how\s+to\s+apply|the\s+role\b", re.I)
_INLINE = re.compile(
    r"\b(?:is|are|would\s+be)\s+an?\s+(?:big\s+|huge\s+|strong\s+)?(?:plus|bonus|advantage|asset)\b|\ba\s+plus\b|"
    r"\bnice[\s-]+to[\s-]+have\b|\bbonus\b|\bpreferred\b|\bpreferably\b|\bideally\b|\bdesirable\b|\bdesired\b|"
    r"\boptional\b|\bnot\s+required\b|\bnot\s+a\s+must\b", re.I)
_CLAUSE_END = re.compile(r"[.;!?•()\n\r]|\s[-*·]\s")


def _preferred_sections(text: str) -> list[tuple[int, int]]:
    """(start, end) char ranges that lie under a preferred-skills heading."""
    marks = sorted([(m.start(), m.end(), True) for m in _PREFERRED_HEADING.finditer(text)]
                   + [(m.start(), m.end(), False) for m in _OTHER_HEADING.finditer(text)])
    out = []
    for i, (_, end, preferred) in enumerate(marks):
        if preferred:
            stop = next((s for s, _, p in marks[i + 1:] if not p), len(text))
            out.append((end, stop))
    return out


def _clause(text: str, start: int, end: int, bounds: list[int]) -> str:
    i = bisect_right(bounds, start)
    lo = bounds[i - 1] if i > 0 else 0
    j = bisect_right(bounds, max(end - 1, start))
    hi = bounds[j] if j < len(bounds) else len(text)
    return text[lo:hi]


def classify(text: str, spans: list[tuple[int, int]]) -> list[str]:
    """``required`` or ``preferred`` for each (char_start, char_end) span of ``text``; a span without a position
    (negative or past the text) is judged by the sections alone, and is required when there are none."""
    sections = _preferred_sections(text)
    bounds = [m.start() for m in _CLAUSE_END.finditer(text)]
    out = []
    for start, end in spans:
        if not 0 <= start < len(text):
            out.append(REQUIRED)
            continue
        in_section = any(a <= start < b for a, b in sections)
        inline = bool(_INLINE.search(_clause(text, start, end, bounds)))
        out.append(PREFERRED if in_section or inline else REQUIRED)
    return out


def posting_requirements(postings: pd.DataFrame, posting_skills: pd.DataFrame) -> pd.DataFrame:
    """(doc_id, skill_id, requirement) for every posting skill fact: ``postings`` has posting_id and text, the
    facts doc_id, skill_id and the char_start / char_end of the evidence kept for the skill. A skill the facts hold
    several times in a posting is required when any of its mentions is."""
    facts = posting_skills[["doc_id", "skill_id", "char_start", "char_end"]].reset_index(drop=True)
    texts = dict(zip(postings["posting_id"], postings["text"].fillna("").astype(str)))
    labels = []
    for doc_id, group in facts.groupby("doc_id", sort=False):
        spans = [(int(s) if pd.notna(s) else -1, int(e) if pd.notna(e) else -1)
                 for s, e in zip(group["char_start"], group["char_end"])]
        labels.append(pd.Series(classify(texts.get(doc_id, ""), spans), index=group.index))
    out = facts[["doc_id", "skill_id"]].copy()
    out["requirement"] = pd.concat(labels) if labels else pd.Series(dtype=object)
    out["required"] = out["requirement"] == REQUIRED
    agg = out.groupby(["doc_id", "skill_id"], as_index=False)["required"].any()
    agg["requirement"] = agg["required"].map({True: REQUIRED, False: PREFERRED})
    return agg[["doc_id", "skill_id", "requirement"]]
