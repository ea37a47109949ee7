"""Alias matcher: every taxonomy label and alias in one Aho-Corasick automaton, matched on word boundaries.

Surfaces are matched lowercased; short acronyms and the curated ambiguous forms (``taxonomy/curation.csv``) must
also match case-exactly, and some need a context cue in the same sentence ("Go" near "backend"...; "history" near
"degree" or "museum", in any case, so a resume's "Work History" heading is no skill).
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from importlib import resources

import pandas as pd

_PAREN = re.compile(r"\s*\([^)]*\)\s*$")
_WORDCHAR = re.compile(r"[\w+#]")
# Fragments, not names: a label that starts with a conjunction or ends on a function word ("and procedures", an
# ESCO alt label of "compile airport certification manuals" that matched 571 shared documents; "send damaged
# equipment back to"). Alt and hidden labels only: preferred labels are names ("Imagine That Extend OR").
_JOINERS = frozenset({"and", "or", "but", "nor"})
_DANGLING = frozenset({"and", "or", "of", "to", "the", "a", "an", "for", "from"})  # not particles ("check in")
# Names the filters above and in AliasMatcher.offer; change it with them (part of the extraction's model version,
# with the curation file: :func:`skillmatch.extraction.extract.rules_digest`).
ALIAS_RULES = "alias-filters-v3: short lowercase, one-word lowercase alt labels, fragments, curated concepts"


@dataclass(frozen=True)
class Curation:
    """One curated rule for an ambiguous surface form."""

    action: str  # block | case_sensitive | needs_context (as written, with a cue) | needs_context_any_case | alias
    context: re.Pattern[str] | None
    form: str = ""  # the surface as the file writes it
    concept: str = ""  # the skill id the form names where no taxonomy label is the form ("Spark": Apache Spark)


def curation_text() -> str:
    """The checked-in curation file (``skillmatch/taxonomy/curation.csv``) as text."""
    return resources.files("skillmatch.taxonomy").joinpath("curation.csv").read_text(encoding="utf-8")


def is_fragment(form: str) -> bool:
    """Whether a label reads as a piece of a phrase: first word a conjunction, or last word a function word."""
    words = form.lower().split()
    return bool(words) and (words[0] in _JOINERS or words[-1] in _DANGLING)


def is_name(form: str, priority: int, curation: dict[str, Curation]) -> bool:
    """Whether a taxonomy label is a name worth finding in text. ``priority``: -1 a curated form naming a concept
    (``concept`` in the curation file), 0 an ESCO preferred label, 1 one without its bracketed qualifier, 2 an O*NET
    product, 3 / 4 an ESCO / O*NET alt or hidden label. The alias matcher offers only these, and the span linker
    links a span only to these (:attr:`SkillIndex.surface_emb`), so a span reading "design" does not reach "think
    creatively" through an alt label the matcher leaves out as noise."""
    form = form.strip()
    key = _fold(form)
    if len(key) < 1 or len(key) > 120:
        return False
    rule = curation.get(key)
    if rule and rule.action == "block":
        return False
    is_upper_acronym = len(form) <= 4 and any(c.isupper() for c in form)
    if len(form) <= 3 and not rule and not is_upper_acronym and not any(c in form for c in "+#"):
        return False  # short lowercase labels ("tie", "ski") are words, not skills
    if len(form) <= 2 and not rule and form.upper() != form:
        return False
    if priority >= 3 and " " not in form and form.isalpha() and form.islower():
        return False  # one-word lowercase alt/hidden labels ("data", "design") are mostly noise
    return not (priority >= 3 and not rule and is_fragment(form))


def load_curation() -> dict[str, Curation]:
    """The checked-in curation rules, keyed by lowercased surface. A ``context`` of ``=Form`` takes the cue of the
    earlier row for that form ("Facebook" and "Twitter" need LinkedIn's)."""
    out: dict[str, Curation] = {}
    for row in csv.DictReader(curation_text().splitlines()):
        ref = row["context"][1:].lower() if row["context"].startswith("=") else None
        if ref and ref not in out:
            raise ValueError(f"curation.csv, row {row['surface']!r}: context {row['context']!r} names no earlier row")
        ctx = out[ref].context if ref else re.compile(row["context"]) if row["context"] else None
        out[row["surface"].lower()] = Curation(row["action"], ctx, row["surface"], row.get("concept") or "")
    return out


def _fold(text: str) -> str:
    """Lowercase without changing length, so offsets in the folded text are offsets in the original."""
    if text.isascii():
        # ASCII lowercases one character to one, so this is what the loop below gives, without a Python step per
        # character: building the automaton (every CLI start-up) went from 1.8 s to 1.3-1.4 s on 2 cores
        return text.lower()
    return "".join((c.lower() or c)[0] if len(c.lower()) != 1 else c.lower() for c in text)


_SENTENCE_END = re.compile(r"[.!?\n]")


def _sentence_around(text: str, start: int, end: int) -> str:
    """The sentence holding text[start:end], with the match itself blanked out (it must not be its own cue)."""
    left = max((m.end() for m in _SENTENCE_END.finditer(text, max(0, start - 400), start)), default=max(0, start - 400))
    nxt = _SENTENCE_END.search(text, end, end + 400)
    right = nxt.start() if nxt else min(len(text), end + 400)
    return text[left:start] + " " + text[end:right]


@dataclass
class Surface:
    """A surface form and the concept it links to."""

    skill_id: str
    form: str  # as written in the taxonomy
    priority: int  # lower wins when two concepts share a surface
    case_sensitive: bool
    context: re.Pattern[str] | None


class AliasMatcher:
    """Finds taxonomy surface forms in text; build once per taxonomy, reuse for every document."""

    def __init__(self, dim_skill: pd.DataFrame, curation: dict[str, Curation] | None = None) -> None:
        import ahocorasick

        curation = load_curation() if curation is None else curation
        best: dict[str, Surface] = {}

        def offer(form: str, skill_id: str, priority: int, product: bool = False) -> None:
            form = form.strip()
            key = _fold(form)
            if not is_name(form, priority, curation):
                return
            rule = curation.get(key)
            is_upper_acronym = len(form) <= 4 and any(c.isupper() for c in form)
            single_word = " " not in form
            cs = bool(rule and rule.action in {"case_sensitive", "needs_context"}) or is_upper_acronym
            cs = cs or (product and single_word)  # product names are capitalised; "pandas" vs "Pandas" aside
            ctx = rule.context if rule and rule.action.startswith("needs_context") else None
            cur = best.get(key)
            cand = Surface(skill_id, form, priority, cs, ctx)
            if cur is None or (priority, skill_id) < (cur.priority, cur.skill_id):
                best[key] = cand

        # a curated form that names a concept ("Spark", "Excel", "Hive": no taxonomy label is the bare product name)
        # is that concept's surface, ahead of any label ("SPARK" is also ESCO's Ada dialect), with its own rule
        known = set(dim_skill["skill_id"])
        for rule in curation.values():
            if rule.concept in known and rule.action != "block":
                offer(rule.form, rule.concept, -1)
        for row in dim_skill.itertuples(index=False):
            esco = row.taxonomy_source == "esco"
            offer(row.preferred_label, row.skill_id, 0 if esco else 2, product=not esco)
            bare = _PAREN.sub("", row.preferred_label)
            if bare != row.preferred_label:
                offer(bare, row.skill_id, 1)
            for a in row.aliases if row.aliases is not None else []:
                offer(a, row.skill_id, 3 if esco else 4)
        self.surfaces = best
        self._automaton = ahocorasick.Automaton()
        for key, surf in best.items():
            self._automaton.add_word(key, (key, surf))
        self._automaton.make_automaton()

    def surface(self, form: str) -> Surface | None:
        """The surface the matcher looks for under a form (any case: its concept, case rule and cue), or None."""
        return self.surfaces.get(_fold(form.strip()))

    def owner(self, form: str) -> str | None:
        """The skill id the matcher gives a surface form (lowercased), or None where it does not look for it."""
        surf = self.surface(form)
        return None if surf is None else surf.skill_id

    def find(self, text: str) -> list[tuple[int, int, Surface]]:
        """Non-overlapping (start, end, surface) hits, leftmost-longest, on word boundaries."""
        if not text or not self.surfaces:
            return []
        folded = _fold(text)
        hits: list[tuple[int, int, Surface]] = []
        for end_idx, (key, surf) in self._automaton.iter(folded):
            start, end = end_idx - len(key) + 1, end_idx + 1
            if start > 0 and _WORDCHAR.match(text[start - 1]) and _WORDCHAR.match(key[0]):
                continue
            if end < len(text) and _WORDCHAR.match(text[end]) and _WORDCHAR.match(key[-1]):
                continue
            if surf.case_sensitive and text[start:end] != surf.form:
                continue
            if surf.context is not None and not surf.context.search(_sentence_around(text, start, end)):
                continue
            hits.append((start, end, surf))
        hits.sort(key=lambda h: (h[0], -(h[1] - h[0])))
        out: list[tuple[int, int, Surface]] = []
        last_end = -1
        for h in hits:
            if h[0] >= last_end:
                out.append(h)
                last_end = h[1]
        return out
