import csv


def test_summary_rows():
    with open("/app/summary.csv", newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["region", "revenue", "units"]
    assert rows[1:] == [
        ["South", "133.72", "28"],
        ["West", "96.98", "14"],
        ["North", "63.99", "15"],
        ["East", "27.00", "9"],
    ]
