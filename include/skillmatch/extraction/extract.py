"""Skill extraction: alias matches, span tagger + linker, and sentence linking, per document.

Mentions (one per character span, best evidence kept) carry: doc_id, skill_id, preferred_label, surface_form,
char_start, char_end, sentence_index, score, method. Methods, strongest evidence first:

- ``alias``: a curated taxonomy label or alias found verbatim (score 1.0);
- ``tagger+linker``: a span found by the fine-tuned tagger (:mod:`skillmatch.extraction.tagger`), linked to its
  nearest concept by the bi-encoder (score = cosine of span and concept);
- ``sentence-linker``: a whole sentence close to one concept (score = cosine). Sentences are embedded by the
  promoted sentence linker (:mod:`skillmatch.extraction.linker`) when one is promoted and calibrated, with its own
  threshold, else by the packaged encoder with ``SKILLMATCH_ENCODER_THRESHOLD``; the same vectors give the document
  embeddings.

The skill facts keep one row per (document, skill) with the best evidence, a ``mention_count`` and the
``mention_starts`` of all its mentions (where the resume side's evidence strength looks); tagger spans
whose link score is below ``link_threshold`` stay out of the facts (they are still reported by the ad-hoc
``skillmatch extract``, whose evaluation is about spans: :func:`extract_spans`, which skips the sentence linker
because none of its work reaches that output). Sentences repeated across documents (boilerplate) are encoded and
tagged once per batch.
"""
from __future__ import annotations

import bisect
import hashlib
import logging
import re
import time
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from skillmatch.config import Settings
from skillmatch.extraction.alias import AliasMatcher, is_name, load_curation
from skillmatch.extraction.encoder import (concept_label_embeddings, encode, encoder_id, encoder_name,
                                           label_embeddings, resolve_device, split_sentences)
from skillmatch.extraction.text_cache import TextCaches
from skillmatch.sources.resume_sections import section_spans

log = logging.getLogger(__name__)

MENTION_COLUMNS = ["doc_id", "skill_id", "preferred_label", "surface_form", "char_start", "char_end",
                   "sentence_index", "score", "method", "mention_count", "mention_starts"]
_DERIVED = {"preferred_label", "mention_count", "mention_starts"}  # filled in after the raw mentions
# v3: facts carry mention_starts; v4: tagging by chars; v5: resume lines a PDF wrapped are joined into one sentence
EXTRACTOR_VERSION = "alias+tagger+minilm-linker-v5"
METHOD_RANK = {"alias": 0, "tagger+linker": 1, "sentence-linker": 2}
# An employer's equal-opportunity, accommodation (Rehabilitation Act), E-Verify and pay-transparency statements: words
# like "pregnancy", "genetic information", "application process" or "furnish information" there are not requirements
# of the job. Postings only: in a resume the same words describe HR work ("maintained the affirmative action plan"),
# and a posting asking for knowledge of EEO law says so in words this does not match.
POSTING_BOILERPLATE = re.compile(
    r"(?i)\bequal (employment )?opportunity( ?/ ?affirmative action)? employer|without regard to|"
    r"regardless of (their )?(race|colou?r|age|sex|gender|religion|national)|national origin|gender identity|"
    r"sexual orientation|protected veteran|veteran status|genetic information|reasonable accommodation|"
    r"\be-verify\b|rehabilitation act\b|legal duty to furnish information")
_CLAUSE_END = re.compile(r"[.!?]")


class SkillIndex:
    """A taxonomy ready for extraction: alias automaton + label embedding matrix."""

    def __init__(self, dim_skill: pd.DataFrame, settings: Settings) -> None:
        self.dim_skill = dim_skill.reset_index(drop=True)
        self.labels = dict(zip(self.dim_skill["skill_id"], self.dim_skill["preferred_label"]))
        self.taxonomy_version = str(self.dim_skill["taxonomy_version"].iloc[0]) if len(dim_skill) else "empty"
        self._matcher: AliasMatcher | None = None
        self.device = resolve_device(settings.device)
        self.settings = settings
        self._label_emb: np.ndarray | None = None
        self._surface_emb: tuple[np.ndarray, np.ndarray] | None = None
        self._tagger: object | None = None
        self._tagger_loaded = False

    @property
    def matcher(self) -> AliasMatcher:
        """The alias automaton over every label and alias (built on first use: a shard plan or merge that only
        needs the versions never pays for it)."""
        if self._matcher is None:
            self._matcher = AliasMatcher(self.dim_skill)
        return self._matcher

    @property
    def tagger(self):  # noqa: ANN201 - SpanTagger | None, torch imported lazily
        """The promoted span tagger, or None when no model passed the evaluation gate yet."""
        if not self._tagger_loaded:
            from skillmatch.extraction.tagger import load_promoted_tagger

            st = self.settings
            self._tagger = load_promoted_tagger(st.model_dir, st.tagger_base, self.device) if st.use_tagger else None
            self._tagger_loaded = True
        return self._tagger

    @property
    def label_emb(self) -> np.ndarray:
        """Embeddings of every concept's label (+ short description for context), cached on disk."""
        if self._label_emb is None:
            texts = [str(lbl) for lbl in self.dim_skill["preferred_label"]]
            self._label_emb = concept_label_embeddings(texts, self.taxonomy_version, self.settings.model_dir,
                                                       self.device)
        return self._label_emb

    @property
    def sentence_model(self) -> tuple[Path | None, float]:
        """(folder, threshold) of what embeds sentences in the nightly pass: the promoted linker and its calibrated
        threshold (:func:`skillmatch.extraction.linker.promoted_sentence_threshold`), else (None, the packaged
        encoder's ``SKILLMATCH_ENCODER_THRESHOLD``): with ``SKILLMATCH_USE_LINKER=0``, without a promoted linker or
        with one not calibrated yet."""
        from skillmatch.extraction.linker import promoted_linker_path, promoted_sentence_threshold

        if self.settings.use_linker:
            folder = promoted_linker_path(self.settings.model_dir)
            threshold = promoted_sentence_threshold(self.settings.model_dir)
            if folder is not None and threshold is not None:
                return folder, threshold
        return None, self.settings.encoder_threshold

    def sentence_encoder(self) -> Callable[[list[str]], np.ndarray]:
        """What embeds whole sentences for :func:`rank_sentences`: the promoted linker
        (:mod:`skillmatch.extraction.linker`) unless ``SKILLMATCH_USE_LINKER=0`` or none passed its gate, else the
        packaged encoder."""
        from skillmatch.extraction.linker import promoted_linker_path

        folder = promoted_linker_path(self.settings.model_dir) if self.settings.use_linker else None
        return lambda texts: encode(texts, self.device, path=folder)

    @property
    def model_version(self) -> str:
        """Identifies what produced a mention row, for cache invalidation and lineage. Read from the promoted
        model's metadata when the tagger is not loaded yet, so asking for it costs no model load. Not the
        precision: the planning task may run on another worker than the shards that extract (CPU vs GPU queue),
        and bf16 / fp16 / fp32 serve the same models (same dev-set scores); the per-text caches are kept per
        precision."""
        st = self.settings
        if self._tagger_loaded:
            version = self._tagger.key if self._tagger is not None else None
        else:
            from skillmatch.extraction.tagger import promoted_tagger_key

            version = promoted_tagger_key(st.model_dir, st.tagger_base) if st.use_tagger else None
        # how much of a document is embedded and tagged, and the link floor, shape its facts
        budget = (f"s{st.max_sentences_per_doc}-tag{st.max_tagged_chars_per_posting}-{st.max_tagged_chars_per_resume}"
                  f"+{st.max_tagged_list_chars_per_resume}-l{st.link_threshold:g}")
        base = f"{EXTRACTOR_VERSION}+{rules_digest()}:{encoder_name()}:{version or 'no-tagger'}:{budget}"
        folder, threshold = self.sentence_model  # sentences through a linker: its version and threshold too
        # (no "@" in it: the marts are scanned for anything shaped like an e-mail address)
        return base if folder is None else f"{base}:{folder.name}:t{threshold:g}"

    @property
    def surface_emb(self) -> tuple[np.ndarray, np.ndarray]:
        """(embeddings, owning concept row) of every preferred label and alias: a concept is as close as its
        closest name, so "develop web applications" finds a concept whose preferred label words it differently.

        Only names the alias matcher would look for (:func:`skillmatch.extraction.alias.is_name`) can be the
        closest: the others' rows are zero, so they score 0. Before, a span reading "Engineering" linked at 1.0
        to "packaging engineering" and "design" to "think creatively" (one-word lowercase alt labels), "planning"
        to the blocked "plan": labels the matcher leaves out as noise came back through the span linker. The
        embeddings on disk are of every name (the cache does not change with the rules)."""
        if self._surface_emb is None:
            owner, texts, keep = self._names()
            key = f"{encoder_id(self.device)}-{self.taxonomy_version}-{len(texts)}-surfaces"
            key = key.replace("/", "_").replace(":", "_")
            emb = label_embeddings(texts, self.settings.model_dir / "cache" / f"{key}.npy", self.device)
            emb = np.where(np.asarray(keep, dtype=bool)[:, None], emb, np.float32(0)).astype(np.float32)
            self._surface_emb = (emb, np.asarray(owner, dtype=np.int64))
        return self._surface_emb

    @property
    def name_words(self) -> dict[str, tuple[str, ...]]:
        """skill id -> the distinct lowercased words of its names that the alias matcher looks for
        (:func:`skillmatch.extraction.alias.is_name`), and each two neighbouring words joined: the lexical support
        :func:`plausible_links` asks of a one-word span's link."""
        if "_name_words" not in self.__dict__:
            words: dict[int, list[str]] = {}
            for i, name, keep in zip(*self._names()):
                if keep:
                    ws = [w.lower() for w in _WORDS.findall(name)]
                    # and two neighbours joined: "ecommerce" meets "e-commerce", "cybersecurity" "cyber security"
                    words.setdefault(i, []).extend(ws + [a + b for a, b in zip(ws, ws[1:])])
            ids = self.dim_skill["skill_id"]
            self.__dict__["_name_words"] = {ids.iat[i]: tuple(dict.fromkeys(ws)) for i, ws in words.items()}
        return self.__dict__["_name_words"]

    @property
    def label_cues(self) -> dict[str, re.Pattern[str]]:
        """skill id -> the context cue the curation file asks of the concept's own preferred label ("yoga" needs a
        teaching or therapy cue, "philosophy" an academic one): a sentence linked to such a concept as a whole needs
        the cue too ("Free on-site yoga classes and other wellness-focused activities" was yoga at 0.85)."""
        if "_label_cues" not in self.__dict__:
            out = {}
            for sid, label in zip(self.dim_skill["skill_id"], self.dim_skill["preferred_label"]):
                surf = self.matcher.surface(str(label))  # the matcher's own rule for the label, if it is the owner's
                if surf is not None and surf.skill_id == sid and surf.context is not None:
                    out[sid] = surf.context
            self.__dict__["_label_cues"] = out
        return self.__dict__["_label_cues"]

    def _names(self) -> tuple[list[int], list[str], list[bool]]:
        """(owning concept row, name, whether the alias matcher looks for it *for this concept*) of every distinct
        preferred label and alias of each concept, label first (computed once per index).

        A name several concepts share (760 of the names the matcher keeps; "supply chain management" is a preferred
        label and an alt label of manage supplies) is kept only for the concept the matcher gives it (preferred
        labels first): the span linker scored every owner alike, so the tie fell to whichever came first, and a span
        and the same words found verbatim could name two concepts."""
        if "_names_cache" not in self.__dict__:
            curation = load_curation()
            matcher = self.matcher
            owner, texts, keep = [], [], []
            dim = self.dim_skill
            for i, (sid, lbl, aliases, src) in enumerate(zip(dim["skill_id"], dim["preferred_label"], dim["aliases"],
                                                             dim["taxonomy_source"])):
                names = dict.fromkeys([str(lbl)] + [str(a) for a in (aliases if aliases is not None else [])])
                owner.extend([i] * len(names))
                texts.extend(names)
                first, rest = (0, 3) if src == "esco" else (2, 4)  # is_name's priorities: label, then aliases
                keep.extend(is_name(n, first if j == 0 else rest, curation) and matcher.owner(n) == sid
                            for j, n in enumerate(names))
            self.__dict__["_names_cache"] = (owner, texts, keep)
        return self.__dict__["_names_cache"]

    def concept_scores(self, emb: np.ndarray, by_surface: bool = False):  # noqa: ANN201 - torch.Tensor
        """Cosine of each embedding with every concept (rows x concepts), on the device.

        ``by_surface`` scores a concept by its closest name (preferred label or alias) rather than its preferred
        label alone, so "develop web applications" reaches a concept whose preferred label words it differently.
        Callers keep ``emb`` to a block of rows (see :meth:`rank`).
        """
        import torch

        n = len(self.dim_skill)
        q = torch.from_numpy(np.ascontiguousarray(emb)).to(self.device)
        if not by_surface:
            return q @ self._tensor("label", self.label_emb).T
        names, owner = self.surface_emb
        sims = q @ self._tensor("surface", names).T
        own = self._tensor("owner", owner)
        per = torch.full((q.shape[0], n), -2.0, device=self.device, dtype=sims.dtype)
        return per.scatter_reduce(1, own.expand(q.shape[0], -1), sims, reduce="amax")

    def _tensor(self, key: str, arr: np.ndarray):  # noqa: ANN202
        import torch

        cache = self.__dict__.setdefault("_tensors", {})
        if key not in cache:
            cache[key] = torch.from_numpy(arr).to(self.device)
        return cache[key]

    def block_rows(self, by_surface: bool = False) -> int:
        """Rows per block so one block of similarities stays near 128 MB."""
        cols = self.surface_emb[0].shape[0] if by_surface else max(len(self.dim_skill), 1)
        return max(1, (1 << 25) // cols)

    def rank(self, emb: np.ndarray, top_k: int, restrict: np.ndarray | None = None,
             by_surface: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, concept row indices) per embedding, blocked; ``restrict`` limits the concept rows."""
        import torch

        n = len(self.dim_skill)
        k = min(top_k, n if restrict is None else len(restrict))
        scores_out, idx_out = [], []
        for b in range(0, emb.shape[0], self.block_rows(by_surface)):
            sims = self.concept_scores(emb[b:b + self.block_rows(by_surface)], by_surface)
            if restrict is not None:
                sims = sims.masked_fill(~self._allowed(restrict), -2.0)
            s, i = torch.topk(sims, k=k, dim=1)
            scores_out.append(s.cpu().numpy())
            idx_out.append(i.cpu().numpy())
        if not scores_out:
            return np.zeros((0, k), np.float32), np.zeros((0, k), np.int64)
        return np.concatenate(scores_out), np.concatenate(idx_out)

    def _allowed(self, restrict: np.ndarray):  # noqa: ANN202
        import torch

        mask = torch.zeros(len(self.dim_skill), dtype=torch.bool, device=self.device)
        mask[torch.from_numpy(np.asarray(restrict, dtype=np.int64)).to(self.device)] = True
        return mask


def rules_digest() -> str:
    """8 hex digits naming the hand-written rules (the curation file, the alias filters' version, the posting
    boilerplate pattern): part of the extraction's model version, so editing a rule re-extracts every document."""
    from skillmatch.extraction.alias import ALIAS_RULES, curation_text

    text = "\n".join([curation_text(), ALIAS_RULES, LINK_RULES, POSTING_BOILERPLATE.pattern])
    return hashlib.blake2b(text.encode("utf-8"), digest_size=4).hexdigest()


def boilerplate_regions(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Character ranges of a posting's employer boilerplate (:data:`POSTING_BOILERPLATE`): from the clause end
    (``.``, ``!``, ``?``, spaced or not) before a match to the one after it, inside the match's sentence. A clause,
    not the sentence: postings scraped without line breaks glue a skills list to the statement after it
    ("... SAS, SQL And Excel Strongly Preferred.Centene is an equal opportunity employer ...")."""
    out = set()
    for s, e in spans:
        for m in POSTING_BOILERPLATE.finditer(text, s, e):
            left = max((c.end() for c in _CLAUSE_END.finditer(text, s, m.start())), default=s)
            nxt = _CLAUSE_END.search(text, m.end(), e)
            out.add((left, nxt.end() if nxt else e))
    return sorted(out)


def _overlaps(row: dict[str, object], regions: list[tuple[int, int]]) -> bool:
    """Whether a mention row's characters overlap any of ``regions``."""
    start, end = int(row["char_start"]), int(row["char_end"])
    return any(a < end and start < b for a, b in regions)


def extract_mentions(docs: pd.DataFrame, index: SkillIndex, settings: Settings, whole_text: bool = False,
                     link_sentences: bool = True, caches: TextCaches | None = None,
                     skip_boilerplate: bool = False, tag_chars: int | None = None,
                     tag_listed: int = 0, join_wrapped: bool = False) -> tuple[pd.DataFrame, np.ndarray | None]:
    """Every skill mention of ``docs`` (columns doc_id, text), one per span; returns (mentions, doc embeddings).

    Doc embeddings are the normalised mean of the first ``max_sentences_per_doc`` sentence embeddings. The tagger
    reads each sentence of a document's opening ``tag_chars`` characters (:func:`leading`; default the resumes'
    budget) and up to ``tag_listed`` more characters of its skills sections (:func:`tag_selection`), so
    boilerplate repeated across documents is tagged once, or, with ``whole_text``, each document in windows of words
    (what the ad-hoc CLI does: no cap, no split inside a span). Without ``link_sentences`` no sentence is encoded:
    no ``sentence-linker`` mention, and None for the embeddings. With
    ``caches``, texts an earlier run encoded or tagged are served from them (the nightly stage). With
    ``skip_boilerplate`` (postings), no mention overlaps :func:`boilerplate_regions` (a sentence linked as a whole
    overlaps them when it holds one); those sentences still count in the document embedding. With ``join_wrapped``
    (resumes, whose PDFs wrap lines mid-item: "trial" / "balance account."), such lines are one sentence
    (:func:`skillmatch.extraction.encoder.join_wrapped_lines`).
    """
    t0 = time.time()
    rows: list[dict[str, object]] = []
    texts = [t if isinstance(t, str) else "" for t in docs["text"]]
    doc_ids = docs["doc_id"].tolist()
    sentences: list[list[tuple[int, int]]] = []
    skipped: dict[str, list[tuple[int, int]]] = {}
    for doc_id, text in zip(doc_ids, texts):
        spans = split_sentences(text, join_wrapped=join_wrapped)
        sentences.append(spans)
        if skip_boilerplate and (regions := boilerplate_regions(text, spans)):
            skipped[doc_id] = regions
        starts = [s for s, _ in spans]
        for start, end, surf in index.matcher.find(text):
            rows.append({"doc_id": doc_id, "skill_id": surf.skill_id, "surface_form": text[start:end],
                         "char_start": start, "char_end": end, "sentence_index": _sentence_of(starts, start),
                         "score": 1.0, "method": "alias"})
    doc_emb, n_sent = None, 0
    if link_sentences:
        doc_emb, n_sent = _sentence_linking(doc_ids, texts, sentences, index, settings, rows, caches)
    budget = settings.max_tagged_chars_per_resume if tag_chars is None else tag_chars
    n_spans = _tagged_spans(doc_ids, texts, sentences, index, rows, None if whole_text else budget, caches,
                            tag_listed)
    if skipped:  # nothing from a posting's boilerplate clauses
        rows = [r for r in rows if not _overlaps(r, skipped.get(r["doc_id"], []))]
    mentions = _merge_spans(pd.DataFrame(rows, columns=[c for c in MENTION_COLUMNS if c not in _DERIVED]))
    mentions["preferred_label"] = mentions["skill_id"].map(index.labels)
    dt = time.time() - t0
    log.info("extracted %d mentions from %d docs (%d sentences encoded, %d tagger spans) in %.1fs on %s",
             len(mentions), len(docs), n_sent, n_spans, dt, index.device)
    return mentions, doc_emb


def extract_spans(docs: pd.DataFrame, index: SkillIndex, settings: Settings) -> pd.DataFrame:
    """The skill spans of ``docs`` that the ad-hoc ``skillmatch extract --input`` reports (the evaluation contract).

    The contract is about skill spans: with a tagger, the spans are the tagger's (an alias hit on the very same span
    keeps its exact link); without one, the alias hits. Alias hits elsewhere stay in the nightly facts but not here:
    on SkillSpan dev they cost 5 points of precision for 1 of recall. A sentence linked as a whole is not a span, and
    where it coincides with one the alias or tagger row outranks it, so the sentence linker is not run at all: it
    encoded every sentence and ranked it against every concept label only for the result to be dropped.
    """
    mentions, _ = extract_mentions(docs, index, settings, whole_text=True, link_sentences=False)
    return mentions[mentions["tagged"]] if index.tagger is not None else mentions[mentions["method"] == "alias"]


def extract_documents(docs: pd.DataFrame, index: SkillIndex, settings: Settings, caches: TextCaches | None = None,
                      postings: bool = False) -> tuple[pd.DataFrame, np.ndarray]:
    """Skill facts of ``docs``: one row per (doc, skill) with the best evidence; returns (facts, doc embeddings).
    ``postings``: the documents are job postings, whose employer boilerplate holds no requirement."""
    mentions, doc_emb = extract_mentions(docs, index, settings, caches=caches, skip_boilerplate=postings,
                                         tag_chars=settings.max_tagged_chars_per_posting if postings else None,
                                         tag_listed=0 if postings else settings.max_tagged_list_chars_per_resume,
                                         join_wrapped=not postings)
    tagged = mentions["method"] == "tagger+linker"
    keep = ~tagged | (mentions["score"] >= settings.link_threshold)
    keep[tagged & keep] = plausible_links(mentions[tagged & keep], index)
    return _dedupe(mentions[keep])[MENTION_COLUMNS], doc_emb


LINK_RULES = ("span-link-rules-v4: curated surfaces, read without a dangling conjunction; one-word spans: a name word "
              "begins with its stem, or >= 0.95; degrees: linked by their field, no fact without one; named cores: the "
              "first of coordinated ones; a shared name: the matcher's owner only; sentences: a cued label's cue")
_NEAR_EXACT = 0.95
_STEM = 5
_WORDS = re.compile(r"[^\W_]+")
_EDGE_PUNCT = " \t,.;:!?()[]{}\"'"
_DANGLING_JOINER = re.compile(r"(?i)\s+(?:and|or|&)$")


def plausible_links(spans: pd.DataFrame, index: SkillIndex) -> np.ndarray:
    """Whether each tagger span's link (rows of mentions: surface_form, skill_id, score) may become a fact.

    - A span that reads as a curated ambiguous form (``taxonomy/curation.csv``) is the alias matcher's call: where
      the matcher took it, its alias row won the span (:func:`_merge_spans`); a tagger row left on it means the
      matcher turned it down there (wrong case: "excel at"; no cue: "Chef" in a kitchen, "Pig" on a farm), so the
      span's embedding must not link it; a blocked form ("Word", "Teams") links to nothing. Other names keep their
      embedding link when the matcher skipped them for case alone ("Pandas" for the product "pandas").
    - A span is read without a conjunction it ends on, where the tagger cut a coordination ("Retail and": a blocked
      bare word, it had reached the O*NET product The Retail Solution).
    - A one-word span's embedding carries little context ("Terraform" reached "TERRASCIENCES TerraStation",
      "LLMs" "learning management systems", "interpersonal" "intermodalism"): its link needs a word of one of the
      concept's names to begin with the stem of one of the span's words (:func:`_stem`: "Math" -> mathematics,
      "AWS" -> Amazon Web Services AWS software, "organized" -> work in an organised manner; a stem under 3
      letters must be the whole name word), or a near-exact score (>= 0.95: the span is all but one of its names,
      "self-starter" -> show initiative).
    """
    if spans.empty:
        return np.zeros(0, dtype=bool)
    curation = load_curation()
    looked_for = index.matcher.surfaces
    words = index.name_words
    out = []
    for surface, skill_id, score in zip(spans["surface_form"], spans["skill_id"], spans["score"]):
        text = _DANGLING_JOINER.sub("", str(surface).strip(_EDGE_PUNCT)).strip(_EDGE_PUNCT)  # "retail and"
        key = text.lower()
        if key in curation and (curation[key].action == "block" or key in looked_for):
            out.append(False)
        elif degree_field(text) == "":  # a degree, not a skill
            out.append(False)
        elif len(text.split()) > 1:
            out.append(True)
        else:
            out.append(score >= _NEAR_EXACT or _shares_stem(text, words.get(skill_id, ())))
    return np.asarray(out, dtype=bool)


def _stem(word: str) -> str:
    """The part of a span word a name word must begin with: all of a short word, else its first 5 letters or 60 %
    of it, whichever is longer ("interpersonal" must not pass for "intermodalism", nor "Terraform" for
    "TerraStation")."""
    return word if len(word) < 5 else word[:max(_STEM, -(-3 * len(word) // 5))]


def _shares_stem(text: str, name_words: tuple[str, ...]) -> bool:
    for w in _WORDS.findall(text):
        stem = _stem(w.lower())
        if any(v == stem if len(stem) < 3 else v.startswith(stem) for v in name_words):
            return True
    return False


def leading(spans: list[tuple[int, int]], chars: int) -> list[tuple[int, int]]:
    """The opening sentences of a document, up to and including the one that reaches ``chars`` characters.

    A budget in characters, not sentences: the tagger's work grows with the text, and a posting written as short
    bullets would otherwise be cut far sooner than one of long paragraphs (on the shared postings, 24 sentences
    held 86 % of the text while bullets were glued into long lines and 76 % once they were split apart; 4,000
    characters hold 90 % either way). Resumes are read line by line: 1,000 characters tag as much of them as the 24
    sentences did (31,274 distinct lines against 29,692, 18 % of their text)."""
    used = 0
    for i, (s, e) in enumerate(spans):
        if used >= chars:
            return spans[:i]
        used += e - s
    return spans


def tag_selection(text: str, spans: list[tuple[int, int]], chars: int, listed: int = 0) -> list[int]:
    """Indices of the sentences of ``text`` the tagger reads: its opening ``chars`` characters (:func:`leading`),
    then, with ``listed`` > 0, the lines of its skills sections (a resume's "Skills", "Highlights", "Core
    Qualifications"..., :func:`skillmatch.sources.resume_sections.section_spans`) past them, up to ``listed`` more
    characters. A resume names most of its skills in those lists, wherever they sit; the opening characters alone
    read 31 % of the shared resumes' skills sections."""
    n = len(leading(spans, chars))
    out = list(range(n))
    if listed <= 0 or n == len(spans):
        return out
    lists = [(s, e) for key, s, e in section_spans(text) if key == "skills"]
    if not lists:
        return out
    used = 0
    for i in range(n, len(spans)):
        s, e = spans[i]
        if used >= listed:
            break
        if any(a <= s < b for a, b in lists):
            out.append(i)
            used += e - s
    return out


def in_steps(items: list[str], fn, what: str, min_items: int = 2000) -> list:  # noqa: ANN001
    """``fn`` over ``items`` in about ten pieces, logging progress and rate after each (long nightly batches)."""
    if len(items) < min_items:
        return list(fn(items))
    out: list = []
    t0 = time.time()
    step = -(-len(items) // 10)
    for b in range(0, len(items), step):
        out.extend(fn(items[b:b + step]))
        done = min(b + step, len(items))
        rate = done / max(time.time() - t0, 1e-9)
        log.info("%s: %d/%d (%d%%), %.0f/s, about %.0fs left", what, done, len(items), 100 * done // len(items),
                 rate, (len(items) - done) / rate)
    return out


def _sentence_of(starts: list[int], pos: int) -> int:
    return max(0, bisect.bisect_right(starts, pos) - 1)


def _encoded(texts: list[str], index: SkillIndex, caches: TextCaches | None, sentences: bool = False) -> np.ndarray:
    """Encoder vectors of ``texts`` (rows in order), through the cache when there is one; ``sentences`` embeds them
    with :attr:`SkillIndex.sentence_model` (the linker's vectors have a cache of their own)."""
    path = index.sentence_model[0] if sentences else None
    cache = None if caches is None else caches.sentences if sentences else caches.embedding
    if cache is None:
        return encode(texts, index.device, path=path)
    return np.asarray(cache.through(texts, lambda todo: encode(todo, index.device, path=path)),
                      dtype=np.float32).reshape(-1, 384)


def _sentence_linking(doc_ids: list[str], texts: list[str], sentences: list[list[tuple[int, int]]],
                      index: SkillIndex, settings: Settings, rows: list[dict[str, object]],
                      caches: TextCaches | None = None) -> tuple[np.ndarray, int]:
    """Encode each distinct sentence once (:attr:`SkillIndex.sentence_model`); add sentence-linker mentions; return
    (doc embeddings, sentences)."""
    owner: list[tuple[int, int, int, int]] = []
    for d, spans in enumerate(sentences):
        for si, (s, e) in enumerate(spans[: settings.max_sentences_per_doc]):
            owner.append((d, si, s, e))
    doc_emb = np.zeros((len(texts), 384), np.float32)
    if not owner:
        return doc_emb, 0
    uniq, inverse = np.unique([texts[d][s:e] for d, _, s, e in owner], return_inverse=True)
    emb = np.asarray(in_steps(list(uniq), lambda part: _encoded(part, index, caches, sentences=True),
                              "encoding sentences"), dtype=np.float32).reshape(-1, 384)
    np.add.at(doc_emb, np.array([o[0] for o in owner]), emb[inverse])
    norms = np.linalg.norm(doc_emb, axis=1, keepdims=True)
    doc_emb = doc_emb / np.where(norms == 0, 1, norms)
    scores, idx = index.rank(emb, top_k=1)
    linker, threshold = index.sentence_model  # a linker's own calibrated threshold, else the configured one
    threshold = threshold if linker is not None else settings.encoder_threshold
    cues = index.label_cues
    skill_ids = index.dim_skill["skill_id"].to_numpy()
    for (d, si, s, e), u in zip(owner, inverse):
        sc = scores[u, 0]
        if sc < threshold or len(texts[d][s:e].split()) < 4:
            continue
        skill_id = skill_ids[int(idx[u, 0])]
        cue = cues.get(skill_id)
        if cue is None or cue.search(texts[d][s:e]):
            rows.append({"doc_id": doc_ids[d], "skill_id": skill_id,
                         "surface_form": texts[d][s:e][:300], "char_start": s, "char_end": e,
                         "sentence_index": si, "score": round(float(sc), 4), "method": "sentence-linker"})
    return doc_emb, len(uniq)


def _tagged_spans(doc_ids: list[str], texts: list[str], sentences: list[list[tuple[int, int]]],
                  index: SkillIndex, rows: list[dict[str, object]], budget: int | None,
                  caches: TextCaches | None = None, listed: int = 0) -> int:
    """Tag each distinct sentence of each document's :func:`tag_selection` once (``budget`` None: whole documents
    in windows), link each distinct span text to its nearest concept, add the mentions."""
    tagger = index.tagger
    if tagger is None:
        return 0
    if budget is None:
        owner = [(d, -1, 0, len(t)) for d, t in enumerate(texts) if t.strip()]
    else:
        owner = [(d, si, *spans[si]) for d, spans in enumerate(sentences)
                 for si in tag_selection(texts[d], spans, budget, listed)]
    if not owner:
        return 0
    uniq, inverse = np.unique([texts[d][s:e] for d, _, s, e in owner], return_inverse=True)
    tag = tagger.tag if caches is None or caches.tags is None else (lambda part: caches.tags.through(part, tagger.tag))
    tagged = in_steps(list(uniq), tag, "tagging sentences")
    found = [(d, si, s + a, s + b) for (d, si, s, _), u in zip(owner, inverse) for a, b, _typ, _c in tagged[u]]
    if not found:
        return 0
    span_text, span_inv = np.unique([texts[d][a:b] for d, _, a, b in found], return_inverse=True)
    link_text = [link_text_of(t) for t in span_text]
    named = _named_cores(link_text, index)  # linked by name at 1.0: no vector needed
    skill_ids = np.empty(len(link_text), dtype=object)
    scores = np.ones((len(link_text), 1), dtype=np.float32)
    todo = [u for u in range(len(link_text)) if u not in named]
    if todo:
        best, idx = index.rank(_encoded([link_text[u] for u in todo], index, caches), top_k=1, by_surface=True)
        scores[todo] = best
        skill_ids[todo] = index.dim_skill["skill_id"].to_numpy()[idx[:, 0]]
    for u, sid in named.items():
        skill_ids[u] = sid
    for (d, si, a, b), u in zip(found, span_inv):
        si = si if si >= 0 else _sentence_of([s for s, _ in sentences[d]], a)
        rows.append({"doc_id": doc_ids[d], "skill_id": skill_ids[u],
                     "surface_form": texts[d][a:b], "char_start": a, "char_end": b, "sentence_index": si,
                     "score": round(float(scores[u, 0]), 4), "method": "tagger+linker"})
    return len(found)


_GENERIC_HEAD = re.compile(r"(?i)[\s-]+(skills?|abilities|ability)$")
_CONJUNCTION = re.compile(r"(?i)\s*(?:,|/|&|\band\b|\bor\b)\s*")
# A degree at the start of a span, then its field after "in" / "of" / a dash, or nothing: "Bachelor's degree in
# Computer Science", "Master of Health Administration", "MBA - Finance", "BS/MS in", "PhD", "technical degree".
_DEGREE = re.compile(
    r"(?i)^(?:an?\s+)?(?:(?:advanced|graduate|undergraduate|university|college|technical|engineering|business)\s+)?"
    r"(?:(?:bachelor|master|doctor|associate)(?:['’]?s)?(?:\s+of\s+(?:applied\s+)?(?:science|arts|engineering))?"
    r"|doctorate|ph\.?\s?d\.?|mba|bsc|msc|b\.s\.|m\.s\.|b\.a\.|m\.a\.|(?:ba|bs|ma|ms)(?:\s*/\s*(?:ba|bs|ma|ms|phd))*"
    r"|high\s+school\s+diploma|degree|diploma)"
    r"(?:\s+(?:degree|diploma)s?)?(?:\s*(?:\bin\b|\bof\b|[-–:])\s*|\s*$)")
_NO_FIELD = re.compile(r"(?i)^(?:(?:a\s+)?related\s+(?:field|discipline|area)s?|sciences?|arts|engineering|equivalent)?$")


def degree_field(span: str) -> str | None:
    """The field a degree span names ("Bachelor's degree in Computer Science" -> "Computer Science"); "" for a
    degree without one ("Master's degree", "PhD", "BS in", "degree in a related field"); None for a span that is
    not a degree ("MS Office", "master data management"). A degree is a qualification, not a skill: linked as a
    whole, "Master's degree" reached the O*NET product Tailor Master (142 postings), "Ph.D" a wheel impact load
    detector, "MS" Microsoft Visio, "Bachelor's degree in Computer Science" teach computer science."""
    m = _DEGREE.match(span.strip())
    if m is None:
        return None
    rest = re.sub(r"\s*\(.*$", "", span.strip()[m.end():])  # "Business Administration (MBA)"
    field = _CONJUNCTION.split(rest.strip(" .;"))[0].strip(" .;")
    return "" if _NO_FIELD.match(field) else field


def link_text_of(span: str) -> str:
    """What a tagger span is linked by: a degree's field when it names one, else the span itself."""
    field = degree_field(span)
    return field or span


def _named_cores(span_text: list[str], index: SkillIndex) -> dict[int, str]:
    """Spans whose core is exactly a name the alias matcher knows (its curation rules apply: "R skills" has no cue
    for R): position -> skill id. The core is the span without a generic head word ("communication skills" ->
    "communication"), or the first of coordinated ones ("communication and interpersonal skills" ->
    "communication"; the others are found where the text names them), or that one without a plural "s"
    ("communications skills"). The nearest name of the whole span was
    often a concept about the head word ("communication skills" -> "teach communication methods", 471 postings of
    the shared data; the coordinated form, 185 more)."""
    out = {}
    for u, text in enumerate(span_text):
        core = _GENERIC_HEAD.sub("", text).strip()
        first = _CONJUNCTION.split(core)[0].strip()
        singular = first[:-1] if len(first) >= 6 and first.endswith("s") and first[-2:] not in ("ss", "us", "is") \
            else ""  # "communications skills"
        for cand in dict.fromkeys([core, first, singular]):
            if cand:
                hits = index.matcher.find(cand)
                if len(hits) == 1 and hits[0][0] == 0 and hits[0][1] == len(cand):
                    out[u] = hits[0][2].skill_id
                    break
    return out


def _merge_spans(m: pd.DataFrame) -> pd.DataFrame:
    """One mention per (doc, span): the strongest method wins, then the higher score; ``tagged`` says whether
    the tagger found the span (an alias hit the tagger also found keeps its exact link)."""
    if m.empty:
        return m.assign(tagged=pd.Series(dtype=bool))
    m = m.assign(_r=m["method"].map(METHOD_RANK))
    m["tagged"] = (m["method"] == "tagger+linker").groupby([m["doc_id"], m["char_start"], m["char_end"]]).transform("any")
    m = m.sort_values(["doc_id", "char_start", "char_end", "_r", "score"], ascending=[True, True, True, True, False])
    return m.drop_duplicates(["doc_id", "char_start", "char_end"]).drop(columns="_r").reset_index(drop=True)


def _dedupe(m: pd.DataFrame) -> pd.DataFrame:
    """One row per (doc, skill): alias beats tagger+linker beats sentence-linker, then the higher score; with the
    number of sentences mentioning the skill and the sorted distinct starts of all its mentions."""
    if m.empty:
        return m.assign(mention_count=pd.Series(dtype="int64"), mention_starts=pd.Series(dtype=object))
    m = m.assign(_r=m["method"].map(METHOD_RANK))
    # a sentence linked as a whole and a span inside it are one mention, so count sentences, not rows
    g = m.groupby(["doc_id", "skill_id"])
    counts = g["sentence_index"].nunique().rename("mention_count").to_frame()
    starts = m[["doc_id", "skill_id", "char_start"]].drop_duplicates().sort_values("char_start")
    counts["mention_starts"] = starts.groupby(["doc_id", "skill_id"])["char_start"].agg(
        lambda s: s.astype(int).tolist())
    m = m.sort_values(["doc_id", "skill_id", "_r", "score", "char_start"], ascending=[True, True, True, False, True])
    m = m.drop_duplicates(["doc_id", "skill_id"]).drop(columns="_r")
    return m.join(counts, on=["doc_id", "skill_id"]).reset_index(drop=True)


def rank_sentences(sentences: list[str], index: SkillIndex, top_k: int, source: str | None = None,
                   by_surface: bool = False, span_weight: float = 0.6, span_by_surface: bool | None = True,
                   sentence_encoder: Callable[[list[str]], np.ndarray] | None = None,
                   span_encoder: Callable[[list[str]], np.ndarray] | None = None) -> list[list[dict[str, object]]]:
    """For each sentence, the top-k taxonomy concepts, best first (optionally of one taxonomy source).

    A concept's score blends how close it is to the whole sentence with how close it is to the sentence's best
    skill span (tagger spans and alias hits): ``(1 - span_weight) * sentence + span_weight * best span``. A
    sentence without spans is scored on the sentence alone. With ``by_surface`` (sentences) / ``span_by_surface``
    (spans) a concept is as close as its closest name (preferred label or alias): short spans read like names,
    whole sentences compare better with preferred labels. The defaults sit in the middle of a broad plateau on
    the Decorte validation sets (span_weight 0.5-0.7 all score within noise of each other). Whole sentences are
    embedded by ``sentence_encoder`` (default :meth:`SkillIndex.sentence_encoder`: the promoted linker), spans by
    ``span_encoder`` (default the packaged encoder).
    """
    import torch

    restrict = None
    if source:
        restrict = np.flatnonzero(index.dim_skill["taxonomy_source"].to_numpy() == source)
    k = min(top_k, len(index.dim_skill) if restrict is None else len(restrict))
    sent_emb = (sentence_encoder or index.sentence_encoder())(sentences)
    spans = _sentence_spans(sentences, index) if span_weight > 0 else [[] for _ in sentences]
    span_text = sorted({t for sp in spans for t in sp})
    span_pos = {t: i for i, t in enumerate(span_text)}
    span_emb = span_encoder(span_text) if span_encoder is not None else encode(span_text, index.device)
    out: list[list[dict[str, object]]] = []
    span_by_surface = by_surface if span_by_surface is None else span_by_surface
    block = index.block_rows(by_surface or span_by_surface)
    for b in range(0, len(sentences), block):
        sims = index.concept_scores(sent_emb[b:b + block], by_surface)
        owned = [[span_pos[t] for t in spans[b + r]] for r in range(sims.shape[0])]
        flat = [i for own in owned for i in own]
        if flat:  # one similarity pass over every span of the block, then the best span per sentence
            span_sims = torch.cat([index.concept_scores(span_emb[flat[c:c + block]], span_by_surface)
                                   for c in range(0, len(flat), block)])
            at = 0
            for r, own in enumerate(owned):
                if own:
                    best_span = span_sims[at:at + len(own)].max(dim=0).values
                    sims[r] = (1 - span_weight) * sims[r] + span_weight * best_span
                    at += len(own)
        if restrict is not None:
            sims = sims.masked_fill(~index._allowed(restrict), -2.0)
        top_s, top_i = torch.topk(sims, k=k, dim=1)
        for srow, irow in zip(top_s.cpu().numpy(), top_i.cpu().numpy()):
            out.append([{"id": index.dim_skill["skill_id"].iat[int(i)],
                         "label": index.dim_skill["preferred_label"].iat[int(i)], "score": round(float(sc), 4)}
                        for sc, i in zip(srow, irow)])
    return out


def _sentence_spans(sentences: list[str], index: SkillIndex) -> list[list[str]]:
    """Distinct skill span texts per sentence: tagger spans plus alias hits."""
    out = [{text[a:b] for a, b, _surf in index.matcher.find(text)} for text in sentences]
    if index.tagger is not None:
        # ranking wants recall: every span the tagger sees, not only those above its calibrated confidence
        for found, text, tagged in zip(out, sentences, index.tagger.tag(sentences, min_confidence=0.0)):
            found.update(text[a:b] for a, b, _t, _c in tagged)
    return [sorted(f) for f in out]
