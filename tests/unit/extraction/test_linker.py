"""The sentence linker (skillmatch.extraction.linker): pairs from certain alias links, documents held out whole,
the promotion gate, a real (tiny) contrastive training run on the CPU, rank_sentences using the promoted linker,
and the promoted linker on the shared data when `make setup` trained one."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skillmatch.config import Settings, load_settings
from skillmatch.extraction.encoder import encode
from skillmatch.extraction.extract import SkillIndex, extract_documents, rank_sentences
from skillmatch.extraction.linker import (PROMOTED_FILE, SENTENCE_THRESHOLDS, LinkerConfig, Pair,
                                          backfill_sentence_threshold, decorte_validation, linker_pairs,
                                          pairs_rp_at_5, pick_sentence_threshold, posting_documents,
                                          promote_linker_if_better, promoted_linker, promoted_linker_path,
                                          promoted_sentence_threshold, split_pairs, trained_linkers, train_linker)
from skillmatch.lake import write_parquet_atomic
from tests.unit.extraction.test_extract import tiny_dim_skill

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture()
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("SKILLMATCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SKILLMATCH_MODEL_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("SKILLMATCH_DEVICE", "cpu")
    monkeypatch.setenv("SKILLMATCH_USE_TAGGER", "0")
    s = load_settings()
    write_parquet_atomic(tiny_dim_skill(), s.lake("taxonomy", "dim_skill.parquet"))
    return s


def test_pairs_are_certain_alias_links_of_real_sentences_never_the_gate(settings: Settings) -> None:
    index = SkillIndex(tiny_dim_skill(), settings)
    docs = [("a:1", "You will write Python services and deploy them on Kubernetes."),
            ("a:1", "You will write Python services and deploy them on Kubernetes."),  # repeated boilerplate
            ("a:2", "Python and SQL."),  # under 4 words
            ("a:3", "Strong SQL skills are required for this role."),  # only a 3-character hit
            ("a:4", "You will lead a team of four engineers."),
            ("a:5", "Nothing in this sentence is a skill at all."),
            ("a:6", "Gate sentence: bake bread every morning in our shop.")]
    pairs = linker_pairs(index, docs, "postings", exclude={docs[-1][1]})
    rows = {sid: i for i, sid in enumerate(index.dim_skill["skill_id"])}
    assert pairs == [Pair(docs[0][1], tuple(sorted([rows["esco:python"], rows["onet:kubernetes"]])), "postings", "a:1"),
                     Pair(docs[4][1], (rows["esco:manage-team"],), "postings", "a:4")]
    # with a shorter floor the 3-character "SQL" counts
    assert [p.document for p in linker_pairs(index, docs, "postings", set(), min_surface=3)] == [
        "a:1", "a:3", "a:4", "a:6"]


def test_posting_sentences_come_from_the_file_sources_then_from_silver(settings: Settings) -> None:
    if settings.shared_dir is None:
        pytest.skip("../shared/data is absent: the configured sources read the shared postings")
    before = posting_documents(settings, 2)
    per_doc = pd.Series([d for d, _ in before]).value_counts()
    # ~4.1k distinct shared postings, the first two sentences of each (an HN posting listed in several monthly
    # threads keeps one id, so its sentences stay on one side of the held-out split)
    assert len(per_doc) > 3000 and (per_doc <= 2).mean() > 0.9
    assert {d.split(":")[0] for d in per_doc.index} == {"hn-who-is-hiring", "linkedin-2023-24-sample",
                                                        "glassdoor-2020", "linkedin-ca-2018"}
    # once the lake holds validated postings, the weekly retraining reads them instead of the sources
    write_parquet_atomic(pd.DataFrame({"posting_id": ["hn:1", "hn:2"],
                                       "text": ["Build APIs in Python. Deploy them on Kubernetes.", None]}),
                         settings.lake("silver", "postings.parquet"))
    assert posting_documents(settings, 40) == [("hn:1", "Build APIs in Python."),
                                               ("hn:1", "Deploy them on Kubernetes.")]


def test_split_holds_out_whole_documents_and_is_seeded() -> None:
    pairs = [Pair(f"sentence {d} {i}", (i % 3,), "postings", f"doc{d}") for d in range(40) for i in range(3)]
    cfg = LinkerConfig(max_pairs=50, max_holdout_pairs=7)
    train, held = split_pairs(pairs, cfg)
    assert len(train) == 50 and len(held) == 7
    assert not {p.document for p in train} & {p.document for p in held}
    assert split_pairs(pairs, cfg) == (train, held)
    assert split_pairs(pairs, dataclasses.replace(cfg, seed=1)) != (train, held)


def test_pairs_rp_at_5_counts_gold_concepts_among_the_five_nearest() -> None:
    labels = np.eye(8, dtype=np.float32)
    query = np.array([[1, .9, .8, .7, .6, .5, 0, 0], [0, 0, 0, 0, 0, 0, 1, .1]], dtype=np.float32)
    pairs = [Pair("q1", (0, 6), "postings", "d1"), Pair("q2", (6, 7), "postings", "d2")]
    assert pairs_rp_at_5(query, pairs, labels) == round((0.5 + 1.0) / 2, 4)
    assert pairs_rp_at_5(query[:0], [], labels) == 0.0


def _candidate(root: Path, version: str, rp5: tuple[float, float], mrr: tuple[float, float],
               held: tuple[float, float], promoted: dict | None = None) -> Path:
    """A trained linker's folder whose meta.json gives (packaged encoder, linker) Decorte means and held-out RP@5;
    ``promoted`` adds the promoted linker scored on the same sentences (:func:`_paired`)."""
    folder = root / version
    folder.mkdir(parents=True)
    meta = {"version": version, "held_out_rp5": {"base": held[0], "linker": held[1]},
            "decorte": {w: {"mean": {"RP@5": rp5[i], "MRR": mrr[i]}} for i, w in enumerate(("base", "linker"))}}
    if promoted is not None:
        meta["decorte"]["promoted"] = promoted["decorte"]
        meta["decorte_by_sentence"] = promoted["by_sentence"]
    (folder / "meta.json").write_text(json.dumps(meta))
    return folder


def _paired(version: str, ours: tuple[list[float], list[float]], theirs: tuple[list[float], list[float]]) -> dict:
    """The promoted linker ``version`` and the candidate scored on the same sentences: per-sentence (RP@5, RR) of
    each, the same lists for both Decorte sets."""
    by = {side: {n: {"RP@5": rp, "RR": rr} for n in ("tech", "house")}
          for side, (rp, rr) in (("linker", ours), ("promoted", theirs))}
    mean = {"RP@5": round(float(np.mean(theirs[0])), 4), "MRR": round(float(np.mean(theirs[1])), 4)}
    return {"by_sentence": by, "decorte": {"version": version, "mean": mean}}


def test_gate_promotes_only_a_linker_that_beats_the_encoder_and_never_a_worse_one(tmp_path: Path) -> None:
    root = tmp_path / "models"
    ok, why = promote_linker_if_better(_candidate(root, "linker-a", (0.68, 0.679), (0.66, 0.75), (0.3, 0.7)),
                                       root, 0.01)
    assert not ok and "RP@5 0.6790 is below the packaged encoder's 0.6800" in why
    ok, why = promote_linker_if_better(_candidate(root, "linker-b", (0.68, 0.70), (0.66, 0.665), (0.3, 0.7)),
                                       root, 0.01)
    assert not ok and "MRR 0.6650 does not beat the packaged encoder's 0.6600 by 0.010" in why
    ok, why = promote_linker_if_better(_candidate(root, "linker-c", (0.68, 0.72), (0.66, 0.72), (0.3, 0.3)), root, 0.01)
    assert not ok and "held-out RP@5 0.3000 is not above" in why
    assert promoted_linker(root) is None and promoted_linker_path(root) is None
    # a RP@5 gain under the margin is enough with a clear MRR gain (a fresh clone's linker of 2026-12-06)
    ok, why = promote_linker_if_better(_candidate(root, "linker-d", (0.6777, 0.6870), (0.6635, 0.7230), (0.30, 0.74)),
                                       root, 0.01)
    assert ok and promoted_linker(root)["version"] == "linker-d"
    assert promoted_linker_path(root) == root / "linker-d"
    ok, why = promote_linker_if_better(_candidate(root, "linker-e", (0.68, 0.685), (0.66, 0.75), (0.3, 0.8)),
                                       root, 0.01)
    assert not ok and "below the promoted linker-d (0.6870)" in why
    assert promoted_linker(root)["version"] == "linker-d"
    ok, why = promote_linker_if_better(_candidate(root, "linker-f", (0.68, 0.70), (0.66, 0.73), (0.3, 0.8)), root, 0.01)
    assert ok and promoted_linker(root)["version"] == "linker-f"


def test_against_the_promoted_linker_the_gate_compares_both_on_the_same_sentences(tmp_path: Path) -> None:
    """The promoted linker's record keeps the RP@5 of its own training day; a new linker is compared with it scored
    again on the same sentences: MRR no lower, RP@5 not lower beyond the noise of the sentences."""
    root = tmp_path / "models"
    assert promote_linker_if_better(_candidate(root, "linker-p", (0.6777, 0.81), (0.6635, 0.70), (0.3, 0.7)),
                                    root, 0.01)[0]
    # the record's RP@5 (0.81) was measured under its training day's tagger, curation and precision; scored again
    # with the new linker, the promoted one reads 0.80, and the new linker has a lower RP@5 (0.775: one sentence of
    # 20 per set from 1.0 to 0.5) and a clearly higher MRR (0.805 against 0.74): promoted
    rp_p, rr_p = [1.0] * 14 + [0.5] * 4 + [0.0] * 2, [1.0] * 12 + [0.5] * 4 + [0.2] * 4
    rp_o, rr_o = [1.0] * 13 + [0.5] * 5 + [0.0] * 2, [1.0] * 14 + [0.5] * 3 + [0.2] * 3
    mean = lambda x: round(float(np.mean(x)), 4)  # noqa: E731
    cand = _candidate(root, "linker-q", (0.6777, mean(rp_o)), (0.6635, mean(rr_o)), (0.3, 0.7),
                      _paired("linker-p", (rp_o, rr_o), (rp_p, rr_p)))
    ok, why = promote_linker_if_better(cand, root, 0.01)
    assert ok and promoted_linker(root)["version"] == "linker-q", why
    assert promoted_linker(root)["decorte_rp5"] == 0.775 and promoted_linker(root)["decorte_mrr"] == 0.805
    # a lower MRR on the same sentences: refused
    cand = _candidate(root, "linker-r", (0.6777, mean(rp_p)), (0.6635, mean(rr_p)), (0.3, 0.7),
                      _paired("linker-q", (rp_p, rr_p), (rp_o, rr_o)))
    ok, why = promote_linker_if_better(cand, root, 0.01)
    assert not ok and why == ("linker-r Decorte mean MRR 0.7400 is below the promoted linker-q's 0.8050 on the same "
                              "sentences: not promoted")
    # the same MRR but RP@5 lower on sentence after sentence: beyond the noise, refused
    worse = [1.0] * 6 + [0.5] * 8 + [0.0] * 6
    cand = _candidate(root, "linker-s", (0.45, mean(worse)), (0.6635, mean(rr_o)), (0.3, 0.7),
                      _paired("linker-q", (worse, rr_o), (rp_o, rr_o)))
    ok, why = promote_linker_if_better(cand, root, 0.01)
    assert not ok and why.startswith("linker-s Decorte mean RP@5 0.5000 is below the promoted linker-q's 0.7750 beyond "
                                     "the noise of the sentences (90 % interval of the difference -0.")
    assert promoted_linker(root)["version"] == "linker-q"
    # scored against a linker that is no longer the promoted one: the record's RP@5 decides
    cand = _candidate(root, "linker-t", (0.6777, 0.77), (0.6635, 0.90), (0.3, 0.7),
                      _paired("linker-p", (rp_o, rr_o), (rp_p, rr_p)))
    ok, why = promote_linker_if_better(cand, root, 0.01)
    assert not ok and why == "linker-t Decorte mean RP@5 0.7700 is below the promoted linker-q (0.7750): not promoted"
    verdict = json.loads((root / "linker-t" / "gate.json").read_text())
    assert verdict["promoted"] is False and verdict["reason"] == why
    assert json.loads((root / "linker-q" / "gate.json").read_text())["promoted"] is True


TEMPLATES = ["We need someone who can {s} from day one.", "You will {s} in a small, friendly company.",
             "Experience is required: {s} is part of the daily job.", "The ideal candidate likes to {s} and learn."]
SKILLS = ["write Python code", "run Kubernetes clusters", "lead a team", "bake bread", "use structured query language"]


def _write_decorte(folder: Path) -> None:
    (folder / "decorte").mkdir(parents=True)
    for name, rows in {"tech": [("Our stack: Python services on Kubernetes clusters.", "Python (computer programming)"),
                                ("Our stack: Python services on Kubernetes clusters.", "LABEL NOT PRESENT"),
                                ("You query databases every day.", "SQL")],
                       "house": [("Early shifts at the bakery, making the morning loaves.", "bake bread"),
                                 ("You coordinate the kitchen staff.", "manage a team")]}.items():
        pd.DataFrame(rows, columns=["sentence", "label"]).assign(span="", sub_span="").to_csv(
            folder / "decorte" / f"{name}_validation_annotations.csv", index=False)


def test_a_tiny_training_run_writes_a_scored_linker_that_rank_sentences_then_uses(
        settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    eval_dir = tmp_path / "eval"
    _write_decorte(eval_dir)
    sets = decorte_validation(eval_dir)
    assert sets["tech"]["Our stack: Python services on Kubernetes clusters."] == {"python (computer programming)"}
    job_ads = [(f"post:{d}", TEMPLATES[(d + i) % 4].format(s=SKILLS[(d + 2 * i) % 5]) + f" Ref {d}-{i}.")
            for d in range(30) for i in range(3)]
    cfg = LinkerConfig(max_pairs=40, batch_size=8, lr=1e-4, max_holdout_pairs=20)
    folder = train_linker(settings, cfg, eval_dir, documents={"postings": job_ads})
    meta = json.loads((folder / "meta.json").read_text())
    assert folder.parent == settings.model_dir and meta["version"] == folder.name
    assert meta["pairs"]["train"] == 40 and 0 < meta["pairs"]["held_out"] <= 20
    assert meta["pairs"]["by_origin"] == {"postings": meta["pairs"]["total"]}
    for side in ("base", "linker"):
        assert meta["decorte"][side]["tech"]["n"] == 2 and meta["decorte"][side]["house"]["n"] == 2
        assert 0.0 <= meta["decorte"][side]["mean"]["RP@5"] <= 1.0
        assert 0.0 <= meta["decorte"][side]["mean"]["MRR"] <= 1.0
        assert meta["decorte"][side]["mean"]["MRR"] == round(np.mean([meta["decorte"][side][n]["MRR"]
                                                                      for n in ("tech", "house")]), 4)
        for n in ("tech", "house"):  # the per-sentence scores behind the means, for the paired comparisons
            by = meta["decorte_by_sentence"][side][n]
            assert len(by["RP@5"]) == len(by["RR"]) == 2
            assert round(float(np.mean(by["RP@5"])), 4) == meta["decorte"][side][n]["RP@5"]
            assert round(float(np.mean(by["RR"])), 4) == meta["decorte"][side][n]["MRR"]
    assert "promoted" not in meta["decorte"] and "promoted" not in meta["decorte_by_sentence"]  # none was
    sentences = ["We need someone who can write Python code from day one.", "Early shifts at the bakery."]
    tuned, base = encode(sentences, "cpu", path=folder), encode(sentences, "cpu")
    assert np.allclose(np.linalg.norm(tuned, axis=1), 1.0, atol=1e-5)
    assert (tuned * base).sum(1).min() < 0.9999  # the training moved the vectors

    index = SkillIndex(tiny_dim_skill(), settings)
    assert np.array_equal(index.sentence_encoder()(sentences), base)  # nothing promoted yet
    # five concepts: every RP@5 is 1.0, so the gate cannot see a gain and refuses; promote by hand to test the use
    ok, why = promote_linker_if_better(folder, settings.model_dir, margin=-1.0)
    assert not ok and "held-out RP@5 1.0000 is not above the packaged encoder's 1.0000" in why
    (settings.model_dir / PROMOTED_FILE).write_text(json.dumps({"version": folder.name, "decorte_rp5": 1.0}))
    promoted_linker_path.cache_clear()
    assert np.array_equal(index.sentence_encoder()(sentences), tuned)
    ranked = rank_sentences(sentences, index, top_k=5)
    explicit = rank_sentences(sentences, index, top_k=5, sentence_encoder=lambda t: encode(t, "cpu", path=folder))
    assert ranked == explicit
    monkeypatch.setenv("SKILLMATCH_USE_LINKER", "0")
    off = SkillIndex(tiny_dim_skill(), load_settings())
    assert np.array_equal(off.sentence_encoder()(sentences), base)
    assert off.sentence_model == (None, off.settings.encoder_threshold)
    monkeypatch.delenv("SKILLMATCH_USE_LINKER")

    # the nightly pass: the linker's own threshold, calibrated on the Decorte sentences at training time
    cal = meta["sentence_threshold"]
    assert cal["threshold"] in SENTENCE_THRESHOLDS and cal["sentences"] == 4  # every sentence, labelled or not
    assert cal["packaged_encoder"]["threshold"] == settings.encoder_threshold
    assert set(cal["linked_correct_by_threshold"]) == {str(t) for t in SENTENCE_THRESHOLDS}
    assert index.sentence_model == (folder, cal["threshold"]) and folder.name in index.model_version
    docs = pd.DataFrame({"doc_id": ["d1", "d2"], "text": ["We need someone who can write Python code from day one.",
                                                          "Early shifts at the bakery. You will bake bread."]})
    facts, emb = extract_documents(docs, index, settings)
    assert np.allclose(emb[0], tuned[0], atol=1e-5)  # one sentence: the document is the linker's vector of it
    two = encode(["Early shifts at the bakery.", "You will bake bread."], "cpu", path=folder).sum(0)
    assert np.allclose(emb[1], two / np.linalg.norm(two), atol=1e-5)
    linked = facts[facts["method"] == "sentence-linker"]
    assert (linked["score"] >= cal["threshold"]).all()
    scores, _ = index.rank(tuned[:1], top_k=1)  # whether the 4+-word first sentence is linked follows the threshold
    assert ("d1" in set(linked["doc_id"])) == bool(scores[0, 0] >= cal["threshold"])

    # a linker promoted before linkers were calibrated is calibrated by `make setup` (train-linker --if-missing)
    bare = {k: v for k, v in meta.items() if k != "sentence_threshold"}
    (folder / "meta.json").write_text(json.dumps(bare))
    assert promoted_sentence_threshold(settings.model_dir) is None
    assert index.sentence_model == (None, settings.encoder_threshold)  # meanwhile: the packaged encoder
    again = backfill_sentence_threshold(settings, eval_dir)
    assert again == cal and promoted_sentence_threshold(settings.model_dir) == cal["threshold"]
    assert backfill_sentence_threshold(settings, eval_dir) is None  # nothing left to do

    # the next linker trains with this one promoted: the promoted linker is scored again on the same sentences
    second = train_linker(settings, dataclasses.replace(cfg, max_pairs=16), eval_dir, documents={"postings": job_ads})
    meta2 = json.loads((second / "meta.json").read_text())
    assert meta2["decorte"]["promoted"] == {"version": folder.name, **meta["decorte"]["linker"]}
    assert meta2["decorte_by_sentence"]["promoted"] == meta["decorte_by_sentence"]["linker"]
    assert meta2["decorte_by_sentence"]["base"] == meta["decorte_by_sentence"]["base"]


def test_sentence_threshold_is_the_lowest_from_which_links_stay_as_precise() -> None:
    """Precision on a few sentences is not monotone: one lucky threshold below a worse one does not count."""
    by = {0.6: [20, 9], 0.65: [12, 9], 0.7: [10, 6], 0.75: [6, 5], 0.8: [2, 2], 0.85: [0, 0]}
    assert pick_sentence_threshold(by, 0.7) == 0.75  # 0.65 reaches 0.75 precision, but 0.7 falls to 0.6
    assert pick_sentence_threshold(by, 0.6) == 0.65
    assert pick_sentence_threshold(by, 0.4) == 0.6
    assert pick_sentence_threshold(by, 1.0) == 0.8  # 0.85 links nothing: it neither passes nor blocks
    assert pick_sentence_threshold({0.6: [5, 1], 0.7: [4, 1]}, 0.9) == 0.7  # none passes: the highest


def test_training_needs_pairs_and_the_gate_sets(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="tech_validation_annotations.csv not found"):
        train_linker(settings, LinkerConfig(), tmp_path / "nowhere", documents={"postings": []})
    eval_dir = tmp_path / "eval"
    _write_decorte(eval_dir)
    with pytest.raises(ValueError, match="only 0 training pairs"):
        train_linker(settings, LinkerConfig(), eval_dir, documents={"postings": [("p:1", "Nothing to link here.")]})


def test_the_promoted_linker_passed_its_gate_on_the_shared_data() -> None:
    models = ROOT / "models"
    rec = promoted_linker(models)
    if rec is None:
        pytest.skip("no promoted linker in models/: `make setup` trains one when ../shared/data is present")
    meta = json.loads((models / str(rec["version"]) / "meta.json").read_text())
    dec = meta["decorte"]
    assert dec["linker"]["mean"]["RP@5"] >= dec["base"]["mean"]["RP@5"]
    mrr = {side: np.mean([dec[side][n]["MRR"] for n in ("tech", "house")]) for side in ("base", "linker")}
    assert mrr["linker"] >= mrr["base"] + 0.01  # (linkers promoted before 2026-12-06 passed a RP@5 margin instead)
    assert meta["held_out_rp5"]["linker"] > meta["held_out_rp5"]["base"]
    assert dec["linker"]["tech"]["n"] == 75 and dec["linker"]["house"]["n"] == 61
    assert meta["pairs"]["train"] >= 1000 and set(meta["pairs"]["by_origin"]) == {"skillspan", "postings"}


def test_setup_trains_a_linker_once_even_when_the_gate_refused_it(settings: Settings, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """`make setup` runs `train-linker --if-missing`: a refused linker is not retrained (10 minutes) every time."""
    from skillmatch.cli import main

    _candidate(settings.model_dir, "linker-20260101T000000", (0.68, 0.68), (0.66, 0.66), (0.3, 0.3))
    assert main(["train-linker", "--if-missing"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == {"skipped": "a linker was trained already (linker-20260101T000000) and not promoted",
                   "gate": "linker-20260101T000000 Decorte mean MRR 0.6600 does not beat the packaged encoder's "
                           "0.6600 by 0.010: not promoted"}
    assert promoted_linker(settings.model_dir) is None and not list(settings.model_dir.glob("linker-2026120*"))
    # a linker refused by an earlier gate (trained before the mean MRR was kept: the sets' MRR are averaged) is
    # judged again by the current one, without training
    folder = settings.model_dir / "linker-20260102T000000"
    folder.mkdir()
    sides = {"base": (0.7871, 0.7308, 0.5683, 0.5962, 0.6777), "linker": (0.7893, 0.8041, 0.5847, 0.642, 0.687)}
    (folder / "meta.json").write_text(json.dumps({
        "version": folder.name, "held_out_rp5": {"base": 0.3032, "linker": 0.7362},
        "sentence_threshold": {"threshold": 0.7},
        "decorte": {side: {"tech": {"n": 75, "RP@5": v[0], "MRR": v[1]}, "house": {"n": 61, "RP@5": v[2], "MRR": v[3]},
                           "mean": {"RP@5": v[4]}} for side, v in sides.items()}}))
    assert main(["train-linker", "--if-missing"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["promoted"] is True and out["sentence_threshold"] is None  # calibrated when it was trained
    assert promoted_linker(settings.model_dir)["version"] == folder.name
    assert trained_linkers(settings.model_dir) == [settings.model_dir / "linker-20260101T000000", folder]
    promoted_linker_path.cache_clear()
    assert main(["train-linker", "--if-missing"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["skipped"] == "a promoted linker exists" and "sentence_threshold" not in out  # calibrated already
