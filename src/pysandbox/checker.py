# The checker side of the Python sandbox: runs a problem's tests and reports each verdict.
#
# Runs in its own sandbox, as a fresh python3 per program, and never runs program code. The tests
# (benchmark code: HumanEval's check, MBPP's asserts, KodCode's pytest functions, LiveCodeBench's
# calls) run here, in this process; every name that refers to the program (the function under
# test, a class) is a proxy whose calls travel to the program's process as requests, and whose
# results come back as plain DATA: ints, strings, lists, dicts, ... rebuilt here with the
# built-in types, or opaque handles whose equality is identity. So:
# - nothing the program does in its process (patching builtins, tracing, os._exit, printing,
#   monkeypatching its harness) can touch this process, its namespace or the test code;
# - a returned value cannot lie about equality (no __eq__ of the program's ever runs here);
# - helper functions the tests use (HumanEval's poly, encode_cyclic) are the benchmark's own,
#   defined here from trusted text, not the program's versions;
# - verdicts go to the host on a private duplicate of stdout; fd 1 itself is pointed at stderr,
#   so anything printed by test code or an import cannot forge a verdict line.
#
# Channels: stdin: the spec {"setup", "names", "tests"} (one JSON document, from the host);
# fd 3: the program's messages (relayed by the host); fd 4: requests to the program;
# results fd: one JSON line per event: {"load_error"} or {"loaded": true} (the program loaded),
# then {"test": i, "outcome", ...},
# {"gone": i} (the program's process ended during test i), {"stop": i, "outcome"}, {"done": true}.
import ast
import base64
import builtins
import collections
import importlib
import json
import os
import re
import reprlib
import sys
import types

MAX_REPLY_BYTES = 32 * 1024 * 1024  # one reply longer than this is the output limit
MAX_REPR = 300  # characters of a value shown as "got" / "expected"
NEVER_IMPORT = {"this", "antigravity", "idlelib", "turtle", "turtledemo", "tkinter"}

_results = os.fdopen(os.dup(1), "w", encoding="utf-8")
os.dup2(2, 1)  # fd 1 (print, C extensions) now goes to stderr; verdicts use _results only
sys.stdout = sys.stderr
_replies = os.fdopen(3, "rb")
_requests_fd = 4
_last_id = 0

_repr = reprlib.Repr()
_repr.maxstring = _repr.maxother = MAX_REPR
_repr.maxlist = _repr.maxtuple = _repr.maxset = _repr.maxfrozenset = _repr.maxdict = 40
_repr.maxlevel = 8


def emit(event):
    _results.write(json.dumps(event, separators=(",", ":")) + "\n")
    _results.flush()


def show(value):
    if isinstance(value, Remote):
        text = object.__getattribute__(value, "_repr")
    else:
        try:
            text = _repr.repr(value)
        except Exception:
            text = "<%s>" % type(value).__name__
    return text if len(text) <= MAX_REPR else text[: MAX_REPR - 3] + "..."


class ProgramGone(Exception):
    """The program's process ended (exit, crash, limit) while a request was pending."""


class ReplyTooLarge(Exception):
    """The program answered with more data than the sandbox accepts."""


class ProgramError(Exception):
    """Marks exceptions raised by the program (re-created here by name, never by its code)."""

    program_type = "Exception"


_error_classes = {}


def program_exception(info):
    name = str(info.get("type", "Exception"))[:100]
    message = str(info.get("message", ""))[:2000]
    base = getattr(builtins, name, None) if info.get("builtin") is True else None
    if not (isinstance(base, type) and issubclass(base, Exception)) or issubclass(base, (StopIteration, StopAsyncIteration)):
        base = Exception
    if base not in _error_classes:
        _error_classes[base] = type("Program" + base.__name__, (ProgramError, base), {})
    error = _error_classes[base](message)
    error.program_type = name
    return error


def send_request(message):
    global _last_id
    _last_id += 1
    message["id"] = _last_id
    data = (json.dumps(message, separators=(",", ":")) + "\n").encode("utf-8", "surrogatepass")
    view = memoryview(data)
    try:
        while view:
            view = view[os.write(_requests_fd, view):]
    except OSError:
        raise ProgramGone()
    return _last_id


def read_message():
    line = _replies.readline(MAX_REPLY_BYTES + 1)
    if not line:
        raise ProgramGone()
    if not line.endswith(b"\n"):
        if len(line) > MAX_REPLY_BYTES:
            raise ReplyTooLarge()
        raise ProgramGone()
    try:
        message = json.loads(line)
    except (ValueError, RecursionError):
        raise ReplyTooLarge()
    return message if isinstance(message, dict) else {}


def rpc(message):
    wanted = send_request(message)
    while True:
        reply = read_message()
        if reply.get("id") != wanted:
            continue  # stale or invented lines: ignored, they answer nothing that was asked
        if "ok" in reply:
            try:
                return decode(reply["ok"], 0)
            except (ValueError, TypeError, KeyError, RecursionError):
                raise program_exception({"type": "SandboxError", "message": "malformed reply from the program"})
        if reply.get("too_large") is True:
            raise ReplyTooLarge()
        if isinstance(reply.get("raise"), dict):
            raise program_exception(reply["raise"])
        raise program_exception({"type": "SandboxError", "message": "malformed reply from the program"})


class Remote:
    """An object that lives in the program's process: calls and attributes become requests."""

    __slots__ = ("_ref", "_repr", "_kind")

    def __init__(self, ref, text, kind):
        object.__setattr__(self, "_ref", ref)
        object.__setattr__(self, "_repr", text)
        object.__setattr__(self, "_kind", kind)

    def __call__(self, *args, **kwargs):
        return rpc({"op": "call", "ref": self._ref, "args": [encode(a, 0) for a in args], "kwargs": {str(k): encode(v, 0) for k, v in kwargs.items()}})

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return rpc({"op": "getattr", "ref": self._ref, "name": name})

    def __setattr__(self, name, value):
        rpc({"op": "setattr", "ref": self._ref, "name": name, "value": encode(value, 0)})

    def __eq__(self, other):
        return isinstance(other, Remote) and other._ref == self._ref

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash(("remote", self._ref))

    def __repr__(self):
        return self._repr


def decode(data, depth):
    if depth > 200 or not isinstance(data, dict):
        raise ValueError("malformed value")
    if "h" in data:
        return Remote(int(data["h"]), str(data.get("r", "<object>"))[:MAX_REPR], str(data.get("k", "object"))[:100])
    if len(data) != 1:
        raise ValueError("malformed value")
    (tag, value), = data.items()
    if tag == "n":
        return None
    if tag == "t":
        return bool(value)
    if tag == "i":
        return int(value, 16)
    if tag == "f":
        return float(value)
    if tag == "s":
        if not isinstance(value, str):
            raise ValueError("malformed string")
        return value
    if tag == "b":
        return base64.b64decode(value, validate=True)
    if tag == "c":
        return complex(float(value[0]), float(value[1]))
    if tag == "l":
        return [decode(v, depth + 1) for v in value]
    if tag == "u":
        return tuple(decode(v, depth + 1) for v in value)
    if tag == "d":
        return {decode(k, depth + 1): decode(v, depth + 1) for k, v in value}
    if tag == "e":
        return {decode(v, depth + 1) for v in value}
    if tag == "z":
        return frozenset(decode(v, depth + 1) for v in value)
    if tag == "q":
        return collections.deque(decode(v, depth + 1) for v in value)
    if tag == "it":
        return iter([decode(v, depth + 1) for v in value])
    raise ValueError("unknown tag")


def encode(value, depth):
    if depth > 100:
        raise TypeError("the tests passed a value nested too deeply to send to the program")
    kind = type(value)
    if value is None:
        return {"n": 0}
    if kind is bool:
        return {"t": value}
    if kind is int:
        return {"i": hex(value)}
    if kind is float:
        return {"f": repr(value)}
    if kind is str:
        return {"s": value}
    if kind in (bytes, bytearray):
        return {"b": base64.b64encode(bytes(value)).decode("ascii")}
    if kind is complex:
        return {"c": [repr(value.real), repr(value.imag)]}
    if isinstance(value, Remote):
        return {"h": object.__getattribute__(value, "_ref")}
    if isinstance(value, list):
        return {"l": [encode(v, depth + 1) for v in value]}
    if isinstance(value, tuple):
        return {"u": [encode(v, depth + 1) for v in value]}
    if isinstance(value, dict):
        return {"d": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]}
    if isinstance(value, frozenset):
        return {"z": [encode(v, depth + 1) for v in value]}
    if isinstance(value, set):
        return {"e": [encode(v, depth + 1) for v in value]}
    name = getattr(value, "__name__", None)
    if isinstance(name, str) and getattr(builtins, name, None) is value:
        return {"bt": name}  # a built-in type or function (MBPP passes `int`): sent by name
    if isinstance(value, int):
        return {"i": hex(int(value))}
    if isinstance(value, float):
        return {"f": repr(float(value))}
    if isinstance(value, str):
        return {"s": str(value)}
    raise TypeError("the tests passed a %s to the program, which the sandbox cannot send" % kind.__name__)


def program_names(names):
    """Proxies for the program's top-level objects named by the tests (absent ones stay unbound)."""
    bound = {}
    for name in names:
        try:
            bound[name] = rpc({"op": "get", "name": name})
        except ProgramError:
            pass
    return bound


def free_names(source):
    """Names a piece of test code reads: candidates for standard modules it uses without importing."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            names.add(node.id)
    return names


def import_standard_modules(namespace, sources):
    # MBPP's tests share a namespace with the program in the original harness, so a test may use
    # `math.isclose` because the program imported math. Here the checker imports the standard
    # module itself (only standard-library modules, by the name the test uses).
    stdlib = getattr(sys, "stdlib_module_names", frozenset())
    for source in sources:
        for name in free_names(source):
            if name in namespace or hasattr(builtins, name) or name not in stdlib or name in NEVER_IMPORT:
                continue
            try:
                namespace[name] = importlib.import_module(name)
            except Exception:
                pass


def pytest_shim():
    """The parts of pytest that KodCode-style test modules use (pytest itself is not required)."""
    module = types.ModuleType("pytest")

    class RaisesContext:
        def __init__(self, expected, match):
            self.expected, self.match, self.value, self.type = expected, match, None, None

        def __enter__(self):
            return self

        def __exit__(self, kind, value, traceback):
            if kind is None:
                raise AssertionError("DID NOT RAISE %r" % (self.expected,))
            if not issubclass(kind, self.expected):
                return False
            if self.match is not None and not re.search(self.match, str(value)):
                raise AssertionError("exception message %r does not match %r" % (str(value), self.match))
            self.value, self.type = value, kind
            return True

    def raises(expected, *args, match=None, **kwargs):
        context = RaisesContext(expected, match)
        if args:
            with context:
                args[0](*args[1:], **kwargs)
        return context

    class approx:
        def __init__(self, expected, rel=None, abs=None):
            self.expected, self.rel, self.abs = expected, 1e-6 if rel is None else rel, 1e-12 if abs is None else abs

        def close(self, a, b):
            if isinstance(b, dict):
                return isinstance(a, dict) and a.keys() == b.keys() and all(self.close(a[k], b[k]) for k in b)
            if isinstance(b, (list, tuple)):
                return isinstance(a, (list, tuple)) and len(a) == len(b) and all(self.close(x, y) for x, y in zip(a, b))
            if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
                return a == b or builtins.abs(a - b) <= max(self.rel * builtins.abs(b), self.abs)
            return a == b

        def __eq__(self, other):
            return self.close(other, self.expected)

        def __repr__(self):
            return "approx(%r)" % (self.expected,)

    class Mark:
        def parametrize(self, argnames, argvalues, **kwargs):
            names = [n.strip() for n in argnames.split(",")] if isinstance(argnames, str) else list(argnames)
            sets = [dict(zip(names, values if len(names) > 1 else (values,))) for values in argvalues]

            def decorate(function):
                earlier = getattr(function, "_parametrize", [{}])
                function._parametrize = [dict(a, **b) for a in sets for b in earlier]
                return function

            return decorate

        def __getattr__(self, name):  # skip, xfail, timeout, ...: accepted and ignored
            def marker(*args, **kwargs):
                if len(args) == 1 and callable(args[0]) and not kwargs:
                    return args[0]
                return lambda function: function

            return marker

    def fixture(*args, **kwargs):
        if len(args) == 1 and callable(args[0]):
            args[0]._fixture = True
            return args[0]
        return fixture

    def fail(message=""):
        raise AssertionError(message)

    module.raises, module.approx, module.mark, module.fixture, module.fail = raises, approx, Mark(), fixture, fail
    return module


def solution_module(public_names):
    """`from solution import f` in a pytest module gets proxies for the program's objects."""
    module = types.ModuleType("solution")

    def lookup(name):
        found = program_names([name])
        if name not in found:
            raise AttributeError("the program does not define %r" % name)
        return found[name]

    module.__getattr__ = lookup
    module.__all__ = [str(n) for n in public_names][:1000]
    return module


def run_assert(code, namespace):
    tree = ast.parse(code)
    node = tree.body[0] if len(tree.body) == 1 else None
    if isinstance(node, ast.Assert) and isinstance(node.test, ast.Compare) and len(node.test.ops) == 1 and isinstance(node.test.ops[0], ast.Eq):
        # `assert L == R`: evaluate both sides, so the feedback can say what came back.
        left = eval(compile(ast.Expression(node.test.left), "<test>", "eval"), namespace)
        right = eval(compile(ast.Expression(node.test.comparators[0]), "<test>", "eval"), namespace)
        if left == right:
            return {"outcome": "passed"}
        call = ast.get_source_segment(code, node.test.left) or code
        return {"outcome": "wrong_answer", "call": call, "got": show(left), "expected": show(right)}
    exec(compile(tree, "<test>", "exec"), namespace)
    return {"outcome": "passed"}


def run_functional(test, namespace):
    # LiveCodeBench's call-based tests: one JSON argument per input line, a JSON result; a
    # program with a class Solution is called through a fresh instance, as its evaluator does.
    args = [json.loads(line) for line in test["input"].split("\n")]
    expected = json.loads(test["output"])
    name = test["fn"]
    if "Solution" in namespace:
        method = getattr(namespace["Solution"](), name)
    elif name in namespace:
        method = namespace[name]
    else:
        raise NameError("name %r is not defined" % name)
    got = method(*args)
    if isinstance(got, tuple):
        got = list(got)
    if got == expected:
        return {"outcome": "passed"}
    return {"outcome": "wrong_answer", "call": describe(test), "got": show(got), "expected": show(expected)}


def run_pytest(test, namespace):
    name = test["name"]
    if "." in name:
        owner, method = name.split(".", 1)
        function = getattr(namespace[owner](), method)
    else:
        function = namespace[name]
    for arguments in getattr(function, "_parametrize", [{}]):
        function(**arguments)
    return {"outcome": "passed"}


def run_test(test, namespace):
    kind = test.get("kind")
    if kind == "assert":
        return run_assert(test["code"], namespace)
    if kind == "functional":
        return run_functional(test, namespace)
    if kind == "pytest":
        return run_pytest(test, namespace)
    raise ValueError("unknown test kind %r" % kind)


def error_result(error, call=None):
    if isinstance(error, ProgramError):
        name, message = error.program_type, str(error)
    else:
        name, message = type(error).__name__, str(error)
    outcome = "memory_limit" if name == "MemoryError" else "runtime_error"
    result = {"outcome": outcome, "error": {"type": name, "message": message[:2000]}}
    if call:
        result["call"] = call
    return result


def describe(test):
    """How feedback names a test: the checked expression of `assert L == R`, else its first line."""
    if test.get("kind") == "assert":
        code = test["code"]
        try:
            tree = ast.parse(code)
            node = tree.body[0] if len(tree.body) == 1 else None
            if isinstance(node, ast.Assert) and isinstance(node.test, ast.Compare) and isinstance(node.test.ops[0], ast.Eq):
                return ast.get_source_segment(code, node.test.left) or code
        except SyntaxError:
            pass
        first = code.strip().split("\n")[0]
        return first[7:] if first.startswith("assert ") else first
    if test.get("kind") == "functional":
        return "%s(%s)" % (test["fn"], ", ".join(test["input"].split("\n")))
    return test.get("name")


def main():
    spec = json.loads(sys.stdin.read())
    tests = spec["tests"]
    try:
        first = read_message()
    except ProgramGone:
        emit({"gone": 0})  # the program ended while loading (os._exit, a crash, a limit)
        return
    except ReplyTooLarge:
        emit({"stop": 0, "outcome": "output_limit"})
        return
    if "load_error" in first:
        emit({"load_error": first["load_error"]})
        return
    if "ready" not in first:
        emit({"load_error": {"outcome": "runtime_error", "type": "SandboxError", "message": "the program did not start"}})
        return
    emit({"loaded": True})
    public = first["ready"].get("names", []) if isinstance(first["ready"], dict) else []
    if not isinstance(public, list):
        public = []
    sys.modules["solution"] = solution_module(public)
    try:
        import pytest  # noqa: F401  (a real pytest, where installed, is used as is)
    except ImportError:
        sys.modules["pytest"] = pytest_shim()

    namespace = {"__name__": "__tests__", "__builtins__": builtins}
    sources = [spec.get("setup") or ""] + [t["code"] for t in tests if t.get("kind") == "assert"]
    index = 0
    try:
        import_standard_modules(namespace, sources)
        namespace.update(program_names(spec["names"]))
        if spec.get("setup"):
            exec(compile(spec["setup"], "<tests>", "exec"), namespace)
        # The setup may define stubs with the same names (HumanEval's prompt): the program wins.
        namespace.update(program_names(spec["names"]))
    except ProgramGone:
        emit({"gone": 0})
        return
    except ReplyTooLarge:
        emit({"stop": 0, "outcome": "output_limit"})
        return
    except BaseException as error:
        for index in range(len(tests)):
            emit(dict(error_result(error), test=index))
        emit({"done": True})
        return

    for index, test in enumerate(tests):
        try:
            result = run_test(test, namespace)
        except ProgramGone:
            emit({"gone": index})
            return
        except ReplyTooLarge:
            emit({"stop": index, "outcome": "output_limit"})
            return
        except AssertionError as error:
            if isinstance(error, ProgramError):
                result = error_result(error, describe(test))
            else:
                result = {"outcome": "wrong_answer", "call": describe(test)}
                if str(error):
                    result["error"] = {"type": "AssertionError", "message": str(error)[:500]}
        except BaseException as error:
            result = error_result(error, describe(test))
        result["test"] = index
        emit(result)
    emit({"done": True})


main()
