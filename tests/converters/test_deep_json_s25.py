"""Valid JSON nested deeper than orjson writes is refused for its depth, not as "invalid JSON at a
string" (review S, F11); a config nested deeper than tomllib parses is exit 78, not 70 (F10)."""

from __future__ import annotations

import pytest

from converters.errors import BadInputError
from converters.jsonio import ORJSON_DEPTH, read_json
from tests.invariants import assert_one_error_line, run_cli


@pytest.mark.parametrize("depth", [ORJSON_DEPTH + 46, 900])
def test_deep_valid_json_is_refused_for_its_depth(depth: int):
    data = b'{"export_data": {"Node": {"1": {"a": ' + b"[" * depth + b"1" + b"]" * depth + b"}}}}"
    with pytest.raises(BadInputError) as caught:
        read_json("deep.aiida", "data.json", data)
    assert f"nested deeper than {ORJSON_DEPTH} levels" in caught.value.reason
    assert "invalid JSON" not in caught.value.reason and "a string" not in caught.value.reason


def test_json_within_the_depth_is_read():
    depth = ORJSON_DEPTH - 10
    data = b'{"a": ' + b"[" * depth + b"1" + b"]" * depth + b"}"
    tree = read_json("ok.aiida", "data.json", data)
    assert isinstance(tree["a"], list)


@pytest.mark.parametrize("text", ["reduce = " + "[" * 100_000 + "]" * 100_000,
                                  "views = " + "{a=" * 50_000 + "1" + "}" * 50_000])
def test_a_config_nested_too_deep_is_exit_78(tmp_path, example_store, text: str):
    config = tmp_path / "deep.toml"
    config.write_text(text + "\n")
    run = run_cli("build", example_store, "-o", tmp_path / "site", "--config", config)
    assert_one_error_line(run, 78, "nested too deeply", repr(str(config)))
    assert not (tmp_path / "site").exists()
