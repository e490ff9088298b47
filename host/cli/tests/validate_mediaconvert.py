"""Validates MediaConvert CreateJob requests against botocore's MediaConvert service model.

Usage: validate_mediaconvert.py JOB.json [JOB.json ...]

Each file holds one CreateJob request (what `vodpipe plan --json` prints under "job").
botocore's own validator checks required members, types, unknown members and minimums;
on top, this walks the request and checks every enum value against the model, which
botocore leaves to the service. Prints every problem; exits 1 if there is any.
"""

import json
import sys

import botocore.session
from botocore.exceptions import ParamValidationError
from botocore.validate import validate_parameters


def enum_problems(value, shape, path):
    kind = shape.type_name
    if kind == "structure":
        for name, member in shape.members.items():
            if isinstance(value, dict) and name in value:
                yield from enum_problems(value[name], member, f"{path}.{name}")
    elif kind == "list" and isinstance(value, list):
        for i, item in enumerate(value):
            yield from enum_problems(item, shape.member, f"{path}[{i}]")
    elif kind == "map" and isinstance(value, dict):
        for key, item in value.items():
            yield from enum_problems(item, shape.value, f"{path}[{key!r}]")
    elif kind == "string" and shape.enum and value not in shape.enum:
        yield f"{path}: {value!r} is not one of {shape.enum}"
    elif kind in ("integer", "long", "double") and isinstance(value, (int, float)):
        maximum = shape.metadata.get("max")
        if maximum is not None and value > maximum:
            yield f"{path}: {value} is above the model's maximum {maximum}"


def main(paths):
    model = botocore.session.get_session().get_service_model("mediaconvert")
    shape = model.operation_model("CreateJob").input_shape
    failed = False
    for path in paths:
        with open(path) as f:
            request = json.load(f)
        problems = []
        try:
            validate_parameters(request, shape)
        except ParamValidationError as e:
            problems.append(str(e))
        problems.extend(enum_problems(request, shape, "CreateJob"))
        if problems:
            failed = True
            print(f"{path}: INVALID")
            for p in problems:
                print(f"  {p}")
        else:
            print(f"{path}: valid CreateJob request (model {model.api_version})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
