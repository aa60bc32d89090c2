"""Password spraying (one address, many usernames) and lockout behind a reverse proxy."""

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from org.netaddr import client_ip
from tests.factories import UserFactory

PASSWORD = "pw-for-tests-123"  # the factories' password
ATTACKER, VICTIM_IP, PROXY = "203.0.113.66", "198.51.100.7", "10.0.0.5"

pytestmark = pytest.mark.django_db


def sign_in(client, username, password, ip, **headers):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip, **headers)


def signed_in(response) -> bool:
    return response.status_code == 302 and response.url == reverse("home")


def locked(response) -> bool:
    return response.status_code == 429


@pytest.fixture
def users():
    return [UserFactory(username=f"user{i:02d}") for i in range(14)]


def spray(users, rounds, ip=ATTACKER, **headers):
    """``rounds`` wrong guesses on every username, round-robin (below the per-user limit)."""
    responses = []
    for n in range(rounds):
        for user in users:
            responses.append(sign_in(Client(), user.username, f"guess-{n}", ip, **headers))
    return responses


# --- Spraying from one address ------------------------------------------------------------------


def test_spraying_56_guesses_over_14_usernames_is_stopped_at_the_per_address_limit(users, settings):
    responses = spray(users, 4)  # 4 a username: under the per-username limit of 5

    outcomes = [locked(r) for r in responses]
    limit = settings.AXES_IP_FAILURE_LIMIT
    assert outcomes.index(True) == limit - 1  # the failure that reaches the limit is answered with the lockout
    assert all(outcomes[limit - 1 :])
    assert not any(outcomes[: limit - 1])


def test_one_failure_below_the_address_limit_still_lets_the_right_password_in(users, settings):
    settings.AXES_IP_FAILURE_LIMIT = 14
    spray(users[:13], 1)  # 13 failures

    assert signed_in(sign_in(Client(), users[13].username, PASSWORD, ATTACKER))


def test_at_the_address_limit_even_the_right_password_is_refused_from_that_address(users, settings):
    settings.AXES_IP_FAILURE_LIMIT = 14
    spray(users, 1)  # 14 failures

    response = sign_in(Client(), users[0].username, PASSWORD, ATTACKER)

    assert locked(response)
    assert "锁定" in response.content.decode()


def test_the_address_limit_locks_that_address_only(users, settings):
    settings.AXES_IP_FAILURE_LIMIT = 14
    spray(users, 1)

    assert signed_in(sign_in(Client(), users[0].username, PASSWORD, VICTIM_IP))


def test_signing_in_with_an_owned_account_does_not_clear_the_address_count(users, settings):
    settings.AXES_IP_FAILURE_LIMIT = 14
    spray(users[1:], 1)  # 13 failures on the others
    assert signed_in(sign_in(Client(), users[0].username, PASSWORD, ATTACKER))  # the attacker's own account

    assert locked(sign_in(Client(), users[1].username, "one-more", ATTACKER))


# --- Behind a reverse proxy ---------------------------------------------------------------------


def test_without_trusted_proxies_a_forged_forwarded_for_does_not_escape_the_lockout(users, settings):
    settings.AXES_IP_FAILURE_LIMIT = 14
    settings.TRUSTED_PROXIES = []
    responses = [
        sign_in(Client(), user.username, "guess", ATTACKER, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
        for n, user in enumerate(users)
    ]

    assert locked(responses[-1])


def test_behind_a_trusted_proxy_lockout_keys_on_the_forwarded_client_not_on_the_proxy(users, settings):
    settings.AXES_IP_FAILURE_LIMIT = 14
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    victim = users[0]
    # The attacker, behind the same proxy, locks out the victim's username from the attacker's address.
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(Client(), victim.username, "wrong", PROXY, HTTP_X_FORWARDED_FOR=ATTACKER)
    spray(users[1:], 1, ip=PROXY, HTTP_X_FORWARDED_FOR=ATTACKER)

    # The victim, through the same proxy from their own address, still signs in.
    assert signed_in(sign_in(Client(), victim.username, PASSWORD, PROXY, HTTP_X_FORWARDED_FOR=VICTIM_IP))
    assert locked(sign_in(Client(), victim.username, PASSWORD, PROXY, HTTP_X_FORWARDED_FOR=ATTACKER))


def test_a_forwarded_for_from_an_untrusted_peer_is_ignored(users, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(Client(), users[0].username, "wrong", ATTACKER, HTTP_X_FORWARDED_FOR=VICTIM_IP)

    assert locked(sign_in(Client(), users[0].username, PASSWORD, ATTACKER, HTTP_X_FORWARDED_FOR="192.0.2.1"))
    assert signed_in(sign_in(Client(), users[0].username, PASSWORD, VICTIM_IP))


@pytest.mark.parametrize(
    ("trusted", "peer", "forwarded", "expected"),
    [
        ([], "10.0.0.5", "1.2.3.4", "10.0.0.5"),
        (["10.0.0.5"], "10.0.0.5", "1.2.3.4", "1.2.3.4"),
        (["10.0.0.0/8"], "10.0.0.5", "6.6.6.6, 1.2.3.4", "1.2.3.4"),  # the left part is the client's own claim
        (["10.0.0.0/8"], "10.0.0.5", "1.2.3.4, 10.1.1.1", "1.2.3.4"),  # two proxies of ours
        (["10.0.0.0/8"], "10.0.0.5", "", "10.0.0.5"),
        (["10.0.0.0/8"], "10.0.0.5", "not-an-ip", "10.0.0.5"),
        (["10.0.0.0/8"], "192.0.2.9", "1.2.3.4", "192.0.2.9"),
        (["fd00::/8"], "fd00::1", "2001:db8::7", "2001:db8::7"),
        (["10.0.0.0/8"], "10.0.0.5", "1.2.3.4:5555", "1.2.3.4"),
    ],
)
def test_the_client_address_is_read_from_forwarded_for_only_through_trusted_proxies(
    settings, trusted, peer, forwarded, expected
):
    settings.TRUSTED_PROXIES = trusted
    request = RequestFactory().get("/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded)

    assert client_ip(request) == expected
