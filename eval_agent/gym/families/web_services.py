"""The four services of the web-service family: for each, the reference app (after APP_PRELUDE),
its tests, and a function that draws a task's routes, field names, codes and limits."""

from __future__ import annotations

import random

from ..phrasing import NOUNS, one_of, slug


APP_PRELUDE = '''from flask import Flask, jsonify, request

app = Flask(__name__)


def error(status, message):
    return jsonify({"error": message}), status


def body():
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else None
'''

# -- key-value store ------------------------------------------------------------------------------------
KV_APP = '''store = {}


@app.put(BASE + "/<key>")
def put_value(key):
    data = body()
    if data is None or FIELD not in data:
        return error(400, "send a JSON object with " + FIELD)
    value = data[FIELD]
    if STRICT and not isinstance(value, str):
        return error(400, FIELD + " must be a string")
    if MAX_LENGTH and len(value) > MAX_LENGTH:
        return error(422, FIELD + " is too long")
    status = 200 if key in store else CREATED
    store[key] = value
    return jsonify({"key": key, FIELD: value}), status


@app.get(BASE + "/<key>")
def get_value(key):
    if key not in store:
        return error(404, "no such key")
    return jsonify({"key": key, FIELD: store[key]})


@app.delete(BASE + "/<key>")
def delete_value(key):
    if key not in store:
        return error(404, "no such key")
    del store[key]
    return ("", 204) if DELETED == 204 else jsonify({"deleted": key})


if LISTING:
    @app.get(BASE)
    def list_keys():
        return jsonify({"keys": sorted(store)})
'''

KV_TESTS = '''

def url(key):
    return URL + BASE + "/" + key


def test_put_get_and_replace():
    assert expect(requests.put(url(KEYS[0]), json={FIELD: VALUES[0]}, timeout=5), CREATED) == {"key": KEYS[0], FIELD: VALUES[0]}
    assert expect(requests.get(url(KEYS[0]), timeout=5), 200) == {"key": KEYS[0], FIELD: VALUES[0]}
    assert expect(requests.put(url(KEYS[0]), json={FIELD: VALUES[1]}, timeout=5), 200)[FIELD] == VALUES[1]
    assert expect(requests.get(url(KEYS[0]), timeout=5), 200)[FIELD] == VALUES[1]


def test_errors():
    expect_error(requests.get(url(KEYS[2]), timeout=5), 404)
    expect_error(requests.put(url(KEYS[2]), json={"other": "x"}, timeout=5), 400)
    expect_error(requests.put(url(KEYS[2]), data="not json", timeout=5), 400)
    if STRICT:
        expect_error(requests.put(url(KEYS[2]), json={FIELD: 42}, timeout=5), 400)
    if MAX_LENGTH:
        expect_error(requests.put(url(KEYS[2]), json={FIELD: "x" * (MAX_LENGTH + 1)}, timeout=5), 422)
        expect(requests.put(url(KEYS[2]), json={FIELD: "y" * MAX_LENGTH}, timeout=5), CREATED)


def test_delete():
    expect(requests.put(url(KEYS[1]), json={FIELD: VALUES[2]}, timeout=5), CREATED)
    deleted = expect(requests.delete(url(KEYS[1]), timeout=5), DELETED)
    assert DELETED == 204 or deleted == {"deleted": KEYS[1]}
    expect_error(requests.get(url(KEYS[1]), timeout=5), 404)
    expect_error(requests.delete(url(KEYS[1]), timeout=5), 404)


def test_listing():
    if LISTING:
        expect(requests.put(url(KEYS[3]), json={FIELD: VALUES[0]}, timeout=5), CREATED)
        keys = expect(requests.get(URL + BASE, timeout=5), 200)["keys"]
        assert KEYS[3] in keys and KEYS[1] not in keys and keys == sorted(keys)
'''


def key_value(rng: random.Random, difficulty: str):
    base, field = one_of(rng, "/kv", "/store", "/api/items", "/v1/keys"), one_of(rng, "value", "data", "content")
    created = 200 if difficulty == "easy" else 201
    deleted = rng.choice([200, 204])
    strict, listing = difficulty != "easy", difficulty == "hard"
    max_length = rng.choice([16, 32, 64]) if difficulty == "hard" else 0
    keys = [f"{rng.choice(NOUNS)}-{rng.randint(100, 999)}" for _ in range(3)]
    keys.append(keys[0] + "-x")  # distinct from the rest
    keys[1], keys[2] = keys[1] + "-a", keys[2] + "-b"
    values = [f"{rng.choice(NOUNS)} {rng.randint(1, 99)}" for _ in range(3)]
    constants = dict(BASE=base, FIELD=field, CREATED=created, DELETED=deleted, STRICT=strict, LISTING=listing,
                     MAX_LENGTH=max_length)
    routes = [
        f"`PUT {base}/<key>` with a JSON body `{{\"{field}\": ...}}` stores the value under the key and answers "
        f"`{{\"key\": ..., \"{field}\": ...}}`: status {created} when the key is new" + (
            ", 200 when it replaced a value." if created != 200 else " or replaced."),
        f"`GET {base}/<key>` answers 200 and the same object; 404 for an unknown key.",
        f"`DELETE {base}/<key>` removes it: " + ("204 with an empty body" if deleted == 204 else
                                                 "200 and `{\"deleted\": \"<key>\"}`") + "; 404 for an unknown key.",
        f"A body that is not a JSON object with `{field}` gets 400"
        + (f"; so does a `{field}` that is not a string" if strict else "")
        + (f"; a string longer than {max_length} characters gets 422." if max_length else "."),
    ]
    if listing:
        routes.append(f"`GET {base}` answers `{{\"keys\": [...]}}`, every stored key in alphabetical order.")
    return "key-value store", routes, constants, KV_APP, KV_TESTS + f"\nKEYS, VALUES = {keys!r}, {values!r}\n"


# -- counters -------------------------------------------------------------------------------------------
COUNTER_APP = '''counters = {}


def shown(name):
    return jsonify({"name": name, VALUE: counters[name]})


@app.get(BASE + "/<name>")
def get_counter(name):
    if name not in counters:
        if UNKNOWN_404:
            return error(404, "no such counter")
        return jsonify({"name": name, VALUE: 0})
    return shown(name)


@app.post(BASE + "/<name>" + INCREMENT)
def increment(name):
    step = 1
    if BY and request.get_data():
        data = body()
        step = data.get("by") if data is not None else None
        if not isinstance(step, int) or isinstance(step, bool) or (step < 1 and not NEGATIVE):
            return error(400, "by must be a " + ("" if NEGATIVE else "positive ") + "whole number")
    if counters.get(name, 0) + step < 0:
        return error(409, "a counter cannot go below zero")
    counters[name] = counters.get(name, 0) + step
    return shown(name)


if RESET:
    @app.delete(BASE + "/<name>")
    def reset(name):
        if name not in counters:
            return error(404, "no such counter")
        del counters[name]
        return "", 204

    @app.get(BASE)
    def all_counters():
        return jsonify(counters)
'''

COUNTER_TESTS = '''

def test_increment_and_read():
    unknown = requests.get(URL + BASE + "/" + NAMES[0], timeout=5)
    if UNKNOWN_404:
        expect_error(unknown, 404)
    else:
        assert expect(unknown, 200) == {"name": NAMES[0], VALUE: 0}
    for expected in (1, 2, 3):
        assert expect(requests.post(URL + BASE + "/" + NAMES[0] + INCREMENT, timeout=5), 200) == {"name": NAMES[0], VALUE: expected}
    assert expect(requests.get(URL + BASE + "/" + NAMES[0], timeout=5), 200) == {"name": NAMES[0], VALUE: 3}


def test_by():
    if BY:
        post = lambda by: requests.post(URL + BASE + "/" + NAMES[1] + INCREMENT, json={"by": by}, timeout=5)
        assert expect(post(STEP), 200)[VALUE] == STEP
        assert expect(post(2), 200)[VALUE] == STEP + 2
        for bad in ("3", 1.5, True) + (() if NEGATIVE else (0, -2)):
            expect_error(post(bad), 400)
        if NEGATIVE:
            assert expect(post(-1), 200)[VALUE] == STEP + 1
            expect_error(post(-(STEP + 2)), 409)
        assert expect(requests.get(URL + BASE + "/" + NAMES[1], timeout=5), 200)[VALUE] == STEP + (1 if NEGATIVE else 2)


def test_reset_and_list():
    if RESET:
        requests.post(URL + BASE + "/" + NAMES[2] + INCREMENT, timeout=5)
        listed = expect(requests.get(URL + BASE, timeout=5), 200)
        assert listed[NAMES[2]] == 1
        expect(requests.delete(URL + BASE + "/" + NAMES[2], timeout=5), 204)
        assert NAMES[2] not in expect(requests.get(URL + BASE, timeout=5), 200)
        expect_error(requests.delete(URL + BASE + "/" + NAMES[2], timeout=5), 404)
'''


def counters(rng: random.Random, difficulty: str):
    base = one_of(rng, "/counters", "/count", "/api/counters", "/tally")
    increment = one_of(rng, "/increment", "/incr", "/up", "/hit")
    value = one_of(rng, "value", "count", "total")
    by, reset = difficulty != "easy", difficulty == "hard"
    negative = difficulty == "hard" and rng.random() < 0.6
    unknown_404 = difficulty != "easy" and rng.random() < 0.5
    names = [f"{slug(rng, '-')}-{rng.randint(10, 99)}" for _ in range(3)]
    constants = dict(BASE=base, INCREMENT=increment, VALUE=value, BY=by, RESET=reset, NEGATIVE=negative,
                     UNKNOWN_404=unknown_404, NAMES=names, STEP=rng.randint(3, 9))
    routes = [
        f"`GET {base}/<name>` answers 200 and `{{\"name\": \"<name>\", \"{value}\": <int>}}`; "
        + ("a counter never incremented answers 404." if unknown_404 else "a counter never incremented is 0."),
        (f"`POST {base}/<name>{increment}` adds 1 to the counter (creating it at 0 first) and answers 200 with "
         "the same object, holding the new value."),
    ]
    if by:
        routes.append("That POST may carry a JSON body `{\"by\": n}` to add n instead of 1; n must be "
                      + ("a whole number (JSON integer, not a string, float or boolean), and may be negative, but "
                         "a counter never goes below 0: a step that would make it negative gets 409 and changes "
                         "nothing" if negative else "a positive whole number (a JSON integer, not a string, float "
                                                     "or boolean)") + "; anything else gets 400.")
    if reset:
        routes += [f"`DELETE {base}/<name>` removes the counter: 204; 404 when there is no such counter.",
                   f"`GET {base}` answers a JSON object of every counter, name -> value."]
    return "counter service", routes, constants, COUNTER_APP, COUNTER_TESTS


# -- notes ----------------------------------------------------------------------------------------------
NOTES_APP = '''notes = {}
next_id = [1]


def checked_text(data):
    text = data.get(TEXT) if data is not None else None
    if not isinstance(text, str) or not text.strip():
        return None, error(400, TEXT + " must be a non-empty string")
    if MAX_LENGTH and len(text) > MAX_LENGTH:
        return None, error(422, TEXT + " is too long")
    return text, None


@app.post(BASE)
def create_note():
    data = body()
    text, problem = checked_text(data)
    if problem:
        return problem
    note = {"id": next_id[0], TEXT: text}
    if TAGS:
        tags = data.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
            return error(400, "tags must be a list of strings")
        note["tags"] = tags
    notes[next_id[0]] = note
    next_id[0] += 1
    return jsonify(note), 201


@app.get(BASE)
def list_notes():
    tag = request.args.get("tag")
    return jsonify([note for _, note in sorted(notes.items()) if tag is None or tag in note.get("tags", [])])


@app.get(BASE + "/<int:note_id>")
def get_note(note_id):
    return jsonify(notes[note_id]) if note_id in notes else error(404, "no such note")


if DELETE:
    @app.delete(BASE + "/<int:note_id>")
    def delete_note(note_id):
        if note_id not in notes:
            return error(404, "no such note")
        del notes[note_id]
        return "", 204

if EDIT:
    @app.patch(BASE + "/<int:note_id>")
    def edit_note(note_id):
        if note_id not in notes:
            return error(404, "no such note")
        text, problem = checked_text(body())
        if problem:
            return problem
        notes[note_id][TEXT] = text
        return jsonify(notes[note_id])
'''

NOTES_TESTS = '''

def create(text, tags=None):
    payload = {TEXT: text} if tags is None else {TEXT: text, "tags": tags}
    return requests.post(URL + BASE, json=payload, timeout=5)


def test_create_get_and_list():
    first = expect(create(TEXTS[0], [TAG] if TAGS else None), 201)
    second = expect(create(TEXTS[1], [] if TAGS else None), 201)
    assert isinstance(first["id"], int) and second["id"] > first["id"]
    assert first == dict({"id": first["id"], TEXT: TEXTS[0]}, **({"tags": [TAG]} if TAGS else {}))
    assert expect(requests.get(URL + BASE + "/" + str(first["id"]), timeout=5), 200) == first
    listed = expect(requests.get(URL + BASE, timeout=5), 200)
    ids = [note["id"] for note in listed]
    assert ids == sorted(ids) and first in listed and second in listed
    if TAGS:
        assert expect(requests.get(URL + BASE, params={"tag": TAG}, timeout=5), 200) == [first]


def test_errors():
    expect_error(requests.get(URL + BASE + "/987654", timeout=5), 404)
    expect_error(create(""), 400)
    expect_error(create("   "), 400)
    expect_error(requests.post(URL + BASE, json={"title": TEXTS[0]}, timeout=5), 400)
    if MAX_LENGTH:
        expect_error(create("n" * (MAX_LENGTH + 1)), 422)
        expect(create("m" * MAX_LENGTH), 201)


def test_delete_and_edit():
    if DELETE:
        note = expect(create(TEXTS[2]), 201)
        expect(requests.delete(URL + BASE + "/" + str(note["id"]), timeout=5), 204)
        expect_error(requests.get(URL + BASE + "/" + str(note["id"]), timeout=5), 404)
        expect_error(requests.delete(URL + BASE + "/" + str(note["id"]), timeout=5), 404)
    if EDIT:
        note = expect(create(TEXTS[0]), 201)
        edited = expect(requests.patch(URL + BASE + "/" + str(note["id"]), json={TEXT: TEXTS[2]}, timeout=5), 200)
        assert edited["id"] == note["id"] and edited[TEXT] == TEXTS[2]
        expect_error(requests.patch(URL + BASE + "/" + str(note["id"]), json={TEXT: ""}, timeout=5), 400)
        expect_error(requests.patch(URL + BASE + "/987654", json={TEXT: "x"}, timeout=5), 404)
'''


def notes(rng: random.Random, difficulty: str):
    base, text = one_of(rng, "/notes", "/api/notes", "/memos", "/v1/notes"), one_of(rng, "text", "body", "content")
    tags, delete, edit = difficulty != "easy", difficulty != "easy", difficulty == "hard"
    max_length = rng.choice([140, 200, 280]) if difficulty != "easy" else 0
    texts = [f"{one_of(rng, 'Call', 'Email', 'Visit', 'Pay')} {rng.choice(NOUNS)} about the {rng.choice(NOUNS)}"
             for _ in range(3)]
    constants = dict(BASE=base, TEXT=text, TAGS=tags, DELETE=delete, EDIT=edit, MAX_LENGTH=max_length, TEXTS=texts,
                     TAG=f"{rng.choice(NOUNS)}{rng.randint(100, 999)}")
    shape = f"`{{\"id\": <int>, \"{text}\": \"...\"" + (", \"tags\": [...]" if tags else "") + "}`"
    routes = [
        f"`POST {base}` with `{{\"{text}\": \"...\"" + (", \"tags\": [\"...\"]" if tags else "") + "}` creates a note"
        f" and answers 201 with it as {shape}; ids are integers that grow with each new note"
        + ("; `tags` is optional (default: an empty list) and must be a list of strings." if tags else "."),
        f"`GET {base}/<id>` answers 200 and the note; 404 for an unknown id.",
        f"`GET {base}` answers a JSON list of every note, by increasing id"
        + (f"; `GET {base}?tag=<tag>` only the notes that have that tag." if tags else "."),
        f"A missing, empty or blank `{text}` gets 400" + (f"; one longer than {max_length} characters gets 422."
                                                          if max_length else "."),
    ]
    if delete:
        routes.append(f"`DELETE {base}/<id>` removes the note: 204, or 404 for an unknown id.")
    if edit:
        routes.append(f"`PATCH {base}/<id>` with `{{\"{text}\": \"...\"}}` replaces its text and answers 200 with "
                      "the note (the same checks as creating one; 404 for an unknown id).")
    return "notes service", routes, constants, NOTES_APP, NOTES_TESTS


# -- unit converter -------------------------------------------------------------------------------------
FACTORS = {"length": {"m": 1, "km": 1000, "cm": 0.01, "mm": 0.001, "mi": 1609.344, "ft": 0.3048, "in": 0.0254},
           "mass": {"g": 1, "kg": 1000, "mg": 0.001, "lb": 453.59237, "oz": 28.349523125}}
# temperature: to kelvin and back, (scale, offset): kelvin = value * scale + offset
TEMPERATURE = {"C": (1, 273.15), "K": (1, 0), "F": (5 / 9, 273.15 - 32 * 5 / 9)}

CONVERTER_APP = '''def convert(value, source, target):
    kinds = {unit: kind for kind, units in UNITS.items() for unit in units}
    if source not in kinds or target not in kinds:
        return None, error(400, "unknown unit")
    if kinds[source] != kinds[target]:
        return None, error(422, "cannot convert " + kinds[source] + " to " + kinds[target])
    if kinds[source] == "temperature":
        (scale_in, offset_in), (scale_out, offset_out) = TEMPERATURE[source], TEMPERATURE[target]
        return round(((value * scale_in + offset_in) - offset_out) / scale_out, DECIMALS), None
    return round(value * FACTORS[kinds[source]][source] / FACTORS[kinds[target]][target], DECIMALS), None


def answer(raw, source, target):
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return error(400, "value must be a number")
    result, problem = convert(value, source, target)
    return problem or jsonify({"value": value, "from": source, "to": target, RESULT: result})


if QUERY:
    @app.get(ROUTE)
    def by_query():
        return answer(request.args.get("value"), request.args.get("from"), request.args.get("to"))
else:
    @app.get(ROUTE + "/<source>/<target>/<raw>")
    def by_path(source, target, raw):
        return answer(raw, source, target)

if LIST_UNITS:
    @app.get("/units")
    def units():
        return jsonify(UNITS)
'''

CONVERTER_TESTS = '''

def convert(value, source, target):
    if QUERY:
        return requests.get(URL + ROUTE, params={"value": value, "from": source, "to": target}, timeout=5)
    return requests.get(URL + ROUTE + "/" + source + "/" + target + "/" + str(value), timeout=5)


def test_conversions():
    for value, source, target, want in CASES:
        got = expect(convert(value, source, target), 200)
        assert got["from"] == source and got["to"] == target and got["value"] == value
        assert abs(got[RESULT] - want) <= 10 ** -DECIMALS, (value, source, target, got, want)
        assert round(got[RESULT], DECIMALS) == got[RESULT], "not rounded"


def test_errors():
    expect_error(convert(3, UNKNOWN, CASES[0][2]), 400)
    expect_error(convert("abc", CASES[0][1], CASES[0][2]), 400)
    if MIXED:
        expect_error(convert(3, *MIXED), 422)


def test_units():
    if LIST_UNITS:
        listed = expect(requests.get(URL + "/units", timeout=5), 200)
        assert {kind: sorted(names) for kind, names in listed.items()} == {kind: sorted(names) for kind, names in UNITS.items()}
'''


def converter(rng: random.Random, difficulty: str):
    kinds = ["length"] if difficulty == "easy" else rng.sample(["length", "mass"], 2)
    units = {kind: sorted(rng.sample(sorted(FACTORS[kind]), rng.randint(4, len(FACTORS[kind])))) for kind in kinds}
    if difficulty == "hard":
        units["temperature"] = ["C", "F", "K"]
    decimals, result = rng.choice([2, 3, 4]), one_of(rng, "result", "converted", "answer")
    query = difficulty == "easy" or rng.random() < 0.5
    route = one_of(rng, "/convert", "/api/convert", "/v1/convert")

    def exact(value, source, target, kind):
        if kind == "temperature":
            (a, b), (c, d) = TEMPERATURE[source], TEMPERATURE[target]
            return round(((value * a + b) - d) / c, decimals)
        return round(value * FACTORS[kind][source] / FACTORS[kind][target], decimals)

    cases = []
    for kind, names in units.items():
        for _ in range(2 if kind != "temperature" else 3):
            source, target = rng.sample(names, 2)
            value = rng.choice([rng.randint(1, 500), round(rng.uniform(0.5, 90), 1)]) * (-1 if kind == "temperature" and rng.random() < 0.3 else 1)
            cases.append([value, source, target, exact(value, source, target, kind)])
    mixed = [units[kinds[0]][0], units[kinds[1]][0]] if len(kinds) > 1 else None
    offered = {unit for names in units.values() for unit in names}
    unknown = rng.choice([u for kind in FACTORS.values() for u in kind if u not in offered] or ["parsec"])
    constants = dict(ROUTE=route, RESULT=result, DECIMALS=decimals, QUERY=query, UNITS=units, LIST_UNITS=difficulty == "hard",
                     FACTORS={kind: {u: FACTORS[kind][u] for u in names} for kind, names in units.items() if kind in FACTORS},
                     TEMPERATURE=TEMPERATURE, CASES=cases, MIXED=mixed, UNKNOWN=unknown)
    unit_words = "; ".join(f"{kind}: {', '.join(f'`{u}`' for u in names)}" for kind, names in units.items())
    request_words = (f"`GET {route}?value=<number>&from=<unit>&to=<unit>`" if query
                     else f"`GET {route}/<from>/<to>/<number>` (for example `{route}/{cases[0][1]}/{cases[0][2]}/12.5`)")
    routes = [
        (f"{request_words} answers 200 and `{{\"value\": <the number>, \"from\": ..., \"to\": ..., "
         f"\"{result}\": <converted>}}`, the result rounded to {decimals} decimal places."),
        f"Supported units (exact names, case-sensitive): {unit_words}."
        + (" Use 1 mi = 1609.344 m, 1 ft = 0.3048 m, 1 in = 0.0254 m" if "length" in units else "")
        + (", 1 lb = 453.59237 g, 1 oz = 28.349523125 g" if "mass" in units else "") + ".",
        "An unknown unit or a value that is not a number gets 400"
        + ("; converting between kinds (say length to mass) gets 422." if mixed else "."),
    ]
    if difficulty == "hard":
        routes.append("`GET /units` answers a JSON object mapping each kind to its list of unit names.")
    return "unit converter", routes, constants, CONVERTER_APP, CONVERTER_TESTS


KINDS = [key_value, counters, notes, converter]
