"""
### skillmatch · train the sentence linker
Fine-tunes the query side of the skill linker (the MiniLM bi-encoder that ranks taxonomy concepts for a sentence)
contrastively on real job-ad language: SkillSpan train sentences and shared-posting sentences, each with the
concepts the alias matcher links in it with certainty, scored against every concept of the taxonomy. Scores it on
the Decorte validation sets and a held-out tenth of the documents and **promotes it only if it passes the gate**
(on the Decorte validation sets: RP@5 no lower than the packaged encoder's, MRR above it by
`SKILLMATCH_LINKER_GATE_MARGIN`; against the promoted linker, scored again on the same sentences: MRR no lower,
RP@5 not lower beyond the sentences' noise). `rank-skills` loads the promoted
linker, never a worse one. Weekly (Sunday 04:00, after the tagger) or
triggered by hand; runs on the `gpu` pool and queue, and on CPU when the worker has no GPU.
"""
from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, task

from skillmatch.orchestration import DEFAULT_ARGS, GPU_TASK, TAGS, run_stage


@dag(dag_id="skillmatch_train_linker", schedule="0 4 * * 0", start_date=datetime(2026, 1, 1), catchup=False,
     max_active_runs=1, default_args=DEFAULT_ARGS, tags=[*TAGS, "extraction", "training", "gpu"], doc_md=__doc__)
def skillmatch_train_linker() -> None:
    @task(**GPU_TASK)
    def train_and_gate() -> dict:
        return run_stage("train_linker", "weekly")

    train_and_gate()


skillmatch_train_linker()
