"""coursekit.late: the penalty rule, the setting read from nbgrader_config.py, a bad deadline."""
import pytest

from coursekit import late


def test_penalty_per_started_day_capped():
    policy = late.LatePenalty(per_day=0.1, cap=0.5)
    assert policy.late_submission_penalty("s", 8.0, 0) is None
    assert policy.late_submission_penalty("s", 8.0, 1) == pytest.approx(0.8)          # one second: a started day
    assert policy.late_submission_penalty("s", 8.0, late.DAY) == pytest.approx(0.8)
    assert policy.late_submission_penalty("s", 8.0, late.DAY + 1) == pytest.approx(1.6)
    assert policy.late_submission_penalty("s", 8.0, 30 * late.DAY) == pytest.approx(4.0)  # the cap


def test_setting_comes_from_nbgrader_config():
    from nbgrader.utils import parse_utc
    policy = late.settings()
    assert policy.duedate and parse_utc(policy.duedate) is not None
    assert 0 < policy.per_day <= policy.cap <= 1


def test_bad_deadline_is_a_clear_message(tmp_path):
    with pytest.raises(SystemExit, match="не разобран"):
        late.set_duedate(tmp_path / "gb.db", late.LatePenalty(duedate="в пятницу"))
