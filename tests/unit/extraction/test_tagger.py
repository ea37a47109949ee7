"""Unit tests for the span tagger: word splitting, BIO decoding, span F1, SkillSpan reading, the promotion gate,
a real (tiny) training run on CPU, and the promoted model on real sentences when one exists."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skillmatch.config import load_settings
from skillmatch.extraction.bases import MINILM, MPNET
from skillmatch.extraction.tagger import (DECODING, GATE_FILE, PROMOTED_FILE, SpanTagger, TrainConfig, _decode,
                                          bio_spans, load_promoted_tagger, promote_if_better, promoted_tagger_key,
                                          promoted_version, read_skillspan, span_f1, teacher_examples, train_tagger,
                                          trained_models, viterbi_bio, word_spans)


def test_word_spans_split_edge_punctuation_and_keep_inner_symbols() -> None:
    text = "Use (Python, C++) and Node.js."
    assert [text[a:b] for a, b in word_spans(text)] == ["Use", "(", "Python", ",", "C++", ")", "and", "Node.js", "."]
    # text made by joining tokens with single spaces (the reference scorer's input) keeps its tokens
    tokens = ["Knowledge", "of", "SQL", "and", "m/f/d", "roles", "."]
    joined = " ".join(tokens)
    assert [joined[a:b] for a, b in word_spans(joined)] == tokens


def test_bio_spans_decodes_adjacent_and_stray_inside_tags() -> None:
    assert bio_spans(["B", "I", "O", "B", "B", "I", "I"]) == [(0, 2), (3, 4), (4, 7)]
    assert bio_spans(["O", "I", "I", "O"]) == [(1, 3)]  # lenient: an I with no open span starts one
    assert bio_spans(["O", "O"]) == []


def test_viterbi_bio_is_the_most_probable_valid_sequence() -> None:
    """Against every valid sequence (no I after O or at the start) of short random inputs, and on the case
    per-word argmax gets wrong: O I I (a span starting with I) becomes B I I when that is the likelier valid
    reading, or O O O when that is."""
    import itertools

    rng = np.random.default_rng(0)
    for n in (1, 2, 3, 5, 6):
        for _ in range(40):
            p = rng.dirichlet([1.0, 1.0, 1.0], size=n)
            valid = [t for t in itertools.product(range(3), repeat=n)
                     if t[0] != 2 and all(not (a == 0 and b == 2) for a, b in zip(t, t[1:]))]
            best = max(valid, key=lambda t: sum(np.log(p[i, x]) for i, x in enumerate(t)))
            got = viterbi_bio(p)
            assert len(got) == n and got[0] != 2 and all(not (a == 0 and b == 2) for a, b in zip(got, got[1:]))
            assert np.isclose(sum(np.log(p[i, x]) for i, x in enumerate(got)),
                              sum(np.log(p[i, x]) for i, x in enumerate(best)))
    stray = np.array([[0.9, 0.05, 0.05], [0.3, 0.3, 0.4], [0.1, 0.1, 0.8]])
    assert stray.argmax(1).tolist() == [0, 2, 2] and viterbi_bio(stray) == [0, 1, 2]
    weak = np.array([[0.9, 0.05, 0.05], [0.55, 0.05, 0.4], [0.5, 0.1, 0.4]])
    assert weak.argmax(1).tolist() == [0, 0, 0] and viterbi_bio(weak) == [0, 0, 0]


def test_decode_reads_first_sub_words_and_gives_typed_spans_with_confidence() -> None:
    """Sub-words after a word's first and words truncated away (O) do not take part; each type is decoded apart."""
    o, b, i = [0.9, 0.05, 0.05], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]
    # 4 words, word 1 split into two sub-words, word 3 truncated; per sub-word: (skill, knowledge) probabilities
    probs = np.array([[o, o], [o, b], [b, i], [i, o], [o, o], [b, b]])  # [CLS] w0 w1 w1' w2 [SEP]... (last unused)
    word_ids = [None, 0, 1, 1, 2, None]
    spans = _decode(probs, word_ids, 4)
    assert sorted(spans) == sorted([(1, 2, "skill", 0.8), (0, 2, "knowledge", 0.8)])


def test_span_f1_is_exact_match() -> None:
    gold = [{(0, 2), (3, 4)}, {(1, 3)}]
    pred = [{(0, 2), (3, 5)}, set()]
    assert span_f1(gold, pred) == {"precision": 0.5, "recall": round(1 / 3, 4), "f1": 0.4}
    assert span_f1([set()], [set()])["f1"] == 0.0


def _write_skillspan(path: Path, n: int = 24) -> None:
    lines = []
    for i in range(n):
        toks = ["We", "need", "Python", "and", "teamwork", "skills", "."]
        lines.append(json.dumps({"idx": i // 4, "source": "test", "tokens": toks,
                                 "tags_skill": ["O", "O", "O", "O", "B", "I", "O"],
                                 "tags_knowledge": ["O", "O", "B", "O", "O", "O", "O"]}))
    path.write_text("\n".join(lines) + "\n")


def test_read_skillspan_names_the_bad_line(tmp_path: Path) -> None:
    f = tmp_path / "train.json"
    _write_skillspan(f, 2)
    assert [e.tokens[2] for e in read_skillspan(f)] == ["Python", "Python"]
    f.write_text(f.read_text() + '{"tokens": ["a"], "tags_skill": ["O"]}\n')
    with pytest.raises(ValueError, match=r"train\.json:3: not a SkillSpan record"):
        read_skillspan(f)
    f.write_text('{"tokens": ["a", "b"], "tags_skill": ["O"], "tags_knowledge": ["O", "O"]}\n')
    with pytest.raises(ValueError, match=r"train\.json:1: tag and token counts differ"):
        read_skillspan(f)


def _fake_model(root: Path, version: str, f1: float, base: str | None = MPNET) -> Path:
    folder = root / version
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"")
    meta = {"version": version, "dev": {"all": {"f1": f1}}, **({"base_model": base} if base else {})}
    (folder / "meta.json").write_text(json.dumps(meta))
    return folder


def test_gate_promotes_only_models_that_pass_and_never_a_worse_one(tmp_path: Path) -> None:
    assert promoted_version(tmp_path, MPNET) is None
    ok, why = promote_if_better(_fake_model(tmp_path, "m1", 0.20), tmp_path, min_f1=0.30)
    assert not ok and "below the gate" in why and promoted_version(tmp_path, MPNET) is None
    assert promote_if_better(_fake_model(tmp_path, "m2", 0.45), tmp_path, min_f1=0.30)[0]
    ok, why = promote_if_better(_fake_model(tmp_path, "m3", 0.40), tmp_path, min_f1=0.30)
    assert not ok and "below the promoted m2" in why
    assert promoted_version(tmp_path, MPNET)["version"] == "m2"
    assert promote_if_better(_fake_model(tmp_path, "m4", 0.47), tmp_path, min_f1=0.30)[0]
    assert promoted_version(tmp_path, MPNET)["version"] == "m4"
    # each verdict is kept in the model's folder (`skillmatch status` shows a refused one and why)
    verdicts = {m: json.loads((tmp_path / m / GATE_FILE).read_text()) for m in ("m1", "m2", "m3", "m4")}
    assert [v["promoted"] for v in verdicts.values()] == [False, True, False, True]
    assert verdicts["m3"]["reason"] == why
    assert verdicts["m4"]["reason"] == f"m4 promoted for {MPNET} (dev span F1 0.4700)"


def test_each_base_keeps_its_own_promoted_tagger(tmp_path: Path) -> None:
    """A smaller base chosen for speed is judged against the taggers of its own base, never refused for scoring
    below a bigger one; the configured base decides which promoted tagger extraction serves."""
    assert promote_if_better(_fake_model(tmp_path, "tagger-mpnet", 0.57), tmp_path, min_f1=0.30)[0]
    ok, why = promote_if_better(_fake_model(tmp_path, "tagger-mini1", 0.51, MINILM), tmp_path, min_f1=0.30)
    assert ok, why
    assert promote_if_better(_fake_model(tmp_path, "tagger-mini2", 0.50, MINILM), tmp_path, min_f1=0.30)[1] == (
        "tagger-mini2 dev span F1 0.5000 is below the promoted tagger-mini1 (0.5100): not promoted")
    assert promoted_version(tmp_path, MPNET)["version"] == "tagger-mpnet"
    assert promoted_version(tmp_path, MINILM)["version"] == "tagger-mini1"
    assert promoted_tagger_key(tmp_path, MINILM) == f"tagger-mini1+{DECODING}"
    assert [f.name for f in trained_models(tmp_path, "tagger", MINILM)] == ["tagger-mini1", "tagger-mini2"]
    with pytest.raises(ValueError, match="unknown tagger base 'bert'"):
        promoted_version(tmp_path, "bert")


def test_a_promotion_file_from_before_bases_counts_for_its_models_base(tmp_path: Path) -> None:
    """Machines promoted one tagger before promotions were kept per base: that record keeps serving its base, and
    the next promotion keeps it beside the new one."""
    _fake_model(tmp_path, "tagger-old", 0.516, None)  # no base recorded: trained from MiniLM, the only base then
    (tmp_path / PROMOTED_FILE).write_text(json.dumps({"version": "tagger-old", "dev_f1": 0.516}))
    assert promoted_version(tmp_path, MINILM)["version"] == "tagger-old"
    assert promoted_version(tmp_path, MPNET) is None
    assert promote_if_better(_fake_model(tmp_path, "tagger-new", 0.573), tmp_path, min_f1=0.30)[0]
    assert promoted_version(tmp_path, MINILM)["version"] == "tagger-old"
    assert promoted_version(tmp_path, MPNET)["version"] == "tagger-new"



def test_switching_the_base_trains_and_serves_a_tagger_of_that_base(tmp_path: Path, monkeypatch, capsys) -> None:
    """`make setup` after SKILLMATCH_TAGGER_BASE changes: `train-tagger --if-missing` trains the new base even though
    a tagger of the other base is promoted, promotes it although it scores lower, and extraction serves it."""
    from skillmatch.cli import main
    from skillmatch.extraction.extract import SkillIndex

    models, data = tmp_path / "models", tmp_path / "skillspan"
    data.mkdir()
    _write_skillspan(data / "train.json", 32)
    _write_skillspan(data / "dev.json", 4)
    promote_if_better(_fake_model(models, "tagger-20261101T000000", 0.99), models, min_f1=0.30)
    monkeypatch.setenv("SKILLMATCH_MODEL_DIR", str(models))
    monkeypatch.setenv("SKILLMATCH_TAGGER_BASE", MINILM)
    args = ["train-tagger", "--if-missing", "--data", str(data), "--epochs", "1", "--gate", "0"]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["promoted"] is True, first
    trained = Path(first["model"])
    assert promoted_version(models, MINILM)["version"] == trained.name
    assert promoted_version(models, MPNET)["version"] == "tagger-20261101T000000"
    assert main(args) == 0  # now a tagger of this base exists: skipped
    assert json.loads(capsys.readouterr().out)["skipped"] == f"a tagger promoted from {MINILM} exists"
    index = SkillIndex(pd.DataFrame(columns=["skill_id", "preferred_label"]), load_settings())
    assert f":{trained.name}+{DECODING}:" in index.model_version  # read from the promotion, no model loaded
    assert index.tagger.version == trained.name


def test_tiny_training_run_writes_a_loadable_model_with_metrics(tmp_path: Path) -> None:
    train, dev = tmp_path / "train.json", tmp_path / "dev.json"
    _write_skillspan(train, 32)
    _write_skillspan(dev, 4)
    cfg = TrainConfig.for_base(MINILM, epochs=3, batch_size=8, head_lr=5e-3)
    folder = train_tagger(train, dev, tmp_path / "models", cfg, "cpu")
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["base_model"] == MINILM and meta["train"]["lr"] == 2e-4  # the MiniLM recipe, one value overridden
    assert meta["train"]["sentences"] + meta["train"]["holdout_sentences"] == 32
    assert meta["train"]["holdout_sentences"] > 0  # a tenth of the documents held out for epoch selection
    assert len(meta["history"]) == 3 and meta["dev"]["sentences"] == 4
    tagger = SpanTagger(folder, "cpu")
    text = "We need Python and teamwork skills ."
    spans = tagger.tag([text])[0]
    for a, b, typ, conf in spans:
        assert typ in {"skill", "knowledge"} and 0 < conf <= 1
        assert text[a:b] == text[a:b].strip() and b <= len(text)
    # the pattern is trivial, so even three epochs learn it
    assert meta["dev"]["all"]["f1"] >= 0.5, meta["dev"]


@pytest.fixture(scope="module")
def promoted() -> SpanTagger:
    settings = load_settings()
    tagger = load_promoted_tagger(settings.model_dir, settings.tagger_base, "cpu")
    if tagger is None:
        pytest.skip("no promoted span tagger under models/ (trained by `make setup` when the shared SkillSpan "
                    "data is present)")
    return tagger


def test_promoted_tagger_finds_skill_spans_in_real_sentences(promoted: SpanTagger) -> None:
    texts = ["You have strong experience with Python and SQL and can manage stakeholder relationships .",
             "Experience with Kubernetes , Docker and CI/CD pipelines is a plus ."]
    got = [{t[a:b] for a, b, _, _ in spans} for t, spans in zip(texts, promoted.tag(texts))]
    assert {"Python", "SQL"} <= got[0], got
    assert {"Kubernetes", "Docker"} <= got[1], got
    assert any("stakeholder" in s for s in got[0]), got


def test_promoted_tagger_meets_its_gate(promoted: SpanTagger) -> None:
    rec = promoted_version(load_settings().model_dir, load_settings().tagger_base)
    assert rec is not None and rec["version"] == promoted.version
    assert rec["dev_f1"] >= load_settings().tagger_gate_f1


def test_training_windows_cut_long_sentences_at_word_boundaries() -> None:
    from skillmatch.extraction.tagger import Example, training_windows

    e = Example(list("abcdefg"), {"skill": ["O", "B", "I", "I", "O", "B", "I"], "knowledge": ["O"] * 7}, "d")
    wins = training_windows(e, [1, 2, 2, 1, 1, 3, 1], max_length=6)  # sub-words per word; 2 go to [CLS]/[SEP]
    assert [w.tokens for w in wins] == [["a", "b"], ["c", "d", "e"], ["f", "g"]]
    # every word lands in exactly one window, and no window exceeds the budget
    assert sum((w.tokens for w in wins), []) == e.tokens
    # the span b-c-d cut after b restarts with B in the next window; the knowledge tags follow their words
    assert [w.tags["skill"] for w in wins] == [["O", "B"], ["B", "I", "O"], ["B", "I"]]
    assert all(w.doc == "d" and len(w.tags["knowledge"]) == len(w.tokens) for w in wins)
    # a short sentence stays whole
    assert [w.tokens for w in training_windows(e, [1] * 7, max_length=64)] == [e.tokens]


def test_promoted_tagger_in_bf16_tags_real_postings_as_in_fp32(promoted: SpanTagger, monkeypatch) -> None:
    """bf16 autocast (the CPU default where the hardware has it) against fp32 on 200 real posting sentences: the
    same spans in nearly every sentence (198 of 200 when measured) and confidences within bf16 rounding."""
    import pandas as pd

    from skillmatch.extraction.encoder import split_sentences
    from tests.conftest import SHARED_DATA

    csv = SHARED_DATA / "postings" / "linkedin-2023-24-sample" / "postings_sample.csv"
    if not csv.is_file():
        pytest.skip(f"real postings not found at {csv} (set SKILLMATCH_SHARED_DIR)")
    texts = []
    for doc in pd.read_csv(csv, usecols=["description"])["description"].dropna():
        texts += [doc[a:b] for a, b in split_sentences(doc) if b - a >= 30]
        if len(texts) >= 200:
            break
    texts = texts[:200]
    monkeypatch.setenv("SKILLMATCH_CPU_PRECISION", "fp32")
    full = promoted.tag(texts)
    monkeypatch.setenv("SKILLMATCH_CPU_PRECISION", "bf16")
    half = promoted.tag(texts)
    assert sum(map(len, full)) > 150  # the sentences carry spans to compare
    same = [{sp[:3] for sp in a} == {sp[:3] for sp in b} for a, b in zip(full, half)]
    assert sum(same) >= 194, [t for t, ok in zip(texts, same) if not ok]
    conf = [(a[3], b[3]) for fa, ha in zip(full, half) for a in fa for b in ha if a[:3] == b[:3]]
    diff = np.abs(np.subtract(*zip(*conf)))
    assert 0 < diff.max() < 0.05, diff.max()  # bf16 ran, and moved the confidences only by rounding


def test_teacher_tags_become_bio_examples_over_extractions_words() -> None:
    class Teacher:  # the teacher's interface: spans (first word, end word, type, confidence) per word list
        def tag_words(self, words: list[list[str]]) -> list[list[tuple[int, int, str, float]]]:
            return [[(2, 3, "knowledge", 0.9), (4, 6, "skill", 0.8)] for _ in words]

    (ex,) = teacher_examples(Teacher(), ["We need Python and teamwork skills."])
    assert ex.tokens == ["We", "need", "Python", "and", "teamwork", "skills", "."] and ex.doc == "teacher:0"
    assert ex.tags == {"skill": ["O", "O", "O", "O", "B", "I", "O"], "knowledge": ["O", "O", "B", "O", "O", "O", "O"]}
    (cut,) = teacher_examples(Teacher(), ["a b c d e f g h"], max_words=5)
    assert cut.tokens == list("abcde") and cut.tags["skill"] == ["O", "O", "O", "O", "B"]


def test_a_student_trains_on_the_promoted_teachers_tags_of_posting_sentences(tmp_path: Path, monkeypatch) -> None:
    """Distillation: the tagger promoted from the teacher's base tags posting sentences from silver; they join the
    student's training side only (the held-out tenth stays SkillSpan's), and the student's meta names its teacher."""
    from skillmatch.extraction.tagger import train_and_promote
    from skillmatch.lake import write_parquet_atomic

    monkeypatch.setenv("SKILLMATCH_DATA_DIR", str(tmp_path / "lake"))
    monkeypatch.setenv("SKILLMATCH_MODEL_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("SKILLMATCH_DEVICE", "cpu")
    settings = load_settings()
    data = tmp_path / "skillspan"
    data.mkdir()
    _write_skillspan(data / "train.json", 32)
    _write_skillspan(data / "dev.json", 4)
    with pytest.raises(FileNotFoundError, match=f"no tagger promoted from {MPNET}"):
        train_and_promote(settings, data, TrainConfig.for_base(MINILM, epochs=1), 0.0, teacher_base=MPNET)
    teacher = train_tagger(data / "train.json", data / "dev.json", settings.model_dir,
                           TrainConfig.for_base(MINILM, epochs=3, batch_size=8, head_lr=5e-3), "cpu")
    assert promote_if_better(teacher, settings.model_dir, 0.0)[0]
    texts = ["We need Python and teamwork skills. You will use Python every day.\nShort line.",
             "We need Python and teamwork skills. Knowledge of SQL and Excel is a plus."]
    write_parquet_atomic(pd.DataFrame({"posting_id": ["p1", "p2"], "text": texts}),
                         settings.lake("silver", "postings.parquet"))
    out = train_and_promote(settings, data, TrainConfig.for_base(MINILM, epochs=1, batch_size=8), 0.0,
                            teacher_base=MINILM, teacher_sentences=10)
    meta = json.loads((Path(out["model"]) / "meta.json").read_text())
    student, teacher_meta = meta["train"], json.loads((teacher / "meta.json").read_text())["train"]
    # three distinct sentences of at least 4 words (the repeated one and "Short line." are not taught)
    assert (student["teacher"], student["teacher_sentences"], student["teacher_examples"]) == (teacher.name, 3, 3)
    assert student["holdout_sentences"] == teacher_meta["holdout_sentences"]
    assert student["sentences"] == teacher_meta["sentences"] + 3 and student["windows"] == teacher_meta["windows"] + 3


def test_a_configured_teacher_is_trained_first_when_none_is_promoted(tmp_path: Path, monkeypatch) -> None:
    """SKILLMATCH_TAGGER_TEACHER makes the unattended paths (make setup, the weekly DAG) distil: with no tagger
    promoted from the teacher's base, the teacher is trained and gated first, then teaches the student; once it
    exists, the next run reuses it. A teacher that is not a tagger base is a clear error."""
    from skillmatch.extraction.tagger import promotions, train_and_promote, trained_models
    from skillmatch.lake import write_parquet_atomic

    monkeypatch.setenv("SKILLMATCH_DATA_DIR", str(tmp_path / "lake"))
    monkeypatch.setenv("SKILLMATCH_MODEL_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("SKILLMATCH_DEVICE", "cpu")
    monkeypatch.setenv("SKILLMATCH_TAGGER_BASE", MINILM)
    monkeypatch.setenv("SKILLMATCH_TAGGER_TEACHER", "bert-base")
    data = tmp_path / "skillspan"
    data.mkdir()
    _write_skillspan(data / "train.json", 32)
    _write_skillspan(data / "dev.json", 4)
    with pytest.raises(ValueError, match=r"unknown tagger base 'bert-base' \(SKILLMATCH_TAGGER_TEACHER\)"):
        train_and_promote(load_settings(), data, gate=0.0)
    assert not (tmp_path / "models").exists() or trained_models(tmp_path / "models", "tagger") == []
    monkeypatch.setenv("SKILLMATCH_TAGGER_TEACHER", MINILM)  # self-training: the teacher shares the student's base
    settings = load_settings()
    assert settings.tagger_teacher == MINILM
    write_parquet_atomic(pd.DataFrame({"posting_id": ["p1"], "text": [
        "We need Python and teamwork skills. Knowledge of SQL and Excel is a plus."]}),
        settings.lake("silver", "postings.parquet"))
    student_cfg = TrainConfig.for_base(MINILM, epochs=1, batch_size=8)
    out = train_and_promote(settings, data, student_cfg, 0.0, teacher_sentences=10)
    first, student = trained_models(settings.model_dir, "tagger")
    assert Path(out["model"]) == student
    meta = json.loads((student / "meta.json").read_text())["train"]
    assert (meta["teacher"], meta["teacher_examples"]) == (first.name, 2)
    assert json.loads((first / "meta.json").read_text())["train"]["teacher"] is None  # the teacher learnt alone
    assert promotions(settings.model_dir)[MINILM]["version"] in {first.name, student.name}
    teacher = promotions(settings.model_dir)[MINILM]["version"]
    again = train_and_promote(settings, data, student_cfg, 0.0, teacher_sentences=10)  # a teacher exists: no retrain
    assert len(trained_models(settings.model_dir, "tagger")) == 3
    assert json.loads((Path(again["model"]) / "meta.json").read_text())["train"]["teacher"] == teacher
