#!/bin/bash
# Grade the class on Slurm: N array tasks (one shard each), then the merge after all of them.
#   cluster/slurm/submit_grading.sh N [sbatch options for both jobs, e.g. -p cpu -t 2:00:00 -A proj]
# Environment: COURSE, SHARDS_DIR, GRADING_ARGS, PYTHON, WORKERS as in grade.sbatch; SBATCH_* as sbatch reads them.
set -euo pipefail
N=${1:?"использование: cluster/slurm/submit_grading.sh N [опции sbatch] — N, число шардов (задач массива)"}
[[ $N =~ ^[1-9][0-9]*$ ]] || { echo "submit_grading.sh: N=$N — ожидалось целое число шардов >= 1" >&2; exit 2; }
shift
REPO=$(cd "$(dirname "$0")/../.." && pwd)
export REPO SHARDS=$N COURSE=${COURSE:-$REPO}
export SHARDS_DIR=${SHARDS_DIR:-$COURSE/build/shards}
mkdir -p "$SHARDS_DIR"
ARRAY=$(sbatch --parsable --chdir="$REPO" --array=0-$((N - 1)) --output="$SHARDS_DIR/slurm-%A_%a.out" "$@" \
        "$REPO/cluster/slurm/grade.sbatch")
ARRAY=${ARRAY%%;*}
MERGE=$(sbatch --parsable --chdir="$REPO" --dependency=afterok:"$ARRAY" --kill-on-invalid-dep=yes \
        --output="$SHARDS_DIR/slurm-merge-%j.out" "$@" "$REPO/cluster/slurm/merge.sbatch")
MERGE=${MERGE%%;*}
echo "array=$ARRAY merge=$MERGE"
cat <<INFO
шарды: задачи ${ARRAY}_0..${ARRAY}_$((N - 1)) -> $SHARDS_DIR/<i>; слияние: задача $MERGE (после всех шардов)
следить:  squeue -j $ARRAY,$MERGE
итог:     sacct -j $ARRAY,$MERGE --format=JobID,State,Elapsed,NodeList,ExitCode
журналы:  $SHARDS_DIR/slurm-${ARRAY}_<i>.out, $SHARDS_DIR/slurm-merge-$MERGE.out
если шард упал, слияние отменится само (--kill-on-invalid-dep); тогда:
  cd $REPO && SHARDS=$N COURSE=$COURSE SHARDS_DIR=$SHARDS_DIR $REPO/cluster/slurm/merge.sbatch
  назовёт недостающие шарды и напечатает команду, которая их перепроверит
INFO
