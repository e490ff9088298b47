"""Checks a captured MediaConvert CreateJob HTTP request body against botocore's service model.

Usage: wire_createjob.py BODY.json

The body is what went over the wire (REST-JSON: members by their locationName, e.g.
"outputGroups"). Every key is mapped back to its model member (an unknown key is a problem),
then botocore's validator and the enum checks of host/cli/tests/validate_mediaconvert.py run
on the result. Prints the problems; exits 1 if there is any.
"""

import json
import os
import sys

import botocore.session
from botocore.exceptions import ParamValidationError
from botocore.validate import validate_parameters

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "cli", "tests"))
from validate_mediaconvert import enum_problems  # noqa: E402


def from_wire(value, shape, path, problems):
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        by_wire = {(m.serialization.get("name") or n): (n, m) for n, m in shape.members.items()}
        out = {}
        for key, item in value.items():
            if key not in by_wire:
                problems.append(f"{path}: {key!r} is not a member on the wire")
                continue
            name, member = by_wire[key]
            out[name] = from_wire(item, member, f"{path}.{name}", problems)
        return out
    if kind == "list" and isinstance(value, list):
        return [from_wire(v, shape.member, f"{path}[{i}]", problems) for i, v in enumerate(value)]
    if kind == "map" and isinstance(value, dict):
        return {k: from_wire(v, shape.value, f"{path}[{k!r}]", problems) for k, v in value.items()}
    return value


def main(path):
    model = botocore.session.get_session().get_service_model("mediaconvert")
    shape = model.operation_model("CreateJob").input_shape
    with open(path) as f:
        body = json.load(f)
    problems = []
    request = from_wire(body, shape, "CreateJob", problems)
    try:
        validate_parameters(request, shape)
    except ParamValidationError as e:
        problems.append(str(e))
    problems.extend(enum_problems(request, shape, "CreateJob"))
    for p in problems:
        print(p)
    if not problems:
        print(f"valid CreateJob wire body (model {model.api_version})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
