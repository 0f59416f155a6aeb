#!/usr/bin/python3
"""Checks two consecutive /metrics/resource scrapes the way metrics-server reads them.

Parses each with the Prometheus text parser of python prometheus-client and applies metrics-server's
rules (pkg/scraper/client/resource/decode.go, pkg/storage): the node and container series it uses are
present, every point carries a timestamp, no container has a zero CPU or memory point (that drops the
whole pod), start times are positive, and the node's CPU timestamp advances between the scrapes.
Usage: resource-metrics.py FIRST SECOND [NAMESPACE/POD/CONTAINER ...]   (exit 1 with the reasons)
"""
import sys
from prometheus_client.parser import text_string_to_metric_families

USED = ["node_cpu_usage_seconds_total", "node_memory_working_set_bytes", "container_cpu_usage_seconds_total",
        "container_memory_working_set_bytes", "container_start_time_seconds"]


def parse(path):
    with open(path) as f:
        text = f.read()
    series = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            series.setdefault(s.name, []).append(s)
    return series


def check(series, problems, label):
    for name in USED:
        if name not in series:
            problems.append(f"{label}: {name} missing")
    for s in series.get("node_cpu_usage_seconds_total", []) + series.get("node_memory_working_set_bytes", []):
        if s.timestamp is None or s.value <= 0:
            problems.append(f"{label}: node point {s.name} = {s.value} at {s.timestamp}")
    for name in ["container_cpu_usage_seconds_total", "container_memory_working_set_bytes"]:
        for s in series.get(name, []):
            if s.value == 0:
                problems.append(f"{label}: zero point {name}{s.labels}")
            if s.timestamp is None:
                problems.append(f"{label}: no timestamp on {name}{s.labels}")
            for key in ["container", "pod", "namespace"]:
                if not s.labels.get(key):
                    problems.append(f"{label}: {name} without {key}: {s.labels}")
    for s in series.get("container_start_time_seconds", []):
        if s.value <= 0:
            problems.append(f"{label}: start time {s.value} for {s.labels}")


def main():
    first, second = parse(sys.argv[1]), parse(sys.argv[2])
    problems = []
    check(first, problems, "first scrape")
    check(second, problems, "second scrape")
    for want in sys.argv[3:]:
        ns, pod, container = want.split("/")
        for name in ["container_cpu_usage_seconds_total", "container_memory_working_set_bytes"]:
            if not any(s.labels == {"namespace": ns, "pod": pod, "container": container} for s in second.get(name, [])):
                problems.append(f"second scrape: no {name} for {want}")
    t1 = [s.timestamp for s in first.get("node_cpu_usage_seconds_total", [])]
    t2 = [s.timestamp for s in second.get("node_cpu_usage_seconds_total", [])]
    if t1 and t2 and not float(t2[0]) > float(t1[0]):
        problems.append(f"node cpu timestamp did not advance: {t1[0]} -> {t2[0]}")
    for p in problems:
        print(p)
    if problems:
        sys.exit(1)
    print("metrics-server rules hold: %d container points" % len(second.get("container_cpu_usage_seconds_total", [])))


main()
