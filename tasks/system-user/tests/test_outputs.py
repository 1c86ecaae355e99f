import os
import pwd
import stat

import pytest


@pytest.fixture
def reporter():
    try:
        return pwd.getpwnam("reporter")
    except KeyError:
        pytest.fail("there is no user named reporter")


def test_a_system_account_without_a_login_shell(reporter):
    assert reporter.pw_uid < 1000, "a system account has a uid below 1000"
    assert reporter.pw_shell == "/usr/sbin/nologin"
    assert reporter.pw_dir == "/var/lib/reporter"


def test_the_home_folder_is_the_users(reporter):
    home = os.stat("/var/lib/reporter")
    assert stat.S_ISDIR(home.st_mode) and home.st_uid == reporter.pw_uid


def test_the_script_moved_and_is_the_owners_alone(reporter):
    assert not os.path.exists("/opt/report/run.sh")
    script = os.stat("/var/lib/reporter/run.sh")
    assert script.st_uid == reporter.pw_uid
    assert stat.S_IMODE(script.st_mode) == 0o700
