"""Minimal valid request bodies, built from the OpenAPI document, for the tests that walk every route.

`sample_body(spec, schema, fill)` follows `$ref`s and writes the required properties only, with
the schema's own answers where it has them (`const`, the first `enum` value, the first of its
`examples`), else a value of the right format (uuid, date, date-time in the future, time, email),
a string that matches its `pattern` and length limits, a number within its bounds. `anyOf` takes
its first non-null member; a discriminated `oneOf` its first variant, with the tag set.

Properties named like an id (`*_id`, `*_ids`) are the point of the walks: `fill(name)` gives the
value to put there (tenant A's thing of that name) and such a property is written even when it
is optional, so every id a body can carry is tried. A uuid id that `fill` has no value for stops
the walk (`UnknownId`): a new kind of reference must be given a value, not skipped silently.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from re import _parser as regex_parser  # the stdlib's own parser: the shortest string a pattern accepts
from typing import Any

ID_NAME = re.compile(r"_ids?$")
FUTURE = timedelta(days=30)

Path = tuple[str | int, ...]


class UnknownId(LookupError):
    """A uuid id property the walk has no value for."""


@dataclass
class Sample:
    body: Any
    ids: dict[Path, str]  # where an id was filled in: its path -> the name it was looked up by

    def with_ids(self, values: dict[Path, Any]) -> Any:
        body = copy.deepcopy(self.body)
        for path, value in values.items():
            target = body
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = value
        return body


def dotted(path: Path) -> str:
    """The path as the API's problems name a field: `lines.0.ref_id`."""
    return ".".join(str(p) for p in path)


def looks_like_id(name: str) -> bool:
    return bool(ID_NAME.search(name))


def singular(name: str) -> str:
    return name[:-1] if name.endswith("_ids") else name


def sample_body(spec: dict[str, Any], schema: dict[str, Any], fill: Callable[[str], str | None],
                override: dict[str, Any] | None = None) -> Sample:
    """The body; `override` (merged in, objects key by key) gives what the schema cannot say."""
    ids: dict[Path, str] = {}
    body = _Sampler(spec, fill, ids).value(schema, "", ())
    return Sample(_merged(body, override) if override else body, ids)


def _merged(made: Any, override: Any) -> Any:
    if isinstance(made, dict) and isinstance(override, dict):
        return {**made, **{k: _merged(made.get(k), v) for k, v in override.items()}}
    return copy.deepcopy(override)


def sample_value(spec: dict[str, Any], schema: dict[str, Any], name: str) -> Any:
    """A valid value for one parameter (a query's, say); an id is a fresh uuid, nobody's."""
    return _Sampler(spec, lambda _: None, {}, fresh_ids=True).value(schema, name, ())


class _Sampler:
    def __init__(self, spec: dict[str, Any], fill: Callable[[str], str | None], ids: dict[Path, str],
                 *, fresh_ids: bool = False) -> None:
        self.schemas: dict[str, Any] = spec.get("components", {}).get("schemas", {})
        self.fill = fill
        self.ids = ids
        self.fresh_ids = fresh_ids

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = self.schemas[schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    def value(self, schema: dict[str, Any], name: str, path: Path) -> Any:
        schema = self.resolve(schema)
        if "const" in schema:
            return schema["const"]
        if "oneOf" in schema:
            return self._one_of(schema, name, path)
        if "anyOf" in schema or "allOf" in schema:
            members = [m for m in schema.get("anyOf", schema.get("allOf", [])) if self.resolve(m).get("type") != "null"]
            return self.value(members[0], name, path) if members else None
        if looks_like_id(name) and schema.get("type") in ("string", None):
            found = self.fill(name)
            if found is not None:
                self.ids[path] = name
                return found
            if schema.get("format") == "uuid" and not self.fresh_ids:
                raise UnknownId(name)
        if "enum" in schema:
            return schema["enum"][0]
        if schema.get("examples"):
            return copy.deepcopy(schema["examples"][0])
        if "example" in schema:
            return copy.deepcopy(schema["example"])
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            return self._object(schema, path)
        if kind == "array":
            return self._array(schema, name, path)
        if kind == "string":
            return _string(schema)
        if kind in ("integer", "number"):
            return _number(schema)
        if kind == "boolean":
            return False
        raise ValueError(f"{dotted(path) or 'body'}: no sample for schema {json.dumps(schema)[:200]}")

    def _one_of(self, schema: dict[str, Any], name: str, path: Path) -> Any:
        first = schema["oneOf"][0]
        made = self.value(first, name, path)
        discriminator = schema.get("discriminator")
        if discriminator and isinstance(made, dict):
            tags = [tag for tag, ref in discriminator.get("mapping", {}).items() if ref == first.get("$ref")]
            if tags:
                made[discriminator["propertyName"]] = tags[0]
        return made

    def _object(self, schema: dict[str, Any], path: Path) -> dict[str, Any]:
        required = set(schema.get("required", []))
        made: dict[str, Any] = {}
        for key, sub in schema.get("properties", {}).items():
            if key in required:
                made[key] = self.value(sub, key, (*path, key))
                continue
            # An optional property is written only if it carries an id to try.
            before = dict(self.ids)
            try:
                candidate = self.value(sub, key, (*path, key))
            except ValueError:
                self.ids.clear()
                self.ids.update(before)
                continue
            if len(self.ids) > len(before):
                made[key] = candidate
            else:
                self.ids.clear()
                self.ids.update(before)
        return made

    def _array(self, schema: dict[str, Any], name: str, path: Path) -> list[Any]:
        least = int(schema.get("minItems", 0))
        before = dict(self.ids)
        items = [self.value(schema.get("items", {}), singular(name), (*path, i)) for i in range(max(least, 1))]
        if least == 0 and len(self.ids) == len(before):
            return []
        return items


def _string(schema: dict[str, Any]) -> str:
    now = datetime.now(UTC)
    by_format = {
        "uuid": lambda: str(uuid.uuid4()),
        "date": lambda: (now + FUTURE).date().isoformat(),
        "date-time": lambda: (now + FUTURE).replace(microsecond=0).isoformat(),
        "time": lambda: "10:00",
        "email": lambda: "walker@example.com",
    }
    made = by_format[schema["format"]]() if schema.get("format") in by_format else None
    if made is None:
        made = shortest_match(schema["pattern"]) if "pattern" in schema else "walk"
        made += "x" * max(0, int(schema.get("minLength", 0)) - len(made))
    return made[: int(schema.get("maxLength", len(made)))]


def _number(schema: dict[str, Any]) -> int | float:
    low = schema.get("minimum")
    if low is None and "exclusiveMinimum" in schema:
        low = schema["exclusiveMinimum"] + 1
    high = schema.get("maximum")
    if high is None and "exclusiveMaximum" in schema:
        high = schema["exclusiveMaximum"] - 1
    made = low if low is not None else 1
    if high is not None:
        made = min(made, high)
    return int(made) if schema.get("type") == "integer" else made


def shortest_match(pattern: str) -> str:
    """The shortest string `pattern` accepts, for the patterns request schemas use (literals,
    classes, repeats, groups, alternatives); ValueError for what this does not understand."""
    made = _shortest(regex_parser.parse(pattern))
    if not re.search(pattern, made):
        raise ValueError(f"no sample for pattern {pattern!r}")
    return made


def _shortest(parsed: Any) -> str:
    made = []
    for op, arg in parsed:
        kind = str(op)
        if kind == "LITERAL":
            made.append(chr(arg))
        elif kind == "IN":
            made.append(_first_of(arg))
        elif kind in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            least, _, sub = arg
            made.append(_shortest(sub) * least)
        elif kind == "SUBPATTERN":
            made.append(_shortest(arg[-1]))
        elif kind == "BRANCH":
            made.append(_shortest(arg[1][0]))
        elif kind == "ANY":
            made.append("a")
        elif kind != "AT":
            raise ValueError(f"no sample for regex part {kind}")
    return "".join(made)


def _first_of(members: Any) -> str:
    op, arg = members[0]
    kind = str(op)
    if kind == "LITERAL":
        return chr(arg)
    if kind == "RANGE":
        return chr(arg[0])
    if kind == "CATEGORY":
        return {"CATEGORY_DIGIT": "0", "CATEGORY_WORD": "a", "CATEGORY_SPACE": " "}[str(arg)]
    raise ValueError(f"no sample for regex class part {kind}")
