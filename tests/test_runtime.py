from medlearn.runtime import print_runtime_report, runtime_report


def test_report_on_this_cpu_machine_warns_about_the_tiny_path(capsys):
    report = runtime_report()
    assert report["device"] == "cpu"
    assert report["versions"]["unsloth"] == "2026.10.9"
    assert any("tiny model" in warning for warning in report["warnings"])
    print_runtime_report(report)
    assert "GPU: none" in capsys.readouterr().out


def test_small_gpu_and_no_bf16_get_plain_warnings(monkeypatch):
    import medlearn.runtime as runtime

    monkeypatch.setattr(runtime, "gpu_facts", lambda: {
        "gpu_name": "Tesla T4", "gpu_memory_gb": 14.7, "compute_capability": "7.5",
        "bf16_supported": False})
    report = runtime.runtime_report()
    assert report["device"] == "cuda"
    assert any("no bf16" in warning for warning in report["warnings"])
    assert not any("tiny model" in warning for warning in report["warnings"])
