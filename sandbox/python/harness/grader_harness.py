"""Guest side of the autograder sandbox: runs student code, returns raw data.

This module is snapshotted by componentize-py into a pre-initialised CPython
component. The host calls `WitWorld.run(request_json)` once per fresh
instance. Nothing here judges a submission: it runs a program, calls
functions or runs in-process tests, and hands back what happened as plain
data. Verdicts are made on the host, which also holds every expected value.

Request (JSON object):
  nonce     str   made by the host, echoed back unchanged
  kind      "program" | "functions" | "tests"
  cwd       str   working directory (the submission copy)
  path      [str] prepended to sys.path
  argv      [str] sys.argv for programs (argv[0] is the script or module)
  script    str?  program: a path to run as __main__
  module    str?  program: a module to run as __main__; functions: module to import
  function  str?  functions: the function to call
  cases     [{args: [..], kwargs: {..}}]   functions: one call per case
  source    str?  tests: the test file's text (never written to disk)
  filename  str?  tests: the name shown in tracebacks

Response (JSON object):
  nonce     str
  outcome   "ok" | "exception" | "exit"
  exit_code int?      for programs: the SystemExit code (0 when it returned)
  error     str?      a traceback of the student's code (for the host to filter)
  cases     [{value: V} | {error: str} | {unplain: str}]
  tests     [{name: str, outcome: "passed"|"failed"|"error"}]

Values V are JSON with tags for what JSON lacks: {"$float": "nan"|"inf"|"-inf"},
{"$int": "<digits>"} for integers beyond 2**53, {"$dict": {...}} for dicts whose
keys start with "$". Anything that is not exactly None, bool, int, float, str,
list, tuple or dict (subclasses included) is "unplain": a value that compares
equal to everything cannot pass for data.
"""

import importlib
import json
import os
import runpy
import sys
import traceback
import types
import unittest

import wit_world

# The standard library a homework may use. In the WebAssembly component these are imported at
# build time so that the snapshot already holds them (only modules imported then exist at run
# time); a missing one fails the build. Keep this list in sync with README.md ("Python runtime").
# In a container (the stand-in `wit_world` sets SNAPSHOT = False) they import on demand instead.
_HOMEWORK = (
    "abc argparse array base64 bisect calendar cmath collections collections.abc colorsys "
    "contextlib copy csv dataclasses datetime decimal difflib enum fnmatch fractions functools "
    "glob hashlib heapq importlib importlib.util io itertools json keyword math numbers operator "
    "os os.path pathlib pprint random re runpy shlex statistics string struct sys textwrap time "
    "traceback types typing unittest warnings zlib"
).split()
# Further modules, imported by name so that one missing from this CPython build does not stop
# the build; OPTIONAL_MODULES_LOADED lists those that made it into the snapshot.
_OPTIONAL = (
    "pkgutil linecache tokenize inspect dis ast codecs locale secrets uuid html html.parser "
    "xml.etree.ElementTree xml.dom.minidom gzip bz2 lzma zipfile tarfile pickle shutil tempfile "
    "queue threading weakref doctest unittest.mock contextvars graphlib cProfile profile pstats "
    "timeit sched email.message urllib.parse unicodedata stringprep encodings.idna encodings.utf_16 "
    "encodings.latin_1 encodings.ascii encodings.utf_32 selectors sqlite3 ctypes"
).split()
OPTIONAL_MODULES_LOADED = []
if getattr(wit_world, "SNAPSHOT", True):
    for _name in _HOMEWORK:
        importlib.import_module(_name)
    for _name in _OPTIONAL:
        try:
            importlib.import_module(_name)
            OPTIONAL_MODULES_LOADED.append(_name)
        except Exception:  # noqa: BLE001 - absent from this build
            pass

# Private references taken before any student code runs, so that a
# submission rebinding builtins cannot change how results are encoded.
_type = type
_isinstance = isinstance
_len = len
_str = str
_float = float
_repr = repr
_json_dumps = json.dumps
_json_loads = json.loads
_modules = sys.modules
_MAX_DEPTH = 64
_MAX_ITEMS = 1_000_000


class _Unplain(Exception):
    pass


def _encode(value, depth, budget):
    budget[0] -= 1
    if budget[0] < 0:
        raise _Unplain("a value with more than 1,000,000 items")
    if depth > _MAX_DEPTH:
        raise _Unplain("a value nested more than 64 levels deep")
    t = _type(value)
    if value is None or t is bool or t is str:
        return value
    if t is int:
        if -(2**53) <= value <= 2**53:
            return value
        return {"$int": _str(value)}
    if t is float:
        if value != value:
            return {"$float": "nan"}
        if value == _float("inf"):
            return {"$float": "inf"}
        if value == _float("-inf"):
            return {"$float": "-inf"}
        return value
    if t is list or t is tuple:
        return [_encode(item, depth + 1, budget) for item in value]
    if t is dict:
        out = {}
        tagged = False
        for key, item in value.items():
            if _type(key) is not str:
                raise _Unplain("a dict with a key of type " + _type(key).__qualname__)
            tagged = tagged or key.startswith("$")
            out[key] = _encode(item, depth + 1, budget)
        return {"$dict": out} if tagged else out
    # numpy's scalars and arrays (container backend) become Python numbers and lists, which are
    # then checked like any other value: whatever `item()` or `tolist()` returns must be plain.
    numpy = _modules.get("numpy")
    if numpy is not None:
        if _isinstance(value, numpy.ndarray):
            return _encode(value.tolist(), depth + 1, budget)
        if _isinstance(value, numpy.generic):
            return _encode(value.item(), depth + 1, budget)
    raise _Unplain(t.__qualname__)


def _decode(value):
    if _type(value) is list:
        return [_decode(item) for item in value]
    if _type(value) is dict:
        if "$float" in value:
            return _float(value["$float"])
        if "$int" in value:
            return int(value["$int"])
        if "$dict" in value:
            return {k: _decode(v) for k, v in value["$dict"].items()}
        return {k: _decode(v) for k, v in value.items()}
    return value


def _student_traceback(exc):
    """The traceback from the first frame outside the harness and runpy."""
    tb = exc.__traceback__
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if not (name.endswith("grader_harness.py") or name.startswith("<frozen") or "runpy" in name):
            break
        tb = tb.tb_next
    return "".join(traceback.format_exception(_type(exc), exc, tb))


def _exit_code(code):
    if code is None:
        return 0
    if _type(code) is int:
        return code
    # CPython prints a non-integer exit argument and exits with 1.
    print(code, file=sys.stderr)
    return 1


def _prepare(request):
    # No .pyc files: nothing to write into the submission copy, nothing to spend scratch on.
    sys.dont_write_bytecode = True
    for entry in reversed(request.get("path", [])):
        sys.path.insert(0, entry)
        # Folders that did not exist when the snapshot was taken may be cached as absent.
        sys.path_importer_cache.pop(entry, None)
    cwd = request.get("cwd")
    if cwd:
        os.chdir(cwd)


def _run_script(path):
    """What `python path` does: the script's folder first on sys.path, run as __main__.

    (runpy.run_path would first probe the file as a zip archive: slower, same result.)
    """
    with open(path, "rb") as f:
        source = f.read()
    code = compile(source, path, "exec")
    main = types.ModuleType("__main__")
    main.__file__ = path
    main.__builtins__ = __builtins__
    sys.modules["__main__"] = main
    sys.path.insert(0, os.path.dirname(path))
    exec(code, main.__dict__)


def _run_program(request, response):
    sys.argv = list(request.get("argv") or [""])
    try:
        if request.get("script"):
            _run_script(request["script"])
        else:
            runpy.run_module(request["module"], run_name="__main__", alter_sys=True)
        response["exit_code"] = 0
    except SystemExit as exc:
        response["outcome"] = "exit"
        response["exit_code"] = _exit_code(exc.code)
    except BaseException as exc:  # noqa: BLE001 - student code may raise anything
        response["outcome"] = "exception"
        response["exit_code"] = 1
        text = _student_traceback(exc)
        response["error"] = text
        sys.stderr.write(text)


def _call_functions(request, response):
    try:
        module = importlib.import_module(request["module"])
        function = getattr(module, request["function"])
    except SystemExit as exc:
        response["outcome"] = "exit"
        response["exit_code"] = _exit_code(exc.code)
        return
    except BaseException as exc:  # noqa: BLE001
        response["outcome"] = "exception"
        response["error"] = _student_traceback(exc)
        return
    cases = []
    response["cases"] = cases
    for case in request.get("cases", []):
        args = _decode(case.get("args", []))
        kwargs = _decode(case.get("kwargs", {}))
        try:
            value = function(*args, **kwargs)
        except SystemExit as exc:
            cases.append({"error": "called sys.exit(" + _repr(exc.code)[:40] + ")"})
            continue
        except BaseException as exc:  # noqa: BLE001
            cases.append({"error": _student_traceback(exc)})
            continue
        try:
            cases.append({"value": _encode(value, 0, [_MAX_ITEMS])})
        except _Unplain as why:
            cases.append({"unplain": _str(why)})
        except BaseException as exc:  # noqa: BLE001 - hostile __iter__ and friends
            cases.append({"unplain": "a value that raised " + _type(exc).__qualname__ + " when read"})


class _Collect(unittest.TestResult):
    def __init__(self):
        super().__init__()
        self.outcomes = []

    def addSuccess(self, test):
        self.outcomes.append({"name": test.id().rsplit(".", 2)[-1], "outcome": "passed"})

    def addFailure(self, test, err):
        self.outcomes.append({"name": test.id().rsplit(".", 2)[-1], "outcome": "failed"})

    def addError(self, test, err):
        self.outcomes.append({"name": test.id().rsplit(".", 2)[-1], "outcome": "error"})

    def addSkip(self, test, reason):
        self.outcomes.append({"name": test.id().rsplit(".", 2)[-1], "outcome": "failed"})

    def addExpectedFailure(self, test, err):
        self.outcomes.append({"name": test.id().rsplit(".", 2)[-1], "outcome": "passed"})

    def addUnexpectedSuccess(self, test):
        self.outcomes.append({"name": test.id().rsplit(".", 2)[-1], "outcome": "failed"})


def _run_tests(request, response):
    tests = []
    response["tests"] = tests
    namespace = {"__name__": "autograder_tests", "__file__": request.get("filename", "tests.py")}
    try:
        code = compile(request["source"], request.get("filename", "tests.py"), "exec")
        exec(code, namespace)
    except SystemExit as exc:
        response["outcome"] = "exit"
        response["exit_code"] = _exit_code(exc.code)
        return
    except BaseException:  # noqa: BLE001 - a failing import of student code, or a top-level assert
        response["outcome"] = "exception"
        return
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    for value in list(namespace.values()):
        if _isinstance(value, _type) and issubclass(value, unittest.TestCase):
            suite.addTests(loader.loadTestsFromTestCase(value))
    result = _Collect()
    if suite.countTestCases():
        try:
            suite.run(result)
        except SystemExit as exc:
            response["outcome"] = "exit"
            response["exit_code"] = _exit_code(exc.code)
        tests.extend(result.outcomes)
    for name, value in list(namespace.items()):
        if name.startswith("test") and callable(value) and not _isinstance(value, _type):
            try:
                value()
                tests.append({"name": name, "outcome": "passed"})
            except AssertionError:
                tests.append({"name": name, "outcome": "failed"})
            except SystemExit as exc:
                response["outcome"] = "exit"
                response["exit_code"] = _exit_code(exc.code)
                break
            except BaseException:  # noqa: BLE001
                tests.append({"name": name, "outcome": "error"})
    if not tests and response["outcome"] == "ok":
        # A file of plain top-level asserts that ran to the end is one passing test.
        tests.append({"name": request.get("filename", "tests.py"), "outcome": "passed"})


class WitWorld(wit_world.WitWorld):
    def run(self, request: str) -> str:
        response = {"outcome": "ok"}
        try:
            req = _json_loads(request)
            response["nonce"] = req.get("nonce")
            _prepare(req)
            kind = req.get("kind")
            if kind == "program":
                _run_program(req, response)
            elif kind == "functions":
                _call_functions(req, response)
            elif kind == "tests":
                _run_tests(req, response)
            else:
                response["outcome"] = "harness"
                response["error"] = "unknown request kind"
        except BaseException as exc:  # noqa: BLE001 - an escaping exception would abort the instance
            response["outcome"] = "exception"
            response["error"] = "".join(traceback.format_exception(_type(exc), exc, exc.__traceback__))
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:  # noqa: BLE001
                pass
        try:
            return _json_dumps(response, allow_nan=False)
        except BaseException as exc:  # noqa: BLE001
            return _json_dumps({"nonce": response.get("nonce"), "outcome": "harness", "error": _repr(exc)[:200]})
