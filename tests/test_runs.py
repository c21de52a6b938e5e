"""`make solution` run twice leaves one tensorboard event file per log folder (issue 21): the second
run replaces the curves of the first instead of adding to them."""
import time
from pathlib import Path

from coursekit import solution


def test_rerun_replaces_tensorboard_events(tmp_path, monkeypatch):
    from torch.utils.tensorboard import SummaryWriter

    def fake_execute(source, output, cwd, progress_bar, parameters):
        run_dir = Path(parameters["RUN_DIR"]) / parameters["PROFILE"]
        for folder in ("pretrain", "finetune"):
            with SummaryWriter(run_dir / folder) as writer:
                writer.add_scalar("train/loss", 1.0, global_step=0)
        (run_dir / "pretrained_weights.pt").write_bytes(b"weights")
        time.sleep(1.1)  # event file names carry the time in seconds

    monkeypatch.setattr(solution, "ensure_data", lambda: solution.DATA_FILE)
    monkeypatch.setattr(solution.papermill, "execute_notebook", fake_execute)
    other = tmp_path / "runs" / "full" / "pretrain"
    with SummaryWriter(other) as writer:  # another profile's logs are left alone
        writer.add_scalar("train/loss", 1.0, global_step=0)
    for _ in range(2):
        solution.run_solution(tmp_path / "out.ipynb", tmp_path / "runs", tmp_path / "p.csv", "smoke")
    for folder in ("pretrain", "finetune"):
        assert len(list((tmp_path / "runs" / "smoke" / folder).glob("events.out.tfevents.*"))) == 1, folder
    assert len(list(other.glob("events.out.tfevents.*"))) == 1
    assert (tmp_path / "runs" / "smoke" / "pretrained_weights.pt").exists()
