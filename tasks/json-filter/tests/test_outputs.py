import json


def test_active_adult_emails():
    with open("/app/active_emails.json") as file:
        assert json.load(file) == ["ada@example.com", "dee@example.net", "eve@example.com"]


def test_teams():
    with open("/app/teams.json") as file:
        teams = json.load(file)
    assert teams == {"core": ["Ada", "Bob", "Eve"], "infra": ["Ada"], "web": ["Dee", "Eve"]}
    assert list(teams) == sorted(teams)
