"""Detection quality of the default pack on simulated worlds: the scorecard per seed.

Each world is simulated, scored once in time order with its labels applied at their `ts`
(exactly `rampart score`), and evaluated as SCORING.md defines (exactly `rampart evaluate`).
Use seeds the pack was not tuned on (it was tuned on seed 7, hard).

    uv run python benchmarks/detection.py --seeds 303 404 --difficulty hard [--preset demo]
        [--model DIR | --train-seed S [--train-difficulty D]]

With ``--train-seed`` the models are first trained (`rampart train`) on a world of that seed,
then every evaluated world is scored with them: a model meets a world it never saw.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from rampart.learn.evaluate import evaluate_files
from rampart.learn.training import train_models
from rampart.learn.trainset import build_training_set
from rampart.packs import DEFAULT_PACK
from rampart.service.assemble import score_files
from rampart.simulate import world_config, write_world


def score_world(world: Path, model: Path | None = None) -> None:
    score_files(
        world / "events.jsonl",
        decisions=world / "decisions.jsonl",
        verdicts=world / "verdicts.jsonl",
        labels=world / "labels.jsonl",
        checkpoint_every=100_000,
        warn=print,
        models=model,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[303, 404])
    parser.add_argument("--difficulty", default="hard")
    parser.add_argument("--preset", default="demo")
    parser.add_argument("--model", type=Path, default=None, help="model directory to score with")
    parser.add_argument("--train-seed", type=int, default=None, help="train models on this seed")
    parser.add_argument("--train-difficulty", default=None)
    args = parser.parse_args()
    keep = tempfile.TemporaryDirectory()
    model = args.model
    if args.train_seed is not None:
        train_world = Path(keep.name) / "train"
        difficulty = args.train_difficulty or args.difficulty
        write_world(world_config(args.preset, difficulty, args.train_seed), train_world)
        training = build_training_set(
            train_world / "events.jsonl", train_world / "labels.jsonl", pack=DEFAULT_PACK
        )
        model = Path(keep.name) / "models"
        run = train_models(training, model, metadata={"seed": args.train_seed})
        print(f"models trained on seed {args.train_seed} {difficulty}: {len(run.trained)} areas")
    print(
        "| seed | difficulty | area | entity recall | precision | event recall | time to detect |"
    )
    print("|---|---|---|---:|---:|---:|---:|")
    for seed in args.seeds:
        with tempfile.TemporaryDirectory() as tmp:
            world = Path(tmp)
            write_world(world_config(args.preset, args.difficulty, seed), world)
            score_world(world, model)
            card = evaluate_files(
                world / "events.jsonl",
                world / "decisions.jsonl",
                world / "verdicts.jsonl",
                world / "labels.jsonl",
            )
        for area in card.areas:
            print(
                f"| {seed} | {args.difficulty} | {area.area} | {area.entity_recall or 0:.3f} | "
                f"{area.entity_precision or 0:.3f} | {area.event_recall or 0:.3f} | "
                f"{_duration(area.time_to_detect.median_seconds)} |"
            )
        friction = card.friction
        print(
            f"| {seed} | {args.difficulty} | **macro** | **{card.macro.entity_recall or 0:.3f}** | "
            f"**{card.macro.entity_precision or 0:.3f}** | friction {friction.rate:.2%} "
            f"({friction.users_with_friction} of {friction.legitimate_users}), order block "
            f"{friction.order_block_rate or 0:.2%} |"
        )


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


if __name__ == "__main__":
    main()
