"""Rule packs: YAML files of features and rules, validated together, errors with positions."""

from __future__ import annotations

import textwrap
from pathlib import Path

import polars as pl
import pytest

from rampart.detect.rules import (
    ListStore,
    LoadedPack,
    PackError,
    PackProblem,
    RuleVerdict,
    check_pack,
    load_pack,
)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


GOOD_FEATURES = """
features:
  - name: user_orders_1h
    agg: count
    keys: [user]
    window: 1h
    where: {event.type: order.created}
  - name: device_age
    agg: age
    keys: [device]
"""

GOOD_RULES = """
rules:
  - name: order_burst
    areas: [scalper, deal_hunter]
    expression: >
      event.type == "order.created"
      and features.user_orders_1h >= 5
    action: review
    weight: 0.6
    mode: live
    description: many orders in an hour
    owner: scalper-team
    version: 3
    verdict: {entity: user, action: limit}
  - name: vip
    areas: [scalper]
    expression: in_list(event.user_id, "vip_users")
    action: allow
  - name: brushing_score
    areas: [brushing]
    expression: scores.brushing > 0.9
    action: score
    weight: 0.3
    mode: off
"""


@pytest.fixture
def pack_dir(tmp_path: Path) -> Path:
    write(tmp_path, "pack.yaml", "name: marketplace\nversion: 7\ndescription: test pack\n")
    write(tmp_path, "features.yaml", GOOD_FEATURES)
    write(tmp_path, "areas/scalper.yml", GOOD_RULES)
    return tmp_path


def problems_of(folder: Path) -> list[str]:
    return [str(p) for p in check_pack(folder)]


def test_loads_a_pack(pack_dir: Path) -> None:
    pack = load_pack(pack_dir)
    assert isinstance(pack, LoadedPack)
    assert (pack.name, pack.version, pack.description) == ("marketplace", 7, "test pack")
    assert pack.files == ("areas/scalper.yml", "features.yaml", "pack.yaml")
    assert [f.name for f in pack.features] == ["user_orders_1h", "device_age"]
    assert pack.catalogue["features.user_orders_1h"] == "int"
    assert pack.catalogue["features.device_age"] == "float"
    assert pack.catalogue["scores.brushing"] == "float"
    assert pack.catalogue["event.props.total"] == "float"
    assert [r.name for r in pack.rules] == ["order_burst", "vip", "brushing_score"]
    assert [r.name for r in pack.active_rules] == ["order_burst", "vip"]
    burst = pack.rule("order_burst")
    assert burst.areas == ("scalper", "deal_hunter")
    assert (burst.action, burst.weight, burst.mode, burst.version) == ("review", 0.6, "live", 3)
    assert (burst.owner, burst.description) == ("scalper-team", "many orders in an hour")
    assert burst.verdict == RuleVerdict(("user",), "limit")
    assert (burst.file, burst.line) == ("areas/scalper.yml", 2)
    assert burst.paths == {"event.type", "features.user_orders_1h"}
    row = {"event.type": "order.created", "features.user_orders_1h": 5}
    assert burst.evaluate(row) is True
    assert burst.hits(row)
    vip = pack.rule("vip")
    assert (vip.weight, vip.mode, vip.verdict) == (0.0, "shadow", None)  # defaults


def test_both_forms_of_every_rule_are_available(pack_dir: Path) -> None:
    pack = load_pack(pack_dir)
    pack.lists.add("vip_users", "u1")
    frame = pl.DataFrame(
        {
            "event.type": ["order.created", "order.created"],
            "features.user_orders_1h": [9, 1],
            "event.user_id": ["u1", "u2"],
            "event.ts": [0.0, 0.0],
        }
    )
    result = frame.select(pack.polars())
    assert result.columns == ["order_burst", "vip"]
    assert result.to_dict(as_series=False) == {"order_burst": [True, False], "vip": [True, False]}


def test_fingerprint_follows_contents(pack_dir: Path) -> None:
    first = load_pack(pack_dir).fingerprint
    assert load_pack(pack_dir).fingerprint == first
    (pack_dir / "pack.yaml").write_text("name: marketplace\nversion: 8\n")
    assert load_pack(pack_dir).fingerprint != first


def test_a_single_file_is_a_pack(tmp_path: Path) -> None:
    path = write(tmp_path, "one.yaml", GOOD_FEATURES + GOOD_RULES)
    pack = load_pack(path)
    assert pack.name == "one.yaml"
    assert len(pack.rules) == 3


def test_reports_every_problem_with_file_rule_line_and_column(tmp_path: Path) -> None:
    write(tmp_path, "features.yaml", GOOD_FEATURES)
    write(
        tmp_path,
        "rules.yaml",
        """
        rules:
          - name: typo_in_feature
            areas: [scalpers]
            expression: |
              event.type == "order.created" and
                features.user_order_1h > 3
            action: reveiw
            weight: 1.5
            mode: loud
            verdict: {entity: shop, action: block}
            colour: red
          - name: typo_in_feature
            areas: []
            expression: event.props.total > "big"
            action: block
            weight: 1
        """,
    )
    assert problems_of(tmp_path) == [
        "rules.yaml:11:5: rule 'typo_in_feature': unknown key in a rule 'colour'",
        "rules.yaml:3:12: rule 'typo_in_feature': areas: unknown risk area 'scalpers' "
        "(did you mean 'scalper'?)",
        "rules.yaml:7:13: rule 'typo_in_feature': action: unknown action 'reveiw'; one of allow, "
        "challenge, review, block, score (did you mean 'review'?)",
        "rules.yaml:8:13: rule 'typo_in_feature': weight: 1.5 is not a number from 0 to 1",
        "rules.yaml:9:11: rule 'typo_in_feature': mode: unknown mode 'loud'; one of live, shadow, "
        "off",
        "rules.yaml:10:14: rule 'typo_in_feature': verdict: entity 'shop' is not one of user, "
        "seller, device, ip, item, instrument",
        "rules.yaml:13:12: rule 'typo_in_feature': areas: required: a list of one or more risk "
        "areas, such as [scalper]",
    ]


def test_expression_problems_point_into_the_file(tmp_path: Path) -> None:
    write(tmp_path, "features.yaml", GOOD_FEATURES)
    write(
        tmp_path,
        "rules.yaml",
        """
        rules:
          - name: literal_block
            areas: [scalper]
            expression: |
              event.type == "order.created" and
                features.user_order_1h > 3
            action: review
            weight: 0.5
          - name: folded
            areas: [scalper]
            expression: >
              event.type == "order.created"
              and event.props.totl > 3
            action: review
            weight: 0.5
          - name: quoted
            areas: [scalper]
            expression: "event.props.total > 'big' and event.typ == 'x'"
            action: review
            weight: 0.5
          - name: syntax
            areas: [scalper]
            expression: event.props.total > > 3
            action: review
            weight: 0.5
        """,
    )
    found = check_pack(tmp_path)
    assert [(p.rule, p.line, p.column, p.message, p.suggestion) for p in found] == [
        ("literal_block", 6, 9, "expression: unknown name 'features.user_order_1h'",
         "features.user_orders_1h"),
        ("folded", 13, 11, "expression: unknown name 'event.props.totl'", "event.props.total"),
        ("quoted", 18, 18, "expression: cannot compare float with str ('>')", None),
        ("quoted", 18, 48, "expression: unknown name 'event.typ'", "event.type"),
        ("syntax", 23, 37, "expression: invalid syntax", None),
    ]  # fmt: skip
    assert all(p.file == "rules.yaml" for p in found)


def test_problems_across_files_are_all_reported(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", GOOD_FEATURES + GOOD_RULES)
    write(tmp_path, "b.yaml", GOOD_FEATURES + GOOD_RULES.replace("name: vip", "name: vip2"))
    write(tmp_path, "c.yaml", "rules: [1\n")
    write(tmp_path, "d.yaml", "- just a list\n")
    write(tmp_path, "e.yaml", "rulez: []\n")
    found = problems_of(tmp_path)
    assert "b.yaml:7:11: feature 'device_age' is also declared in a.yaml" in found
    assert "b.yaml:2:11: feature 'user_orders_1h' is also declared in a.yaml" in found
    assert (
        "b.yaml:12:11: rule 'order_burst': name 'order_burst' is already used in a.yaml:12" in found
    )
    assert any(
        p.startswith("c.yaml:2:1: invalid YAML: while parsing a flow sequence") for p in found
    )
    assert "d.yaml:1:1: a pack file must be a mapping with 'features' and/or 'rules'" in found
    assert "e.yaml:1:1: unknown key 'rulez' (did you mean 'rules'?)" in found


def test_feature_problems_are_located_and_rules_on_them_stay_quiet(tmp_path: Path) -> None:
    write(
        tmp_path,
        "pack.yaml",
        """
        features:
          - name: good
            agg: count
            keys: [user]
          - name: broken
            agg: sum
            keys: [usr]
            field: event.props.total
        rules:
          - name: uses_broken
            areas: [scalper]
            expression: features.broken > 1 and features.good > 1
            action: review
            weight: 0.5
        """,
    )
    # pack.yaml holds only metadata; move this to a rules file
    (tmp_path / "pack.yaml").rename(tmp_path / "all.yaml")
    found = check_pack(tmp_path)
    assert len(found) == 1
    (problem,) = found
    assert (problem.file, problem.line, problem.column) == ("all.yaml", 7, 11)
    assert problem.message.startswith("feature 'broken': `keys`: unknown entity kind 'usr'")


def test_pack_file_is_metadata_only(tmp_path: Path) -> None:
    write(tmp_path, "pack.yaml", "name: x\nrules: []\n")
    write(tmp_path, "r.yaml", GOOD_RULES.replace("features.user_orders_1h", "1"))
    assert problems_of(tmp_path) == ["pack.yaml:2:1: unknown key 'rules'"]


def test_repeated_yaml_keys_are_reported(tmp_path: Path) -> None:
    write(
        tmp_path,
        "r.yaml",
        """
        rules:
          - name: r
            areas: [scalper]
            expression: event.props.total > 1
            expression: event.props.total > 2
            action: review
            weight: 0.5
        """,
    )
    assert problems_of(tmp_path) == [
        "r.yaml:5:5: rule 'r': key 'expression' is repeated (YAML keeps only the last)"
    ]


def test_score_names_and_lists_are_part_of_the_catalogue(tmp_path: Path) -> None:
    write(
        tmp_path,
        "r.yaml",
        """
        rules:
          - name: model
            areas: [scalper]
            expression: scores.scalper_gbm > 0.5 and in_list(event.user_id, "watch")
            action: review
            weight: 0.5
        """,
    )
    lists = ListStore({"watchlist": {}})
    found = check_pack(tmp_path, lists=lists)
    assert [(p.message, p.suggestion) for p in found] == [
        ("expression: unknown name 'scores.scalper_gbm'", "scores.scalper"),
        ("expression: unknown list 'watch'", "watchlist"),
    ]
    lists.declare("watch")
    pack = load_pack(tmp_path, score_names=["scalper_gbm"], lists=lists)
    assert pack.lists is lists
    lists.add("watch", "u1")
    assert pack.rule("model").evaluate({"scores.scalper_gbm": 0.7, "event.user_id": "u1"}) is True


def test_load_raises_with_every_problem(tmp_path: Path) -> None:
    write(tmp_path, "r.yaml", "rules:\n  - name: x\n  - name: x y\n")
    with pytest.raises(PackError) as caught:
        load_pack(tmp_path)
    assert len(caught.value.problems) == 9  # 4 for x, 5 for "x y" (its name too)
    assert str(caught.value).startswith("rule pack has 9 problems:\n  r.yaml:2:5: rule 'x':")
    assert all(isinstance(p, PackProblem) for p in caught.value.problems)


def test_missing_empty_and_unreadable_packs(tmp_path: Path) -> None:
    assert problems_of(tmp_path / "nowhere") == [f"{tmp_path / 'nowhere'}: no such file or folder"]
    assert problems_of(tmp_path) == [f"{tmp_path}: no .yaml files in the pack"]
    (tmp_path / "bad.yaml").write_bytes(b"rules: \xff\n")
    assert problems_of(tmp_path)[0].startswith("bad.yaml: not UTF-8 text")


def test_hidden_files_are_not_part_of_the_pack(tmp_path: Path) -> None:
    write(tmp_path, "r.yaml", GOOD_FEATURES)
    write(tmp_path, ".git/x.yaml", "garbage: [")
    write(tmp_path, ".r.yaml", "garbage: [")
    assert load_pack(tmp_path).files == ("r.yaml",)
