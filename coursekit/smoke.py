"""Run the solution notebook end to end (papermill), as `make solution` does."""
import subprocess
import sys

import papermill

from coursekit import ROOT, SOLUTION_NB

DATA_FILES = {"smoke": ROOT / "data" / "task3_data_smoke.csv", "full": ROOT / "data" / "task3_data.csv"}


def ensure_data(profile="smoke"):
    """Build the profile's dataset if it is not there yet; return its path."""
    path = DATA_FILES[profile]
    if not path.exists():
        subprocess.run([sys.executable, str(ROOT / "data" / "build_dataset.py"), "--profile", profile],
                       check=True, stdout=subprocess.DEVNULL)
    return path


def run_solution(output_nb, run_dir, predictions_path, profile="smoke"):
    """Execute the solution notebook; returns the executed notebook path."""
    ensure_data(profile)
    papermill.execute_notebook(
        str(SOLUTION_NB), str(output_nb), cwd=str(SOLUTION_NB.parent), progress_bar=False,
        parameters={"PROFILE": profile, "RUN_DIR": str(run_dir), "PREDICTIONS_PATH": str(predictions_path)},
    )
    return output_nb


def main():
    import argparse
    parser = argparse.ArgumentParser(description="Execute the solution notebook into build/.")
    parser.add_argument("--profile", choices=sorted(DATA_FILES), default="smoke")
    args = parser.parse_args()
    build = ROOT / "build"
    build.mkdir(exist_ok=True)
    output = run_solution(build / f"task3_bert.{args.profile}.ipynb", build / "runs",
                          build / f"test_predictions.{args.profile}.csv", args.profile)
    print(f"executed notebook: {output}")
    print((build / "runs" / args.profile / "results.json").read_text())


if __name__ == "__main__":
    main()
