"""Third-party apps under a Chinese name in the admin (their own configs have none)."""

from axes.apps import AppConfig as _AxesConfig


class AxesConfig(_AxesConfig):
    verbose_name = "登录锁定"
