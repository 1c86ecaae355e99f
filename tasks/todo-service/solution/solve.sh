#!/bin/bash
set -euo pipefail
cat > /app/app.py <<'PY'
import os

from flask import Flask, abort, jsonify, request

app = Flask(__name__)
todos = {}
next_id = 1


def find(todo_id):
    if todo_id not in todos:
        abort(404)
    return todos[todo_id]


@app.get("/todos")
def list_todos():
    return jsonify(list(todos.values()))


@app.post("/todos")
def create_todo():
    global next_id
    title = (request.get_json(silent=True) or {}).get("title")
    if not isinstance(title, str) or not title.strip():
        abort(400)
    todo = {"id": next_id, "title": title, "done": False}
    todos[next_id] = todo
    next_id += 1
    return jsonify(todo), 201


@app.get("/todos/<int:todo_id>")
def get_todo(todo_id):
    return jsonify(find(todo_id))


@app.patch("/todos/<int:todo_id>")
def update_todo(todo_id):
    todo = find(todo_id)
    body = request.get_json(silent=True) or {}
    if "done" in body:
        todo["done"] = bool(body["done"])
    if isinstance(body.get("title"), str) and body["title"].strip():
        todo["title"] = body["title"]
    return jsonify(todo)


@app.delete("/todos/<int:todo_id>")
def delete_todo(todo_id):
    find(todo_id)
    del todos[todo_id]
    return "", 204


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=int(os.environ.get("PORT", "8000")))
PY
python3 -c "import ast; ast.parse(open('/app/app.py').read())"
