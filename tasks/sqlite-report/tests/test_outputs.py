import sqlite3


def test_view():
    with sqlite3.connect("/app/shop.db") as db:
        kind = db.execute("SELECT type FROM sqlite_master WHERE name = 'customer_revenue'").fetchone()
        assert kind == ("view",)
        rows = dict(db.execute("SELECT name, revenue FROM customer_revenue").fetchall())
    assert rows.keys() == {"Acme", "Globex", "Initech", "Umbrella"}
    assert round(rows["Acme"], 2) == 200.5
    assert round(rows["Globex"], 2) == 95.25
    assert round(rows["Initech"], 2) == 249.9
    assert rows["Umbrella"] == 0


def test_top_customer():
    with open("/app/top_customer.txt") as file:
        assert file.read().strip() == "Initech"
