"""The systemd units shipped for production keep web, worker and beat running, beat as its own service."""

import configparser
from pathlib import Path

import pytest
from django.conf import settings

UNITS = Path(settings.BASE_DIR) / "deploy" / "systemd"


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.read(UNITS / name, encoding="utf-8")
    return parser


@pytest.mark.parametrize(
    ("name", "command"),
    [
        ("sanhui-web.service", "gunicorn sanhui.wsgi"),
        ("sanhui-worker.service", "celery -A sanhui worker"),
        ("sanhui-beat.service", "celery -A sanhui beat"),
    ],
)
def test_each_service_is_restarted_whenever_it_exits(name, command):
    service = unit(name)["Service"]

    assert service["Restart"] == "always"
    assert command in service["ExecStart"]
    assert service["EnvironmentFile"] == "/etc/sanhui/env"


def test_the_worker_does_not_embed_beat_so_a_dead_worker_does_not_stop_the_sweeps():
    assert " -B" not in unit("sanhui-worker.service")["Service"]["ExecStart"]
    assert (
        "-B"
        not in (Path(settings.BASE_DIR) / "bin" / "serve").read_text().split("supervise worker", 1)[1].split("\n")[0]
    )


def test_the_web_timeout_is_set_on_purpose_the_same_in_the_unit_and_the_readme():
    import re

    readme = (Path(settings.BASE_DIR) / "README.md").read_text(encoding="utf-8")
    command = next(line for line in readme.splitlines() if line.startswith("gunicorn sanhui.wsgi"))
    unit_timeout = re.search(r"--timeout (\d+)", unit("sanhui-web.service")["Service"]["ExecStart"])
    readme_timeout = re.search(r"--timeout (\d+)", command)

    assert unit_timeout and readme_timeout, "gunicorn's 30 s default must not be left to chance"
    assert readme_timeout.group(1) == unit_timeout.group(1)
    assert "The web timeout is set on purpose" in readme
