import requests

BASE = "http://127.0.0.1:18080"


def test_todo_lifecycle():
    assert requests.get(f"{BASE}/todos", timeout=5).json() == []
    first = requests.post(f"{BASE}/todos", json={"title": "buy milk"}, timeout=5)
    assert first.status_code == 201
    assert first.json() == {"id": 1, "title": "buy milk", "done": False}
    second = requests.post(f"{BASE}/todos", json={"title": "write tests"}, timeout=5).json()
    assert second["id"] == 2
    assert [t["title"] for t in requests.get(f"{BASE}/todos", timeout=5).json()] == ["buy milk", "write tests"]

    patched = requests.patch(f"{BASE}/todos/1", json={"done": True}, timeout=5)
    assert patched.status_code == 200 and patched.json()["done"] is True
    assert requests.get(f"{BASE}/todos/1", timeout=5).json()["done"] is True

    assert requests.delete(f"{BASE}/todos/1", timeout=5).status_code == 204
    assert requests.get(f"{BASE}/todos/1", timeout=5).status_code == 404
    assert [t["id"] for t in requests.get(f"{BASE}/todos", timeout=5).json()] == [2]


def test_errors():
    assert requests.post(f"{BASE}/todos", json={}, timeout=5).status_code == 400
    assert requests.post(f"{BASE}/todos", json={"title": ""}, timeout=5).status_code == 400
    assert requests.get(f"{BASE}/todos/999", timeout=5).status_code == 404
    assert requests.patch(f"{BASE}/todos/999", json={"done": True}, timeout=5).status_code == 404
    assert requests.delete(f"{BASE}/todos/999", timeout=5).status_code == 404
