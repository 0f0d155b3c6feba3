"""Helpers of notebooks/fail/helper.md: the error is raised three calls deep."""


def normalise(values):
    return [scale(value) for value in values]


def scale(value):
    return 1.0 / check(value)


def check(value):
    if value == 0:
        raise ValueError(f"cannot scale {value!r}: it is zero")
    return value
