"""µs per event of the online feature state on a simulated world (a quick script, not a test).

    uv run python -m tests.features.bench_feat_online [--preset small] [--pack default] [--runs 3]

Events are decoded and pseudonymised first (as ingest does); only ``OnlineFeatures.update`` is
timed, best of ``--runs`` fresh states, in CPU time (steadier than wall time on a shared box).
``--pack default`` is the default rule pack's features.yaml, ``realistic`` the ~60 specs of
tests/features/conftest.py.
"""

from __future__ import annotations

import argparse
import gc
import time
from pathlib import Path
from typing import Any

import msgspec
import yaml
from tests.features.conftest import REALISTIC_PACK

from rampart.contract.events import decode_event
from rampart.features.online import OnlineFeatures
from rampart.features.spec import parse_feature_specs
from rampart.ingest.privacy import EventPrivacy
from rampart.simulate import simulate, world_config

DEFAULT_PACK = Path(__file__).parents[2] / "src/rampart/packs/default/features.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--preset", default="small")
    parser.add_argument("--pack", choices=["default", "realistic"], default="default")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    raw: list[dict[str, Any]] = (
        yaml.safe_load(DEFAULT_PACK.read_text())["features"]
        if args.pack == "default"
        else REALISTIC_PACK
    )
    specs, errors = parse_feature_specs(raw, args.pack)
    assert not errors, [str(error) for error in errors]
    world = simulate(world_config(args.preset, "hard", seed=3))
    privacy = EventPrivacy.for_demo()
    events = [privacy.protect(decode_event(msgspec.json.encode(e))) for e in world.events]
    del world
    gc.collect()
    gc.freeze()  # the decoded input is not the state being measured
    best_cpu = best_wall = float("inf")
    for _ in range(args.runs):
        online = OnlineFeatures(specs)
        cpu, wall = time.process_time(), time.perf_counter()
        for accepted in events:
            online.update(accepted)
        best_cpu = min(best_cpu, time.process_time() - cpu)
        best_wall = min(best_wall, time.perf_counter() - wall)
    stats = online.stats()
    print(
        f"{args.pack} pack: {len(specs)} specs in {len(online.groups)} groups"
        f" (+{len(online.label_groups)} label-fed); {len(events)} events ({args.preset})"
    )
    print(
        f"update: {best_cpu / len(events) * 1e6:.2f} µs/event CPU,"
        f" {best_wall / len(events) * 1e6:.2f} µs/event wall (best of {args.runs})"
    )
    print(
        f"state: {stats.keys} keys, ~{stats.memory_bytes / 1e6:.1f} MB"
        f" ({stats.memory_bytes / max(stats.keys, 1):.0f} B/key),"
        f" snapshot {len(online.snapshot()) / 1e6:.2f} MB"
    )


if __name__ == "__main__":
    main()
