"""Run the solution notebook end to end (papermill) with either profile, as `make solution` does;
ensure_data builds the data if it is missing; grader_scores scores the predictions like the grader."""
import json
import subprocess
import sys
from pathlib import Path

import papermill

from coursekit import ROOT, SOLUTION_NB
from coursekit import answer_key

# One student data file for both notebook profiles (smoke subsamples it in the notebook); the
# answer key next to it in data/answer_key/ is the instructor's only.
DATA_FILE = ROOT / "data" / "task3_data.csv"
ANSWER_KEY = answer_key.DEFAULT_KEY
PROFILES = ("smoke", "full")


def ensure_data():
    """Build the dataset (student's file + answer key) if either is missing; return the student's
    file (every notebook profile reads it)."""
    if not (DATA_FILE.exists() and ANSWER_KEY.exists()):
        subprocess.run([sys.executable, str(ROOT / "data" / "build_dataset.py"), "--profile", "full",
                        "--no-stats"], check=True, stdout=subprocess.DEVNULL)
    return DATA_FILE


def clear_event_files(folder):
    """Delete the tensorboard event files under `folder` (any depth); returns how many. A rerun then
    replaces the curves instead of adding a second event file that tensorboard draws as well."""
    old = sorted(Path(folder).rglob("events.out.tfevents.*")) if Path(folder).is_dir() else []
    for path in old:
        path.unlink()
    return len(old)


def run_solution(output_nb, run_dir, predictions_path, profile="smoke"):
    """Execute the solution notebook; returns the executed notebook path. The tensorboard logs of
    the previous run of this profile (run_dir/<profile>/...) are deleted first: a rerun replaces them."""
    ensure_data()
    clear_event_files(Path(run_dir) / profile)
    papermill.execute_notebook(
        str(SOLUTION_NB), str(output_nb), cwd=str(SOLUTION_NB.parent), progress_bar=False,
        parameters={"PROFILE": profile, "RUN_DIR": str(run_dir), "PREDICTIONS_PATH": str(predictions_path)},
    )
    return output_nb


def grader_scores(run_dir, predictions_path, profile):
    """The grader's test F1 of the run (with and without pretraining), added to results.json."""
    results_path = run_dir / profile / "results.json"
    results = json.loads(results_path.read_text())
    for name, path in (("test", predictions_path), ("scratch_test", run_dir / profile / "test_predictions_scratch.csv")):
        if path.exists():
            scored = answer_key.score(path, ANSWER_KEY)
            results[f"{name}_f1_weighted"] = scored["f1_weighted"]
            results[f"{name}_points"] = scored["points"]
    results_path.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    return results


def main():
    import argparse
    parser = argparse.ArgumentParser(description="Execute the solution notebook into build/.")
    parser.add_argument("--profile", choices=PROFILES, default="smoke")
    args = parser.parse_args()
    build = ROOT / "build"
    build.mkdir(exist_ok=True)
    predictions = build / f"test_predictions.{args.profile}.csv"
    output = run_solution(build / f"task3_bert.{args.profile}.ipynb", build / "runs", predictions, args.profile)
    print(f"executed notebook: {output}")
    print(json.dumps(grader_scores(build / "runs", predictions, args.profile), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
