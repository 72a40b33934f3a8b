"""Management commands: createadmin and demo_code."""

from __future__ import annotations

import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tenfold.accounts import services
from tenfold.accounts.models import StaffProfile, User
from tenfold.accounts.tests.factories import make_staff, totp_code

pytestmark = pytest.mark.django_db


def test_createadmin_creates_an_owner_and_mentions_mfa() -> None:
    # given an empty MSP
    out = StringIO()
    # when an admin is created non-interactively
    call_command(
        "createadmin",
        "--email",
        "Boss@MSP.test",
        "--password",
        "a long passphrase 2024",
        "--no-input",
        stdout=out,
    )
    # then an owner exists with that password, and the output says MFA comes at first login
    user = User.objects.get()
    assert (user.email, user.role, user.is_active) == ("boss@msp.test", "owner", True)
    assert user.check_password("a long passphrase 2024")
    assert StaffProfile.objects.filter(user=user).exists()
    assert "two-factor authentication is mandatory" in out.getvalue().lower()


def test_createadmin_refuses_a_second_owner_unless_forced() -> None:
    # given an owner
    make_staff("owner")
    # when another is created without then with --force
    with pytest.raises(CommandError, match="An owner already exists"):
        call_command(
            "createadmin",
            "--email",
            "two@msp.test",
            "--password",
            "a long passphrase 2024",
            "--no-input",
            stdout=StringIO(),
        )
    assert User.objects.filter(email="two@msp.test").exists() is False
    call_command(
        "createadmin",
        "--email",
        "two@msp.test",
        "--password",
        "a long passphrase 2024",
        "--no-input",
        "--force",
        stdout=StringIO(),
    )
    # then the forced one exists
    assert User.objects.get(email="two@msp.test").role == "owner"


def test_createadmin_refuses_a_weak_password() -> None:
    # given an empty MSP
    # when the password is too short
    with pytest.raises(CommandError, match="too short"):
        call_command(
            "createadmin", "--email", "boss@msp.test", "--password", "short", "--no-input", stdout=StringIO()
        )
    # then no user was created
    assert User.objects.count() == 0


def test_demo_code_prints_the_current_code_of_a_demo_account() -> None:
    # given a demo technician enrolled with a known secret
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    demo = make_staff("technician", mfa=False, is_demo=True)
    services.demo_enroll_totp(demo, secret)
    out = StringIO()
    # when the code is asked for
    before = totp_code(secret)
    call_command("demo_code", demo.email, stdout=out, stderr=StringIO())
    after = totp_code(secret, at=time.time())
    # then it is the current RFC 6238 code of that secret
    assert out.getvalue().strip() in {before, after}


def test_demo_code_refuses_a_normal_account_with_exit_code_2() -> None:
    # given a normal owner with TOTP
    owner = make_staff("owner")
    # when its code is asked for
    with pytest.raises(CommandError) as refused:
        call_command("demo_code", owner.email, stdout=StringIO())
    # then it is refused with exit code 2 and a clear message
    assert refused.value.returncode == 2
    assert "is not a demo account" in str(refused.value)
