"""CPU latency as `make bench` measures it: interleaved timed runs, ONNX Runtime threads that sleep when idle."""

from __future__ import annotations

import platform
import statistics
import time

import torch


def summary(times: list[float]) -> tuple[float, float]:
    """Median and interquartile range."""
    q1, _, q3 = statistics.quantiles(times, n=4)
    return statistics.median(times), q3 - q1


def ort_options(threads: int):
    """ONNX Runtime session options for interleaved timing on `threads` threads."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    # Interleaved timing needs idle threads to sleep: a spinning session (ONNX Runtime's default) keeps the CPU busy
    # after its run and steals it from the next model's (docs/benchmarks.md).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def time_interleaved(runners: list[dict], warmup: int, runs: int) -> list[dict[str, list[float]]]:
    """Time every runner of every model, one run each per round, so that drift in machine load hits all alike."""
    times = [{key: [] for key in model} for model in runners]
    with torch.inference_mode():
        for model in runners:
            for run in model.values():
                for _ in range(warmup):
                    run()
        for round_ in range(runs):
            for model, model_times in zip(runners, times):
                for key, run in model.items():
                    start = time.perf_counter()
                    run()
                    model_times[key].append((time.perf_counter() - start) * 1000)
            if (round_ + 1) % 10 == 0:
                print(f"    timed round {round_ + 1}/{runs}", flush=True)
    return times


def machine(threads: int) -> str:
    import onnxruntime
    import ultralytics

    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (
        f"{cpu}, {threads} threads; Python {platform.python_version()}, torch {torch.__version__}, "
        f"onnxruntime {onnxruntime.__version__}, ultralytics {ultralytics.__version__}"
    )
