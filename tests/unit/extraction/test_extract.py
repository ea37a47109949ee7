"""Unit tests for skillmatch.extraction.extract (alias + MiniLM encoder) and encoder.split_sentences.

The real MiniLM encoder loads once per module from site-packages (offline) on the CPU.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from skillmatch.config import Settings, load_settings
from skillmatch.extraction.encoder import encode, encoder_id, split_sentences
from skillmatch.extraction.extract import MENTION_COLUMNS, SkillIndex, extract_documents, rank_sentences

DIM_SKILL_COLUMNS = ["skill_id", "preferred_label", "aliases", "skill_type", "reuse_level", "description",
                     "taxonomy_source", "hot_technology", "in_demand", "taxonomy_version"]


def tiny_dim_skill() -> pd.DataFrame:
    rows = [
        ("esco:python", "Python (computer programming)", ["python programming"], "knowledge", "cross-sector",
         "Techniques of software development in Python.", "esco", False, False, "test-1"),
        ("onet:kubernetes", "Kubernetes", ["k8s"], "technology", None, "", "onet", True, True, "test-1"),
        ("esco:sql", "SQL", ["structured query language"], "knowledge", "cross-sector", "", "esco", False, False,
         "test-1"),
        ("esco:manage-team", "manage a team", ["lead a team"], "skill/competence", "transversal", "", "esco",
         False, False, "test-1"),
        ("esco:bake-bread", "bake bread", [], "skill/competence", "sector-specific", "", "esco", False, False,
         "test-1"),
    ]
    return pd.DataFrame(rows, columns=DIM_SKILL_COLUMNS)


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    data_dir = tmp_path_factory.mktemp("extract_data")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SKILLMATCH_DATA_DIR", str(data_dir))
        mp.setenv("SKILLMATCH_DEVICE", "cpu")
        mp.delenv("SKILLMATCH_ENCODER_THRESHOLD", raising=False)
        mp.delenv("SKILLMATCH_MAX_SENTENCES_PER_DOC", raising=False)
        # alias and sentence-linker behaviour on their own; the tagger has its own tests below, and sentences
        # embedded by a promoted linker theirs in test_linker.py
        mp.setenv("SKILLMATCH_USE_TAGGER", "0")
        mp.setenv("SKILLMATCH_USE_LINKER", "0")
        return load_settings()


@pytest.fixture(scope="module")
def index(settings: Settings) -> SkillIndex:
    return SkillIndex(tiny_dim_skill(), settings)


DOCS = pd.DataFrame({
    "doc_id": ["d1", "d2"],
    "text": ["We use Python and Kubernetes daily.", "SQL daily. SQL again."],
})


@pytest.fixture(scope="module")
def extracted(index: SkillIndex, settings: Settings) -> tuple[pd.DataFrame, np.ndarray]:
    return extract_documents(DOCS, index, settings)


def test_alias_mentions_with_offsets(extracted: tuple[pd.DataFrame, np.ndarray]) -> None:
    mentions, _ = extracted
    assert list(mentions.columns) == MENTION_COLUMNS
    text = DOCS["text"].iat[0]
    d1 = mentions[(mentions["doc_id"] == "d1") & (mentions["method"] == "alias")].set_index("skill_id")
    assert set(d1.index) == {"esco:python", "onet:kubernetes"}
    assert d1.loc["esco:python", "surface_form"] == "Python"
    assert d1.loc["onet:kubernetes", "surface_form"] == "Kubernetes"
    assert d1.loc["esco:python", "preferred_label"] == "Python (computer programming)"
    for sid, r in d1.iterrows():
        assert text[int(r["char_start"]):int(r["char_end"])] == r["surface_form"]
        assert r["score"] == 1.0
        assert r["sentence_index"] == 0
        assert r["mention_count"] == 1
        assert list(r["mention_starts"]) == [int(r["char_start"])]
    assert (int(d1.loc["esco:python", "char_start"]), int(d1.loc["esco:python", "char_end"])) == (7, 13)


def test_one_row_per_doc_and_skill(extracted: tuple[pd.DataFrame, np.ndarray]) -> None:
    mentions, _ = extracted
    assert not mentions.duplicated(["doc_id", "skill_id"]).any()
    d2 = mentions[mentions["doc_id"] == "d2"]
    assert d2["skill_id"].tolist() == ["esco:sql"]
    row = d2.iloc[0]
    assert row["mention_count"] == 2
    assert list(row["mention_starts"]) == [0, 11]  # every mention's start, where evidence strength looks
    assert row["method"] == "alias"
    # the first occurrence is the one kept
    assert (int(row["char_start"]), int(row["char_end"]), int(row["sentence_index"])) == (0, 3, 0)
    assert row["surface_form"] == "SQL"


def test_doc_embeddings_unit_norm_and_mean_of_sentences(extracted: tuple[pd.DataFrame, np.ndarray],
                                                        index: SkillIndex) -> None:
    _, emb = extracted
    assert emb.shape == (len(DOCS), 384)
    assert emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    # a one-sentence document is embedded as that sentence
    np.testing.assert_allclose(emb[0], encode([DOCS["text"].iat[0]], index.device)[0], atol=1e-5)
    # a two-sentence document is the normalised sum of its sentences
    sents = encode(["SQL daily.", "SQL again."], index.device).sum(0)
    np.testing.assert_allclose(emb[1], sents / np.linalg.norm(sents), atol=1e-5)
    assert not np.allclose(emb[0], emb[1])


def test_surface_form_is_the_text_as_written_and_longest_match_wins(index: SkillIndex, settings: Settings) -> None:
    text = "Strong Python Programming skills."
    docs = pd.DataFrame({"doc_id": ["p1"], "text": [text]})
    mentions, _ = extract_documents(docs, index, settings)
    alias = mentions[mentions["method"] == "alias"]
    assert alias["skill_id"].tolist() == ["esco:python"]
    row = alias.iloc[0]
    # the alias "python programming" beats the shorter "Python"; the surface keeps the document's casing
    assert row["surface_form"] == "Python Programming"
    assert (int(row["char_start"]), int(row["char_end"])) == (7, 25)


def test_empty_text(index: SkillIndex, settings: Settings) -> None:
    docs = pd.DataFrame({"doc_id": ["e1", "e2"], "text": ["", "  \n "]})
    mentions, emb = extract_documents(docs, index, settings)
    assert mentions.empty
    assert list(mentions.columns) == MENTION_COLUMNS
    assert emb.shape == (2, 384)
    assert not emb.any()


def test_encoder_evidence_above_threshold(index: SkillIndex, settings: Settings) -> None:
    text = "Short. I love baking fresh bread loaves every morning at the bakery."
    sentence = text[7:]
    # this module embeds sentences with the packaged encoder (SKILLMATCH_USE_LINKER=0 in the fixture)
    [[best]] = rank_sentences([sentence], index, top_k=1, sentence_encoder=lambda t: encode(t, index.device))
    assert best["id"] == "esco:bake-bread"
    docs = pd.DataFrame({"doc_id": ["b1"], "text": [text]})
    # below the default threshold (0.72): no encoder row
    assert best["score"] < settings.encoder_threshold
    mentions, _ = extract_documents(docs, index, settings)
    assert mentions.empty
    low = dataclasses.replace(settings, encoder_threshold=best["score"] - 0.05)
    mentions, _ = extract_documents(docs, index, low)
    assert mentions["skill_id"].tolist() == ["esco:bake-bread"]
    row = mentions.iloc[0]
    assert row["method"] == "sentence-linker"
    assert row["surface_form"] == sentence
    assert (int(row["char_start"]), int(row["char_end"])) == (7, len(text))
    assert row["sentence_index"] == 1
    assert row["score"] == pytest.approx(best["score"], abs=1e-3)
    assert row["preferred_label"] == "bake bread"


def test_a_sentence_linked_to_a_cued_label_needs_its_cue(settings: Settings) -> None:
    """The curation file asks "yoga" for a teaching or therapy cue; a whole sentence the sentence linker takes to
    yoga needs it too (postings list on-site yoga classes among their perks)."""
    rows = [("esco:yoga", "yoga", ["yoga practice"], "knowledge", "sector-specific", "", "esco", False, False, "t-1"),
            ("esco:bake-bread", "bake bread", [], "skill/competence", "sector-specific", "", "esco", False, False,
             "t-1")]
    index = SkillIndex(pd.DataFrame(rows, columns=DIM_SKILL_COLUMNS), settings)
    assert set(index.label_cues) == {"esco:yoga"}
    perk, teach = "Free weekly on-site yoga classes for everyone.", "You will teach weekly yoga classes for everyone."
    docs = pd.DataFrame({"doc_id": ["perk", "teach"], "text": [perk.replace("yoga", "Yoga"), teach]})
    low = dataclasses.replace(settings, encoder_threshold=0.3)
    scores, _ = index.rank(encode([perk, teach], "cpu"), top_k=1)
    assert (scores[:, 0] >= 0.3).all()  # both sentences are close enough to yoga
    mentions, _ = extract_documents(docs, index, low)
    assert mentions["doc_id"].tolist() == ["teach"]  # the alias hit, with its cue
    index.__dict__["_label_cues"] = {}  # without the rule, the perk's sentence is yoga
    mentions, _ = extract_documents(docs, index, low)
    assert mentions.set_index("doc_id").loc["perk", "method"] == "sentence-linker"


def test_rank_sentences(index: SkillIndex) -> None:
    [ranked] = rank_sentences(["I lead and manage a team of engineers"], index, top_k=3)
    assert len(ranked) == 3
    assert ranked[0]["id"] == "esco:manage-team"
    assert ranked[0]["label"] == "manage a team"
    scores = [r["score"] for r in ranked]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] > scores[1] + 0.1
    assert len({r["id"] for r in ranked}) == 3


def test_rank_sentences_restricted_to_source(index: SkillIndex) -> None:
    [ranked] = rank_sentences(["I lead and manage a team of engineers"], index, top_k=3, source="onet")
    # only one O*NET concept in the tiny taxonomy
    assert [r["id"] for r in ranked] == ["onet:kubernetes"]


def test_label_embeddings_cached_on_disk(index: SkillIndex, settings: Settings) -> None:
    emb = index.label_emb
    assert emb.shape == (len(tiny_dim_skill()), 384)
    # keyed by encoder (and precision) + taxonomy release, kept beside the models so that every lake on the machine
    # reuses them
    key = f"{encoder_id(index.device)}-{index.taxonomy_version}-{len(tiny_dim_skill())}".replace(":", "_")
    cached = settings.model_dir / "cache" / "label_embeddings" / f"{key}.npy"
    assert cached.is_file() and not settings.lake("cache").exists()
    np.testing.assert_array_equal(np.load(cached), emb)


# --- split_sentences -------------------------------------------------------------------------------------

def _parts(text: str, **kw: int) -> list[str]:
    spans = split_sentences(text, **kw)
    for s, e in spans:
        assert 0 <= s < e <= len(text)
    assert spans == sorted(spans)
    return [text[s:e] for s, e in spans]


def test_split_sentences_and_bullets() -> None:
    text = "Led a team of five. Built APIs in Python!\nShipped code • Wrote tests • Fixed bugs\n\nRan standups; Hired staff"
    assert _parts(text) == ["Led a team of five.", "Built APIs in Python!", "Shipped code", "Wrote tests",
                            "Fixed bugs", "Ran standups;", "Hired staff"]


def test_split_sentences_dash_bullets_and_no_split_before_lowercase() -> None:
    assert _parts("Python - SQL - Docker") == ["Python", "SQL", "Docker"]
    # a period followed by a lowercase word (e.g. "e.g. foo") is not a sentence end
    assert _parts("Tools e.g. pandas and numpy.") == ["Tools e.g. pandas and numpy."]


def test_split_sentences_drops_tiny_fragments() -> None:
    assert _parts("ok\nReal sentence here.") == ["Real sentence here."]
    assert split_sentences("") == []
    assert split_sentences("   \n\n ") == []


def test_split_sentences_cuts_long_text_at_max_len() -> None:
    words = [f"w{i:03d}" for i in range(200)]
    text = " ".join(words)  # 999 characters, no sentence boundary
    parts = _parts(text, max_len=50)
    assert all(len(p) <= 50 for p in parts)
    assert all(p == p.strip() for p in parts)
    assert len(parts) > 1
    # cuts fall on spaces: every word survives, whole and in order
    assert " ".join(parts).split() == words
    default = _parts(text)
    assert all(len(p) <= 400 for p in default) and len(default) == 3
    assert " ".join(default).split() == words


def test_split_sentences_joins_the_lines_a_pdf_wrapped() -> None:
    # lines of the shared resume PDFs: an item wrapped mid-way, a sentence wrapped after an open word; list lines
    # that close on a comma, bullets and a capitalised next line stay apart
    text = ("Skills\nDrivers License, insurance, reliable\ntransportation\nGeneral ledger, trial\nbalance account.\n"
            "Budgeting and\nForecasting\nExcel,\nWord\nPrepared reports • Audited\naccounts\nUniversity of Phoenix\n"
            "City , State\nManaged the\n\nbudget")
    assert _parts(text, join_wrapped=True) == [
        "Skills", "Drivers License, insurance, reliable\ntransportation", "General ledger, trial\nbalance account.",
        "Budgeting and\nForecasting", "Excel,", "Word", "Prepared reports", "Audited\naccounts",
        "University of Phoenix", "City , State", "Managed the", "budget"]  # a blank line is a paragraph break
    assert "transportation" in _parts(text) and "Drivers License, insurance, reliable" in _parts(text)  # off by default
    # a join never makes a span longer than max_len
    assert _parts("aaaa bbbb and\ncccc dddd", max_len=15, join_wrapped=True) == ["aaaa bbbb and", "cccc dddd"]


def test_split_sentences_hard_cut_without_spaces() -> None:
    parts = _parts("x" * 120, max_len=50)
    assert len(parts) == 3
    assert all(len(p) <= 50 for p in parts)


def test_in_steps_logs_progress_and_keeps_order(caplog: pytest.LogCaptureFixture) -> None:
    from skillmatch.extraction.extract import in_steps

    items = [str(i) for i in range(25)]
    with caplog.at_level("INFO", logger="skillmatch.extraction.extract"):
        out = in_steps(items, lambda part: [int(x) * 2 for x in part], "doubling", min_items=10)
    assert out == [2 * i for i in range(25)]
    progress = [r.getMessage() for r in caplog.records if r.getMessage().startswith("doubling:")]
    assert len(progress) == 9 and progress[-1].startswith("doubling: 25/25 (100%)")
    assert in_steps(items[:3], lambda part: part, "quiet", min_items=10) == items[:3]


def test_direct_encoder_path_matches_sentence_transformers() -> None:
    """The hand-run path (the CUDA default: transformer, mean pooling, L2 norm, results kept on the device) gives
    the SentenceTransformer embeddings, whatever the batch split and length order; tested on the CPU."""
    texts = ["Python and SQL for data pipelines.", "Must have", "Experience with Kubernetes, Terraform and AWS "
             "in production environments, on call included.", "Excel", "Go", "Strong communication skills."]
    ref = encode(texts, "cpu", direct=False)
    for batch in (1, 4, 128):
        got = encode(texts, "cpu", batch_size=batch, direct=True)
        assert got.dtype == np.float32 and got.shape == ref.shape
        np.testing.assert_allclose(got, ref, atol=2e-6)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-6)


def test_posting_boilerplate_holds_no_requirement(index: SkillIndex, settings: Settings) -> None:
    from skillmatch.extraction.extract import boilerplate_regions

    text = ("Must know Python and SQL.Acme is an equal opportunity employer and considers applicants without regard "
            "to race or genetic information. Kubernetes is a plus.")
    docs = pd.DataFrame({"doc_id": ["p1"], "text": [text]})
    regions = boilerplate_regions(text, split_sentences(text))
    # from the glued clause end after "SQL." to the end of the statement: the skills list before it stays
    assert [text[a:b] for a, b in regions] == [text[text.index("Acme"):text.index(" Kubernetes")]]
    posting, _ = extract_documents(docs, index, settings, postings=True)
    assert set(posting["skill_id"]) == {"esco:python", "esco:sql", "onet:kubernetes"}
    # "Kubernetes" inside the statement is dropped for a posting, kept for any other document (a resume)
    text2 = "Acme is an equal opportunity employer, Kubernetes shop. SQL daily."
    docs2 = pd.DataFrame({"doc_id": ["p2"], "text": [text2]})
    assert set(extract_documents(docs2, index, settings, postings=True)[0]["skill_id"]) == {"esco:sql"}
    assert set(extract_documents(docs2, index, settings)[0]["skill_id"]) == {"esco:sql", "onet:kubernetes"}
    text3 = "Python daily. Section 503 of the Rehabilitation Act of 1973 covers SQL rehabilitation."
    assert [text3[a:b] for a, b in boilerplate_regions(text3, split_sentences(text3))] == [text3[14:]]
    text4 = "SQL daily. We will not discriminate, consistent with the legal duty to furnish information."
    assert [text4[a:b] for a, b in boilerplate_regions(text4, split_sentences(text4))] == [text4[11:]]


def test_rules_digest_is_in_the_model_version(index: SkillIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    from skillmatch.extraction import alias, extract

    before = index.model_version
    assert extract.rules_digest() in before
    monkeypatch.setattr(alias, "curation_text", lambda: "surface,action,context,note\nplan,block,,\n")
    assert index.model_version != before  # editing the curation file re-extracts every document


def test_span_core_named_exactly_links_to_that_name(index: SkillIndex) -> None:
    from skillmatch.extraction.extract import _named_cores

    spans = ["Python skills", "SQL", "python programming ability", "Kubernetes-skills", "baking skills", "skills",
             "SQL and Python skills", "baking and Python skills", "Python and baking", "structured query languages skills",
             "SQLs skills"]
    # the core must be one whole name, or the first of coordinated ones ("SQL and Python": SQL; the alias matcher
    # finds Python where the text names it); "baking and Python" names nothing first, so it keeps its embedding link
    assert _named_cores(spans, index) == {0: "esco:python", 1: "esco:sql", 2: "esco:python", 3: "onet:kubernetes",
                                          6: "esco:sql", 8: "esco:python", 9: "esco:sql"}
    # a plural "s" comes off a core of 6 letters or more only ("SQLs" is not SQL)


@pytest.mark.parametrize(("span", "field"), [
    ("Bachelor's degree in Computer Science", "Computer Science"),
    ("Bachelor’s degree in Computer Science, Statistics or a related field", "Computer Science"),
    ("BS degree in Computer Technology", "Computer Technology"), ("M.S. in Statistics", "Statistics"),
    ("Master of Health Administration", "Health Administration"), ("MBA- Management/Finance", "Management"),
    ("Masters of Business Administration (MBA)", "Business Administration"),
    ("Master’s degree", ""), ("Master's Degree in", ""), ("MS", ""), ("Ph.D", ""), ("PhD degree", ""),
    ("BA/BS in", ""), ("High School Diploma", ""), ("Bachelor of Science", ""), ("Bachelors in science", ""),
    ("technical degree", ""), ("degree in a related field", ""), ("Associate's degree", ""),
    ("MS Office", None), ("MS Word", None), ("master data management", None), ("Diplomatic", None),
    ("learn and master new technologies", None), ("business management degree", None),
])
def test_degree_spans_are_linked_by_their_field(span: str, field: str | None) -> None:
    from skillmatch.extraction.extract import degree_field, link_text_of

    assert degree_field(span) == field
    assert link_text_of(span) == (field or span)


def test_degree_spans_in_the_facts(index: SkillIndex, settings: Settings) -> None:
    """A degree's field is what the span links ("Python" for a degree in Python programming); a degree without a
    field is no skill fact, though ``extract --input`` still reports the span."""
    from skillmatch.extraction.extract import plausible_links

    spans = pd.DataFrame({"surface_form": ["Master's degree", "PhD", "Bachelor's degree in Python programming"],
                          "skill_id": ["esco:sql", "esco:sql", "esco:python"], "score": [0.99, 0.99, 1.0]})
    assert plausible_links(spans, index).tolist() == [False, False, True]
    from skillmatch.extraction.extract import _named_cores, link_text_of

    assert _named_cores([link_text_of("Bachelor's degree in Python programming")], index) == {0: "esco:python"}


def _link_dim_skill() -> pd.DataFrame:
    """Concepts shaped like the ones the span linker confused on the shared data (ESCO alt labels and O*NET
    products as written there)."""
    rows = [
        ("esco:packaging-engineering", "packaging engineering", ["engineering", "engineering of packaging"]),
        ("esco:engineering-principles", "engineering principles", ["engineering basics"]),
        ("esco:think-creatively", "think creatively", ["design", "creative thinking"]),
        ("onet:terrastation", "TERRASCIENCES TerraStation", []),
        ("onet:retail-solution", "The Retail Solution", []),
        ("onet:aws", "Amazon Web Services AWS software", ["Amazon Web Services"]),
        ("esco:mathematics", "mathematics", ["maths"]),
        ("esco:show-initiative", "show initiative", ["self starter"]),
        ("esco:handle-pigs", "handle pigs", []),
        ("onet-tech:apache-pig", "Apache Pig", []),  # the curation file's "Pig" (with a Hadoop cue)
        ("onet-tech:microsoft-excel", "Microsoft Excel", []),  # and its "Excel" (capitalised)
        ("onet-tech:pandas", "pandas", []),  # a product name, matched as written
        ("esco:cyber-security", "cyber security", []),
        # one name, two concepts: ESCO files "supply chain management" as manage supplies' alt label too
        ("esco:manage-supplies", "manage supplies", ["supply chain management", "manage supply"]),
        ("esco:supply-chain-management", "supply chain management", []),
    ]
    return pd.DataFrame([(sid, label, aliases, "knowledge", None, "", sid.split(":")[0], False, False, "test-1")
                         for sid, label, aliases in rows], columns=DIM_SKILL_COLUMNS)


@pytest.fixture(scope="module")
def link_index(settings: Settings) -> SkillIndex:
    return SkillIndex(_link_dim_skill(), settings)


def test_span_linker_reaches_only_names_the_alias_matcher_looks_for(link_index: SkillIndex) -> None:
    names, owner = link_index.surface_emb
    labels = link_index.dim_skill["preferred_label"].tolist()
    zero = np.flatnonzero(~names.any(axis=1))
    # the one-word lowercase ESCO alt labels, which the matcher leaves out as noise, and a name another concept
    # holds as its preferred label (the matcher gives it to that one), and nothing else
    assert sorted(labels[owner[i]] for i in zero) == ["manage supplies", "mathematics", "packaging engineering",
                                                      "think creatively"]
    scores, idx = link_index.rank(encode(["Engineering", "design"], "cpu"), top_k=1, by_surface=True)
    linked = [labels[i] for i in idx[:, 0]]
    assert linked[0] == "engineering principles"  # was packaging engineering, at 1.0, through its alt label
    assert linked[1] != "think creatively" or scores[1, 0] < 0.95
    assert (scores[:, 0] < 0.99).all()


def test_a_shared_name_links_spans_to_the_concept_the_alias_matcher_gives_it(link_index: SkillIndex) -> None:
    """Both concepts scored 1.0 on "supply chain management" and the tie fell to the first row: manage supplies
    took "supply chain" in 24 postings where the same words written in full were supply chain management."""
    labels = link_index.dim_skill["preferred_label"].tolist()
    assert labels[link_index.dim_skill["skill_id"].tolist().index(
        link_index.matcher.owner("Supply Chain Management"))] == "supply chain management"
    scores, idx = link_index.rank(encode(["supply chain", "supply chain management", "manage supply"], "cpu"),
                                  top_k=1, by_surface=True)
    assert [labels[i] for i in idx[:, 0]] == ["supply chain management", "supply chain management", "manage supplies"]
    assert scores[1, 0] > 0.99 and scores[2, 0] > 0.99


def test_one_word_span_links_need_a_shared_stem_and_curated_forms_stay_the_matchers_call(
        link_index: SkillIndex) -> None:
    from skillmatch.extraction.extract import plausible_links

    spans = pd.DataFrame([
        ("Terraform", "onet:terrastation", 0.80, False),  # no shared word: the embedding guessed
        ("AWS", "onet:aws", 0.67, True),  # a word of the name
        ("Math", "esco:mathematics", 0.91, True),  # begins a name word
        ("Mathematics,", "esco:mathematics", 0.93, True),  # edge punctuation aside
        ("self-starter", "esco:show-initiative", 0.984, True),  # near-exact: all but a name
        ("motivated", "esco:show-initiative", 0.75, False),
        # forms the alias matcher looks for are its call: a tagger row left on one means it turned the form down
        ("Pig", "esco:handle-pigs", 0.78, False),  # no Hadoop cue
        ("excel", "onet-tech:microsoft-excel", 0.97, False),  # "excel at"
        ("Word", "esco:think-creatively", 0.69, False),  # blocked outright
        ("Engineering", "esco:engineering-principles", 0.85, False),  # a bare field name: blocked
        ("retail", "onet:retail-solution", 0.80, False),  # a bare industry name: blocked, not a POS product
        ("Retail and", "onet:retail-solution", 0.76, False),  # the same, where the tagger cut a coordination
        ("Pandas and", "onet-tech:pandas", 0.95, True),
        ("Pandas", "onet-tech:pandas", 1.0, True),  # the matcher skipped it for case alone: not curated
        ("Cybersecurity", "esco:cyber-security", 0.86, True),  # two name words joined
        ("LLMs", "esco:cyber-security", 0.69, False),
        ("working with large data sets", "esco:mathematics", 0.60, True),  # several words: the threshold decides
    ], columns=["surface_form", "skill_id", "score", "expected"])
    assert plausible_links(spans, link_index).tolist() == spans["expected"].tolist()
    assert plausible_links(spans.iloc[:0], link_index).tolist() == []


def test_adjectives_and_vendor_names_cut_from_products_link_to_nothing(link_index: SkillIndex,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The most frequent wrong span links of 2026-12-06: the shipped curation file blocks each form, and without it
    each would link (the one-word spans at a near-exact score, the longer ones at any)."""
    spans = pd.DataFrame([("technical", "esco:technical-terminology"), ("Professional", "esco:cooperate"),
                          ("Financial", "esco:financial-capability"), ("Apache", "onet:apache-http-server"),
                          ("Microsoft", "onet:microsoft-windows"), ("Adobe", "esco:presentation-software"),
                          ("analysis", "esco:statistics"), ("data", "esco:statistics"), ("IBM", "onet:ibm-domino"),
                          ("strategy", "esco:entrepreneurial-spirit"), ("Focused", "esco:stay-alert"),
                          ("Goal-oriented", "esco:lead-others"), ("Variance Analysis", "esco:portfolio-theory"),
                          ("Performance Management", "esco:plan")],
                         columns=["surface_form", "skill_id"]).assign(score=0.96)
    _blocked_by_the_shipped_curation_only(spans, link_index, monkeypatch)


def _blocked_by_the_shipped_curation_only(spans: pd.DataFrame, link_index: SkillIndex,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """No span links with the shipped curation file, and every one does without it."""
    from skillmatch.extraction import extract
    from skillmatch.extraction.extract import plausible_links

    assert not plausible_links(spans, link_index).any()
    monkeypatch.setattr(extract, "load_curation", lambda: {})
    assert plausible_links(spans, link_index).all()


def test_bare_words_industries_and_vendors_of_the_next_page_link_to_nothing(link_index: SkillIndex,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Wrong span links ranked 100-300 in the facts of 2026-12-06: the shipped curation file blocks each form."""
    forms = ["web", "Coordination", "infrastructure", "monitoring", "Quickly", "responsible", "organization",
             "Organizational", "Science", "building", "process", "support", "Client", "Email", "Vista", "Symantec",
             "insurance", "Healthcare Industry", "financial services industry", "Hybrid", "contribute", "data access",
             "work hands-on", "work hand-in-hand", "hands"]
    spans = pd.DataFrame({"surface_form": forms, "skill_id": "esco:statistics", "score": 0.96})
    _blocked_by_the_shipped_curation_only(spans, link_index, monkeypatch)


class _FixedSpans:
    """A tagger double that finds given words (the span linking is under test here; the tagger has its own tests)."""

    def __init__(self, words: list[str]) -> None:
        self.words = words

    def tag(self, texts: list[str]) -> list[list[tuple[int, int, str, float]]]:
        return [[(t.index(w), t.index(w) + len(w), "knowledge", 0.9) for w in self.words if w in t] for t in texts]


def test_spans_named_exactly_are_linked_without_encoding_them(settings: Settings, tmp_path) -> None:
    from skillmatch.extraction.extract import _tagged_spans
    from skillmatch.extraction.text_cache import TextCache, TextCaches

    index = SkillIndex(tiny_dim_skill(), settings)
    index._tagger, index._tagger_loaded = _FixedSpans(["Python skills", "SQL", "baking skills"]), True
    caches = TextCaches(embedding=TextCache(tmp_path / "emb", "embedding"))
    text = "Python skills and SQL are a must. Baking skills are welcome, and baking skills again."
    rows: list[dict[str, object]] = []
    found = _tagged_spans(["d1"], [text], [split_sentences(text)], index, rows, budget=None, caches=caches)
    assert found == 3
    by_surface = {r["surface_form"]: (r["skill_id"], r["score"]) for r in rows}
    assert by_surface["Python skills"] == ("esco:python", 1.0) and by_surface["SQL"] == ("esco:sql", 1.0)
    assert by_surface["baking skills"][0] == "esco:bake-bread" and by_surface["baking skills"][1] < 1.0
    # only the span no name covers was embedded (once), and its score is the encoder's own
    assert (caches.embedding.computed, caches.embedding.hits) == (1, 0)
    direct = index.rank(encode(["baking skills"], index.device), top_k=1, by_surface=True)[0][0, 0]
    assert by_surface["baking skills"][1] == round(float(direct), 4)
