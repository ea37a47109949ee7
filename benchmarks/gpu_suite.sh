#!/usr/bin/env bash
# The GPU figures of benchmarks/RESULTS.md, in one call of a lent GPU machine (which reaches no network and
# does not see ../shared): the match engine side by side with torch.mm, span-tagger training, extraction
# throughput stage by stage, and the reference scorer's quality on the GPU.
#
#   bash benchmarks/gpu_suite.sh pack    # here: fills .gpu/ (git-ignored, ~55 MB) with what the run reads
#   bash benchmarks/gpu_suite.sh run     # there, from the repo root: logs and tables go to $OUT (default .gpu/out)
#
# .gpu/ holds: the MiniLM weights stored as fp16 (restored to fp32 there; the carry limit is 64 MiB), the
# taxonomy's dim_skill, the skill frequencies the match benchmark draws from, the SkillSpan / Decorte dev sets
# and the reference scorer (read from ../shared, never committed), posting sentences and postings, and the
# pyahocorasick wheel for the machine's Python. SMALL=1 runs every step at toy sizes (a dry run on a CPU); STEPS
# names the steps to run (match_speed match_profile train_tagger extraction_throughput eval_extraction).
set -uo pipefail
cd "$(dirname "$0")/.."
G=.gpu
PY=${PY:-python3}

pack() {
  local venv=.venv/bin/python shared=../shared
  rm -rf "$G" && mkdir -p "$G"/lake/taxonomy "$G"/lake/gold "$G"/eval "$G"/whl "$G"/bench
  grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
  $venv - <<'EOF'
import shutil
from pathlib import Path

import pandas as pd
from safetensors.torch import load_file, save_file

from skillmatch.extraction.encoder import model_path

src, dst = model_path(), Path(".gpu/minilm")
shutil.copytree(src, dst, ignore=shutil.ignore_patterns("model.safetensors", "README.md", "data_config.json"))
save_file({k: v.half().contiguous() for k, v in load_file(str(src / "model.safetensors")).items()},
          str(dst / "model.safetensors"))
shutil.copy("data/taxonomy/dim_skill.parquet", ".gpu/lake/taxonomy/dim_skill.parquet")
for f in ("fact_posting_skill", "fact_candidate_skill"):  # the match benchmark's skill law
    pd.read_parquet(f"data/gold/{f}.parquet", columns=["doc_id", "skill_id"]).to_parquet(f".gpu/lake/gold/{f}.parquet")
EOF
  cp -r "$shared"/data/eval/decorte "$shared"/data/eval/skillspan "$G"/eval/
  cp "$shared"/tools/eval_extraction.py "$G"/
  $venv benchmarks/extraction_throughput.py --prepare "$G"/bench --n-sentences 100000 --n-docs 4000
  gzip -9 "$G"/bench/*
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d "$G"/whl "pyahocorasick==$(grep -i '^pyahocorasick==' constraints.txt | cut -d= -f3)"
  du -sh "$G"
}

step() {  # step NAME SECONDS CMD...: run with a time limit, log to $OUT/NAME.log, never stop the suite
  local name=$1 limit=$2
  shift 2
  echo "== $name ($(date -u +%H:%M:%S), limit ${limit}s)"
  local t0=$SECONDS
  timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
  echo "== $name rc=$? in $((SECONDS - t0))s"
}

want() {  # want STEP: STEPS (space-separated) names the steps to run; all when unset
  [ -z "${STEPS:-}" ] || [[ " $STEPS " == *" $1 "* ]]
}

run() {
  OUT=${OUT:-$G/out}
  mkdir -p "$OUT"
  if [ -z "${SMALL:-}" ]; then
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site "$G"/whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site:$PWD/include
  else
    export PYTHONPATH=$PWD/include
  fi
  local work=/tmp/skillmatch-gpu
  rm -rf "$work" && mkdir -p "$work"/models "$work"/bench
  $PY - "$work" <<'EOF'
import shutil, sys
from pathlib import Path

from safetensors.torch import load_file, save_file

dst = Path(sys.argv[1]) / "minilm"
shutil.copytree(".gpu/minilm", dst)
save_file({k: v.float().contiguous() for k, v in load_file(str(dst / "model.safetensors")).items()},
          str(dst / "model.safetensors"))
EOF
  gunzip -c "$G"/bench/sentences.txt.gz > "$work"/bench/sentences.txt
  gunzip -c "$G"/bench/postings.jsonl.gz > "$work"/bench/postings.jsonl
  export SKILLMATCH_ENCODER_PATH=$work/minilm SKILLMATCH_MODEL_DIR=$work/models SKILLMATCH_DATA_DIR=$PWD/$G/lake
  export SKILLMATCH_DEVICE=${DEVICE:-cuda} PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
  (nvidia-smi -L; $PY -c "import torch, transformers, pandas; print(torch.__version__, transformers.__version__,
pandas.__version__, torch.cuda.is_available())") 2>&1 | tee "$OUT/env.log"
  local sizes="10000 100000" nsent=100000 npath=10000 ndocs=500 limit_train="" bs="256 1024"
  if [ -n "${SMALL:-}" ]; then  # a CPU dry run: reuse this machine's label embeddings (minutes to build on a CPU)
    sizes="2000"; nsent=400; npath=200; ndocs=12; limit_train="--limit 200 --epochs 1"; bs="128"
    cp -r models/cache "$work"/models/
  fi
  want match_speed && step match_speed 200 $PY benchmarks/match_speed.py --device "$SKILLMATCH_DEVICE" \
    --sizes $sizes --skip-baseline-above 1 --data-dir "$G"/lake
  want match_profile && MATCH_PROFILE=$OUT/match_profile step match_profile 60 $PY benchmarks/match_speed.py \
    --device "$SKILLMATCH_DEVICE" --sizes ${sizes##* } --systems torch.mm ours --data-dir "$G"/lake
  want train_tagger && step train_tagger 90 $PY -c "import sys; from skillmatch.cli import main; sys.exit(main())" \
    train-tagger --data "$G"/eval/skillspan --gate 0 $limit_train
  cp "$work"/models/tagger-*/meta.json "$OUT"/tagger_meta.json 2>/dev/null
  want extraction_throughput && step extraction_throughput 200 $PY benchmarks/extraction_throughput.py \
    --device "$SKILLMATCH_DEVICE" --sentences "$work"/bench/sentences.txt --docs "$work"/bench/postings.jsonl \
    --n-sentences $nsent --n-path-sentences $npath --n-docs $ndocs --batch-sizes $bs \
    --json "$OUT"/extraction_throughput.json
  if want eval_extraction && [ -z "${SMALL:-}" ] && [ ! -e .venv/bin/skillmatch ]; then
    mkdir -p .venv/bin  # the reference scorer runs .venv/bin/skillmatch from the repo root
    printf '#!/bin/sh\nexec %s -c "import sys; from skillmatch.cli import main; sys.exit(main())" "$@"\n' \
      "$(command -v $PY)" > .venv/bin/skillmatch && chmod +x .venv/bin/skillmatch
    step eval_extraction 100 $PY "$G"/eval_extraction.py "$G"/eval
  fi
  for f in "$OUT"/*.log; do echo "---- $f"; tail -n 25 "$f"; done
}

case "${1:-}" in
  pack) pack ;;
  run) run ;;
  *) echo "usage: bash benchmarks/gpu_suite.sh pack|run" >&2; exit 2 ;;
esac
