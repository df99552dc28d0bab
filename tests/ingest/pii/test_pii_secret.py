"""Where the pseudonymisation secret comes from, and how a misconfiguration is reported."""

from pathlib import Path

import pytest

from rampart.ingest.pii.secret import (
    DEMO_SECRET,
    ENV_SECRET,
    ENV_SECRET_FILE,
    MIN_SECRET_BYTES,
    MissingSecretError,
    SecretError,
    WeakSecretError,
    load_secret,
)

GOOD = "s3cret-value-of-32-bytes-length!"


def test_environment_variable_is_used_and_stripped() -> None:
    assert load_secret(env={ENV_SECRET: f"  {GOOD}\n"}) == GOOD.encode()


def test_os_environ_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_SECRET, GOOD)
    assert load_secret() == GOOD.encode()


def test_secret_file_from_environment(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_text(GOOD + "\n")
    assert load_secret(env={ENV_SECRET_FILE: str(path)}) == GOOD.encode()


@pytest.mark.parametrize(
    "toml",
    [f'pseudonym_secret = "{GOOD}"\n', f'[privacy]\npseudonym_secret = "{GOOD}"\n'],
)
def test_toml_config_top_level_or_privacy_table(tmp_path: Path, toml: str) -> None:
    path = tmp_path / "rampart.toml"
    path.write_text(toml)
    assert load_secret(env={}, config_path=path) == GOOD.encode()


def test_plain_config_file(tmp_path: Path) -> None:
    path = tmp_path / "secret.txt"
    path.write_text(GOOD)
    assert load_secret(env={}, config_path=path) == GOOD.encode()


def test_precedence_env_then_env_file_then_config(tmp_path: Path) -> None:
    env_file = tmp_path / "a"
    env_file.write_text("from-the-env-file-0123456789")
    config = tmp_path / "b"
    config.write_text("from-the-config-file-0123456789")
    both = {ENV_SECRET: GOOD, ENV_SECRET_FILE: str(env_file)}
    assert load_secret(env=both, config_path=config) == GOOD.encode()
    only_file = {ENV_SECRET_FILE: str(env_file)}
    assert load_secret(env=only_file, config_path=config) == b"from-the-env-file-0123456789"
    assert load_secret(env={}, config_path=config) == b"from-the-config-file-0123456789"


def test_demo_falls_back_only_when_nothing_is_configured() -> None:
    assert load_secret(demo=True, env={}) == DEMO_SECRET
    assert load_secret(demo=True, env={ENV_SECRET: GOOD}) == GOOD.encode()
    assert b"DEMO" in DEMO_SECRET
    assert len(DEMO_SECRET) >= MIN_SECRET_BYTES


def test_missing_secret_tells_the_operator_how_to_set_it() -> None:
    with pytest.raises(MissingSecretError) as caught:
        load_secret(env={ENV_SECRET: "   "})
    message = str(caught.value)
    assert ENV_SECRET in message
    assert ENV_SECRET_FILE in message
    assert "pseudonym_secret" in message
    assert isinstance(caught.value, SecretError)


def test_short_secret_is_rejected_without_echoing_it() -> None:
    with pytest.raises(WeakSecretError) as caught:
        load_secret(env={ENV_SECRET: "hunter2-abc"})
    assert "hunter2" not in str(caught.value)
    assert "11 bytes" in str(caught.value)


def test_exactly_minimum_length_is_accepted() -> None:
    assert load_secret(env={ENV_SECRET: "x" * MIN_SECRET_BYTES}) == b"x" * MIN_SECRET_BYTES


def test_unreadable_secret_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(MissingSecretError, match="nope"):
        load_secret(env={ENV_SECRET_FILE: str(missing)})


def test_empty_secret_file_is_weak(tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.write_text("\n")
    with pytest.raises(WeakSecretError):
        load_secret(env={ENV_SECRET_FILE: str(path)})


def test_toml_without_the_key(tmp_path: Path) -> None:
    path = tmp_path / "rampart.toml"
    path.write_text('other = "x"\n')
    with pytest.raises(MissingSecretError, match="pseudonym_secret"):
        load_secret(env={}, config_path=path)


def test_broken_toml_does_not_leak_its_content(tmp_path: Path) -> None:
    path = tmp_path / "rampart.toml"
    path.write_text('pseudonym_secret = "topsecret-value-1234567\n')  # unterminated string
    with pytest.raises(MissingSecretError) as caught:
        load_secret(env={}, config_path=path)
    assert "topsecret" not in str(caught.value)
    assert caught.value.__cause__ is None
