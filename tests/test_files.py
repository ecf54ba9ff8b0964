"""The file layer: atomic writes reach the disk before they replace anything."""

import os

import pytest

from twostep.files import write


def test_an_atomic_write_is_flushed_to_the_disk_before_it_replaces_the_file(tmp_path, monkeypatch):
    calls = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(descriptor):
        calls.append(("fsync", os.path.basename(os.readlink(f"/proc/self/fd/{descriptor}"))))
        real_fsync(descriptor)

    def replace(source, target):
        calls.append(("replace", os.path.basename(target)))
        real_replace(source, target)

    monkeypatch.setattr(write.os, "fsync", fsync)
    monkeypatch.setattr(write.os, "replace", replace)
    target = tmp_path / "checkpoint.pt"
    write.write_text(target, "new")
    assert target.read_text() == "new"
    kinds = [kind for kind, _ in calls]
    assert kinds[:2] == ["fsync", "replace"]  # the data first, then the rename
    assert calls[0][1].startswith(".checkpoint.") and calls[0][1].endswith(".tmp.pt")
    assert calls[2:] == [("fsync", tmp_path.name)]  # then the folder, where the system allows


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path):
    target = tmp_path / "metrics.csv"
    target.write_text("old")

    def broken(path):
        path.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write.atomic_write(target, broken)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.csv"]
