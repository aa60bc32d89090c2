"""Shared fixtures: the named people of the permission tests and the browser."""

import os

import pytest

from org.models import Post, StaffRole

from .factories import BranchFactory, GroupFactory, member_with_login, staff_user


def pytest_configure(config):
    # A cheap hasher for every test: hashing strength is not what any test is about, and
    # PBKDF2 costs ~0.3 s a login. Set before any fixture makes a user.
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _plain_static_storage(request, settings):
    # Production serves hashed files collected by `collectstatic`; tests find them
    # through the finders instead of needing a collected manifest. Only the browser
    # (live server) fetches static files, and WhiteNoise indexes every file the finders
    # see each time a test client builds its middleware (~50 ms), so only live-server
    # tests turn the finders on.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = "live_server" in request.fixturenames


@pytest.fixture(autouse=True)
def _empty_cache():
    """Throttle counters (org/throttle.py) live in the cache: each test starts with none."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _no_scope_cache_across_requests(settings):
    """Pages' query counts are pinned per request (the first against the next): the scope cache
    (org/scope.py, SCOPE_CACHE_SECONDS) would make the first request the only one that reads the
    scope. Its own tests turn it back on."""
    settings.SCOPE_CACHE_SECONDS = 0
    settings.LIST_COUNT_CACHE_SECONDS = 0


def _is_transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    names = set(getattr(item, "fixturenames", ()))
    return bool(marker and marker.kwargs.get("transaction")) or bool(names & {"transactional_db", "live_server"})


def _load_defaults() -> None:
    from django.apps import apps

    from assessment.defaults import load_default_scheme
    from meetings.defaults import load_defaults
    from practice.defaults import load_activity_kinds, load_departments
    from study.defaults import load_defaults as load_study_defaults
    from tasks.defaults import load_makeup_rules

    load_defaults(apps)
    load_makeup_rules(apps)
    load_default_scheme(apps, 2026)
    load_study_defaults(apps)
    load_activity_kinds(apps)
    load_departments(apps)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """Put back the default types, rules and scheme after a transactional test flushed them.

    Data migrations load them once per test database; an ordinary test runs inside a
    transaction that is rolled back, so they stay. A transactional test (live server, a real
    worker) ends by flushing every table: reload them then, once, after the flush and
    outside any test transaction, instead of before every test. After the session's last test
    (``nextitem`` is None) the test database has already been destroyed with the session
    fixtures: nothing needs reloading then, and reloading would write to the real database.
    """
    result = yield
    if _is_transactional(item) and nextitem is not None:
        from pytest_django.plugin import blocking_manager_key

        with item.config.stash[blocking_manager_key].unblock():
            _load_defaults()
    return result


@pytest.fixture
def branch(db):
    return BranchFactory(name="综采一队党支部")


@pytest.fixture
def group(branch):
    return GroupFactory(name="综采一队第一党小组", parent=branch)


@pytest.fixture
def other_branch(db):
    return BranchFactory(name="掘进二队党支部")


@pytest.fixture
def secretary(branch, group):
    """The 书记 of ``branch``."""
    return member_with_login(branch=branch, group=group, username="secretary", role=Post.Role.SECRETARY, name="王书记")


@pytest.fixture
def member(branch, group):
    """An ordinary member of ``branch`` with no post."""
    return member_with_login(branch=branch, group=group, username="member", name="李党员")


@pytest.fixture
def other_secretary(other_branch):
    """The 书记 of another branch."""
    return member_with_login(branch=other_branch, username="other_secretary", role=Post.Role.SECRETARY, name="赵书记")


@pytest.fixture
def supervisor(db):
    """A supervisor of the 党委工作部."""
    return staff_user(username="supervisor", role=StaffRole.Role.WORK_DEPT)


@pytest.fixture
def people(secretary, member, other_secretary, supervisor):
    """Every named role; ``None`` stands for anonymous."""
    return {
        "secretary": secretary,
        "member": member,
        "other_secretary": other_secretary,
        "supervisor": supervisor,
        "anonymous": None,
    }


def client_for(client, user):
    """``client`` signed in as ``user`` (anonymous for ``None``)."""
    if user is not None:
        client.force_login(user)
    return client


# --- Browser (Playwright driving Debian's Chromium) -------------------------

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # live_server + Playwright's sync API

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Debian's Chromium instead of a downloaded browser; the networking flags stop
    # it from calling hosts this network cannot reach.
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}
