"""Required vs preferred: which of a posting's skills the text asks for as a must and which as a bonus.

Postings say it two ways, and the shared ones often lose their line breaks ("...business termsPreferred
Qualifications"), so both are found by phrase, not by line:

- a section heading: after "Preferred qualifications", "Nice to have", "Bonus points", "Pluses"... every skill is
  preferred until a heading that opens another section ("Requirements", "Responsibilities", "Benefits"...);
- an inline cue in the skill's own clause (between the nearest ``. ; • ! ? ( )`` or line break on either side):
  "Redshift experience is a plus", "Bonus: Terraform", "Kafka preferred", "ideally Go" (brackets close a clause too).

Everything else is required: a skill the posting names without hedging is one it expects.

Alternatives: skills named as a choice ("Python or Java", "Python, R, or Scala", "C/C++ or Java", "R and/or Python",
"a degree in Statistics, Economics or a related field", "Perl, Bash, or similar") form an "any one of" group
(``alternative_group``): the match engine weighs the group as one requirement, met by whichever member the candidate
holds (``engine.skill_matrices``). A run of mentions counts as a choice when only commas, slashes and an "or" (or
"and/or") separate them and the run's last link holds the "or", or the run is followed by "or related / similar /
equivalent / other..."; a skill the posting also names outside every such run is one it asks for on its own, and
leaves its group (a group of one is none).
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


_ALT_LINK = re.compile(r"[\s,/]*(?:(?:and\s*/\s*)?or\b)?\s*", re.I)
_OR = re.compile(r"\bor\b", re.I)
_OR_LIKE = re.compile(r"[\s,]*(?:and\s*/\s*)?or\s+(?:an?\s+|any\s+|other\s+)?(?:closely\s+)?"
                      r"(?:related|similar|equivalent|comparable|other|relevant|another|allied)\b", re.I)
ALT_LINK_MAX = 12  # characters between two mentions of one choice (", and/or " is 9)


def alternatives(text: str, mentions: list[tuple[int, int, str]]) -> list[set[str]]:
    """The "any one of" groups among ``mentions`` (char_start, char_end, skill id) of ``text``: runs of mentions
    linked only by commas, slashes and "or" whose last link holds the "or" or that "or related / similar / other..."
    follows, merged where they share a skill; a skill also mentioned outside every run is left out of its group, and
    only groups of two or more skills are returned."""
    ms = sorted(set(mentions))
    runs: list[list[tuple[int, int, str]]] = []

    def close(run: list[tuple[int, int, str]], last_gap: str) -> None:
        if len(run) > 1 and (_OR.search(last_gap) or _OR_LIKE.match(text, run[-1][1])):
            runs.append(run)

    cur, last_gap = ms[:1], ""
    for a, b in zip(ms, ms[1:]):
        gap = text[a[1]:b[0]]
        if b[0] >= a[1] and len(gap) <= ALT_LINK_MAX and gap.strip() and _ALT_LINK.fullmatch(gap):
            cur.append(b)
            last_gap = gap
            continue
        close(cur, last_gap)
        cur, last_gap = [b], ""
    close(cur, last_gap)
    in_run = {m for run in runs for m in run}
    alone = {m[2] for m in ms if m not in in_run}  # skills also named outside every run
    groups: list[set[str]] = []
    for run in runs:
        members = {sid for _, _, sid in run} - alone
        overlapping = [g for g in groups if g & members]
        for g in overlapping:
            members |= g
            groups.remove(g)
        groups.append(members)
    return [g for g in groups if len(g) > 1]


def _mentions(rows: list[tuple], text: str) -> list[tuple[int, int, str]]:
    """Every located mention of a posting's facts, given as (skill id, char_start, char_end, surface form,
    mention_starts) rows: the kept evidence, and the other mention starts where the text there reads as the kept
    surface form."""
    out = []
    for sid, s, e, surface, starts in rows:
        if s < 0 or e < 0:
            continue
        out.append((s, e, sid))
        if surface is None or starts is None:
            continue
        size, low = len(surface), str(surface).lower()
        out += [(int(m), int(m) + size, sid) for m in starts
                if m != s and text[int(m):int(m) + size].lower() == low]
    return out


def posting_requirements(postings: pd.DataFrame, posting_skills: pd.DataFrame) -> pd.DataFrame:
    """(doc_id, skill_id, requirement, alternative_group) for every posting skill fact: ``postings`` has posting_id
    and text, the facts doc_id, skill_id and the char_start / char_end of the evidence kept for the skill (with
    ``surface_form`` and ``mention_starts``, its other mentions count for the alternatives too). A skill the facts
    hold several times in a posting is required when any of its mentions is; ``alternative_group`` numbers a
    posting's "any one of" groups from 1 (:func:`alternatives`; null for a skill asked for on its own), and a group
    is required when any of its members is (all its members then are)."""
    facts = posting_skills.reset_index(drop=True)
    n = len(facts)
    texts = dict(zip(postings["posting_id"], postings["text"].fillna("").astype(str)))
    starts = [int(x) if pd.notna(x) else -1 for x in facts["char_start"]]
    ends = [int(x) if pd.notna(x) else -1 for x in facts["char_end"]]
    rows = list(zip(facts["skill_id"], starts, ends,
                    facts["surface_form"] if "surface_form" in facts else [None] * n,
                    facts["mention_starts"] if "mention_starts" in facts else [None] * n))
    by_doc: dict[str, list[int]] = {}
    for i, d in enumerate(facts["doc_id"]):
        by_doc.setdefault(d, []).append(i)
    requirement: list[str] = [REQUIRED] * n
    group_rows = []
    for doc_id, idx in by_doc.items():
        text = texts.get(doc_id, "")
        for i, label in zip(idx, classify(text, [(starts[i], ends[i]) for i in idx])):
            requirement[i] = label
        for k, members in enumerate(sorted(alternatives(text, _mentions([rows[i] for i in idx], text)), key=sorted),
                                    start=1):
            group_rows += [(doc_id, sid, k) for sid in members]
    out = facts[["doc_id", "skill_id"]].copy()
    out["requirement"] = requirement
    out["required"] = out["requirement"] == REQUIRED
    agg = out.groupby(["doc_id", "skill_id"], as_index=False)["required"].any()
    groups = pd.DataFrame(group_rows, columns=["doc_id", "skill_id", "alternative_group"])
    agg = agg.merge(groups, on=["doc_id", "skill_id"], how="left", validate="one_to_one")
    agg["alternative_group"] = agg["alternative_group"].astype("Int64")
    in_group = agg["alternative_group"].notna()
    group_required = agg[in_group].groupby(["doc_id", "alternative_group"])["required"].transform("any")
    agg.loc[in_group, "required"] = group_required
    agg["requirement"] = agg["required"].astype(bool).map({True: REQUIRED, False: PREFERRED})
    return agg[["doc_id", "skill_id", "requirement", "alternative_group"]]
