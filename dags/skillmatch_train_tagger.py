"""
### skillmatch · train the span tagger
Fine-tunes the skill/knowledge span tagger (a token classifier from `SKILLMATCH_TAGGER_BASE`, all-mpnet-base-v2 by
default) on the SkillSpan train split, scores it on the dev split and **promotes it only if it passes the
evaluation gate** (dev span F1 at least `SKILLMATCH_TAGGER_GATE_F1` and no worse than the model promoted from the
same base). Extraction always loads the model promoted from the configured base, never a worse one.

With `SKILLMATCH_TAGGER_TEACHER` set, the tagger promoted from that base first tags 8,000 posting sentences and the
new tagger learns from them too: all-mpnet-base-v2 teaching a MiniLM deployment (distillation), or the mpnet tagger
teaching the next mpnet tagger (self-training, SkillSpan dev span F1 0.573 -> 0.603). A teacher not promoted yet is
trained first.

Weekly (Sunday 03:00) or triggered by hand; runs on the `gpu` pool and queue, and on CPU when the worker has no GPU
(about 25 minutes on two bf16-capable cores, about 75 with a teacher).
"""
from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, task

from skillmatch.orchestration import DEFAULT_ARGS, GPU_TASK, TAGS, run_stage


@dag(dag_id="skillmatch_train_tagger", schedule="0 3 * * 0", start_date=datetime(2026, 1, 1), catchup=False,
     max_active_runs=1, default_args=DEFAULT_ARGS, tags=[*TAGS, "extraction", "training", "gpu"], doc_md=__doc__)
def skillmatch_train_tagger() -> None:
    @task(**GPU_TASK)
    def train_and_gate() -> dict:
        return run_stage("train_tagger", "weekly")

    train_and_gate()


skillmatch_train_tagger()
