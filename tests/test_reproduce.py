import pandas as pd

from twostep.bench import run_bench
from twostep.reproduce import reproduce


def test_reproduce_writes_figures_and_a_table_beside_the_published_values(tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text("name: tiny\ntrain: {seeds: 2, episodes: 8, batch_size: 4, eval_episodes: 3}\n")
    summary = reproduce(tmp_path / "results", device="cpu", experiments=[str(config)],
                        runs_root=tmp_path / "runs", progress=False)
    assert list(summary["condition"]) == ["rewarded_common", "rewarded_uncommon",
                                          "unrewarded_common", "unrewarded_uncommon"]
    assert summary["published"].tolist() == [0.99, 0.63, 0.61, 0.99]
    written = pd.read_csv(tmp_path / "results" / "summary.csv")
    assert (written["difference"] - (written["mean"] - written["published"])).abs().max() < 1e-12
    assert (tmp_path / "results" / "tiny_all_vs_previous.png").is_file()
    # a second call loads the finished run instead of training again
    again = reproduce(tmp_path / "results", device="cpu", experiments=[str(config)],
                      runs_root=tmp_path / "runs", progress=False)
    pd.testing.assert_frame_equal(summary, again)


def test_bench_reports_a_ratio_against_the_naive_loop(capsys):
    rows = run_bench(updates=1, naive_episodes=1, experiments=("wang2018",))
    assert rows[0]["trainer"] == "naive" and rows[0]["ratio"] == 1.0
    assert rows[1]["steps_per_s"] > 0
    assert "x naive" in capsys.readouterr().out
