"""A short chaos run (scripts/chaos with fewer faults): two chatd instances on a PostgreSQL of
their own with push on, users sending with retries and subscribers resuming, while one chatd
is killed with SIGKILL, PostgreSQL is restarted (fast and immediate), subscriber connections
are cut and OneSignal answers 500. Nothing acknowledged may be lost or stored twice, every
subscriber must see exactly its room's sequence, every push goes out under one key, and
chatd's feed watchdog must have found nothing to repair."""

import sys

from chatd_interop.server import REPO_ROOT, chatd_binary

sys.path.insert(0, str(REPO_ROOT / "Benchmarks" / "Chaos"))

import chaos  # noqa: E402


def test_faults_under_load_lose_and_repeat_nothing(tmp_path):
    report = tmp_path / "chaos.json"
    run = chaos.Run(chaos.parse([
        "--binary", str(chatd_binary()), "--faults", "kill,pg-fast,cut,push-500,pg-immediate",
        "--duration", "1", "--gap", "3", "--outage", "4", "--warmup", "2",
        "--pause", "0.3", "--drain", "90", "--report", str(report)]))
    assert run.run() == 0, f"violations: {run.violations}"
    assert run.acknowledged > 0 and run.lost == [] and run.duplicated == {}
    assert run.subscriber_ok == len(run.subscribers)
    assert run.stalls == [], "chatd's feed watchdog found feeds silent while behind"
    assert run.resumes > 0, "the faults ended some streams"
    assert run.push_expected > 0 and run.push_keys >= run.push_expected
    assert [f.name for f in run.faults] == ["kill", "pg-fast", "cut", "push-500", "pg-immediate"]
