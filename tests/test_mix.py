"""One env-mix parser and validator, and one problem drawer, for every config and command."""

from __future__ import annotations

import pytest

from thinkgym.agents.cmd_export import parse_mix as export_mix
from thinkgym.agents.config import ConfigError, config_from_dict
from thinkgym.agents.sft_config import sft_config_from_dict
from thinkgym.datasets import build
from thinkgym.integrations.trl import reward_funcs
from thinkgym.mix import EnvSpec, MixError, draw_problems, parse_mix
from thinkgym.splits import split_of

ARITH, PATH = "thinkgym/Arithmetic-v0", "thinkgym/ShortestPath-v0"


def test_every_form_gives_the_same_env_specs(tmp_path):
    expected = [EnvSpec(ARITH, 2.0, 1, {}), EnvSpec(PATH, 1.0, 1, {})]
    config = tmp_path / "train.yaml"
    config.write_text(f"mix:\n  - {{id: {ARITH}, weight: 2}}\n  - {PATH}\n")
    forms = [[f"{ARITH}:2", PATH], {ARITH: 2, PATH: 1}, [{"id": ARITH, "weight": 2}, {"id": PATH}], expected, config, str(config)]
    for form in forms:
        assert parse_mix(form) == expected, form
    assert export_mix([f"{ARITH}:2", PATH]) == export_mix([str(config)]) == expected
    assert parse_mix([{"id": ARITH, "difficulty": 3, "kwargs": {"max_value": 9}}]) == [EnvSpec(ARITH, 1.0, 3, {"max_value": 9})]


@pytest.mark.parametrize(
    "mix, message",
    [
        ({ARITH: 0}, "weight of thinkgym/Arithmetic-v0 must be a finite number > 0, got 0"),
        ({ARITH: float("nan")}, "finite number > 0"),
        ([{"id": ARITH, "weight": True}], "finite number > 0"),
        ([f"{ARITH}:heavy"], "bad weight in"),
        ([{"id": ARITH, "difficulty": 9}], r"difficulty must be an integer in 1\.\.3, got 9"),
        ([{"id": ARITH, "difficulty": 1.5}], "difficulty must be an integer"),
        ([{"id": ARITH, "kwargs": [1]}], "kwargs must be a mapping"),
        ([{"id": ARITH, "level": 2}], r"unknown key\(s\) level"),
        ([{"env": ARITH}], "needs an 'id'"),
        (["thinkgym/Arithmetc-v0"], "did you mean 'thinkgym/Arithmetic-v0'"),
        ([ARITH, ARITH], "appears twice"),
        ([], "the mix is empty"),
        (3, "a mix is an env id"),
    ],
)
def test_bad_mixes_are_one_line_value_errors_everywhere(mix, message):
    with pytest.raises(MixError, match=message) as err:
        parse_mix(mix)
    assert "\n" not in str(err.value) and isinstance(err.value, ValueError)
    raw = {"mix": mix}
    for build_config in (config_from_dict, sft_config_from_dict):
        with pytest.raises(ConfigError, match=message):
            build_config(raw)
    with pytest.raises(ValueError, match=message):
        build(mix, 2)
    with pytest.raises(ValueError, match=message):
        reward_funcs(mix)


def test_every_problem_is_listed_in_one_line():
    with pytest.raises(MixError) as err:
        parse_mix([{"id": ARITH, "weight": -1}, {"id": PATH, "difficulty": 0}])
    assert "weight of thinkgym/Arithmetic-v0" in str(err.value) and "ShortestPath-v0 difficulty" in str(err.value)


def test_drawer_is_pure_keyed_and_keeps_to_its_split():
    mix = parse_mix({ARITH: 3, PATH: 1})
    a = draw_problems(mix, 12, seed=4, key=(0, 1, 0))
    assert a == draw_problems(mix, 12, seed=4, key=(0, 1, 0))
    assert a != draw_problems(mix, 12, seed=4, key=(0, 2, 0))
    assert all(split_of(p.prompt) == "train" for p in a)
    held_out = draw_problems(mix, 8, split="eval", seed=4, exact=True)
    assert [p.env_id for p in held_out] == [ARITH] * 6 + [PATH] * 2  # exact shares, largest remainder
    assert all(split_of(p.prompt) == "eval" for p in held_out)
    assert {p.difficulty for p in draw_problems(mix, 4, seed=0, levels={ARITH: 2, PATH: 2})} == {2}
