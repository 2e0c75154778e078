# The program side of the Python sandbox: loads one untrusted program and serves the checker.
#
# Runs inside the sandbox (bubblewrap + prlimit), as a fresh python3 per program. Nothing here is
# trusted once the program has loaded: the program may patch any module, this file's functions
# included. That is fine, because nothing this process says is believed: it only answers calls
# with DATA (ints, strings, lists, ... or opaque handles), and the verdict is computed by the
# checker, a separate process in a separate sandbox that never runs program code (checker.py).
#
# Channels (file descriptors set up by the host):
#   fd 3  in:  one JSON line {"code", "context", "mode"}, then (mode "calls") requests from the checker
#   fd 4  out: {"ready": {...}} or {"load_error": {...}}, then one reply per request
#   fd 0/1/2: stdin (the test input in mode "stdio"), printed output, errors
#
# Modes: "calls" loads the program as a module named "solution" and answers requests
#   {"id", "op": "get"|"getattr"|"setattr"|"call", ...};
# "stdio" runs the program as __main__ on stdin and reports an uncaught error on fd 4.
import base64
import builtins
import json
import os
import sys
import types

MAX_ITEMS = 200_000  # values encoded in one reply; more is "too large" (the host's output limit)
MAX_DEPTH = 100  # nesting encoded as plain data; deeper parts travel as handles
MAX_REPR = 300  # characters of repr() kept for a handle (shown as "got" in feedback)
# Iterators travel as the items they yield (the checker gets an iterator over them); so do dict
# views and ranges, which tests typically pass to list(), sorted() or set().
ITERATOR_TYPES = (types.GeneratorType, map, filter, zip, enumerate, reversed, range)
VIEW_TYPES = ("dict_keys", "dict_values", "dict_items")

_reply_fd = 4
_requests = os.fdopen(3, "rb")


def send(message):
    data = (json.dumps(message, separators=(",", ":")) + "\n").encode("utf-8", "surrogatepass")
    view = memoryview(data)
    while view:
        written = os.write(_reply_fd, view)
        view = view[written:]


def error_info(error):
    # Only exceptions derived from Exception travel as the same built-in type; the checker never
    # re-raises BaseException-only types (SystemExit, KeyboardInterrupt) from a program.
    kind = type(error)
    builtin = kind.__module__ == "builtins" and isinstance(error, Exception)
    try:
        message = str(error)
    except BaseException:
        message = "<unprintable>"
    return {"type": kind.__name__, "message": message[:2000], "builtin": builtin}


class TooLarge(Exception):
    pass


class Encoder:
    """Program values as tagged JSON: plain data by value, anything else as a handle."""

    def __init__(self, handles):
        self.handles = handles
        self.items = 0

    def handle(self, value):
        key = id(value)
        if key not in self.handles.by_id:
            self.handles.by_id[key] = len(self.handles.objects)
            self.handles.objects.append(value)
        try:
            text = repr(value)
        except BaseException:
            text = "<%s object>" % type(value).__name__
        return {"h": self.handles.by_id[key], "r": text[:MAX_REPR], "k": type(value).__name__}

    def encode(self, value, depth=0):
        self.items += 1
        if self.items > MAX_ITEMS:
            raise TooLarge()
        if depth > MAX_DEPTH:
            return self.handle(value)
        kind = type(value)
        # The base types' own methods are called, never the value's: a subclass cannot lie
        # about what it holds (an int subclass whose __eq__ says yes becomes a plain int).
        if value is None:
            return {"n": 0}
        if kind is bool:
            return {"t": value}
        if isinstance(value, int) and not isinstance(value, bool):
            return {"i": hex(int.__int__(value))}
        if isinstance(value, float):
            return {"f": float.__repr__(float.__float__(value))}
        if isinstance(value, str):
            return {"s": str.__str__(value)}
        if isinstance(value, (bytes, bytearray)):
            return {"b": base64.b64encode(bytes(value)).decode("ascii")}
        if isinstance(value, complex):
            return {"c": [float.__repr__(value.real), float.__repr__(value.imag)]}
        if isinstance(value, list):
            return {"l": [self.encode(v, depth + 1) for v in list.__iter__(value)]}
        if isinstance(value, tuple):
            return {"u": [self.encode(v, depth + 1) for v in tuple.__iter__(value)]}
        if isinstance(value, dict):
            return {"d": [[self.encode(k, depth + 1), self.encode(v, depth + 1)] for k, v in dict.items(value)]}
        if isinstance(value, frozenset):
            return {"z": [self.encode(v, depth + 1) for v in frozenset.__iter__(value)]}
        if isinstance(value, set):
            return {"e": [self.encode(v, depth + 1) for v in set.__iter__(value)]}
        if kind.__name__ == "deque" and kind.__module__ == "collections":
            return {"q": [self.encode(v, depth + 1) for v in list(value)]}
        if isinstance(value, ITERATOR_TYPES) or kind.__name__.endswith("iterator") or kind.__name__ in VIEW_TYPES:
            items = []
            for item in value:
                items.append(self.encode(item, depth + 1))
            return {"it": items}
        return self.handle(value)


class Handles:
    def __init__(self):
        self.objects = []
        self.by_id = {}


def decode(data, handles):
    (tag, value), = data.items()
    if tag == "n":
        return None
    if tag in ("t", "s"):
        return value
    if tag == "i":
        return int(value, 16)
    if tag == "f":
        return float(value)
    if tag == "b":
        return base64.b64decode(value)
    if tag == "c":
        return complex(float(value[0]), float(value[1]))
    if tag == "l":
        return [decode(v, handles) for v in value]
    if tag == "u":
        return tuple(decode(v, handles) for v in value)
    if tag == "d":
        return {decode(k, handles): decode(v, handles) for k, v in value}
    if tag == "e":
        return {decode(v, handles) for v in value}
    if tag == "z":
        return frozenset(decode(v, handles) for v in value)
    if tag == "h":
        return handles.objects[value]
    if tag == "bt":
        return getattr(builtins, value)
    raise ValueError("unknown tag %r" % tag)


def load(program, context, module_name):
    namespace = {"__name__": module_name, "__builtins__": builtins}
    if context:
        exec(compile(context, "<context>", "exec"), namespace)
    try:
        code = compile(program, "<program>", "exec")
    except (SyntaxError, ValueError) as error:
        line = getattr(error, "lineno", None)
        message = getattr(error, "msg", None) or str(error)
        if line:
            message = "%s (line %d)" % (message, line)
        send({"load_error": {"outcome": "syntax_error", "type": type(error).__name__, "message": message}})
        return None
    sys.modules[module_name] = module = types.ModuleType(module_name)
    module.__dict__.update(namespace)
    return code, module.__dict__


def serve_calls(namespace):
    handles = Handles()
    while True:
        line = _requests.readline()
        if not line:
            return
        request = json.loads(line)
        op = request.get("op")
        if op == "exit":
            return
        reply = {"id": request["id"]}
        try:
            if op == "get":
                name = request["name"]
                if name not in namespace:
                    raise NameError("name %r is not defined" % name)
                result = namespace[name]
            elif op == "getattr":
                result = getattr(handles.objects[request["ref"]], request["name"])
            elif op == "setattr":
                setattr(handles.objects[request["ref"]], request["name"], decode(request["value"], handles))
                result = None
            elif op == "call":
                target = handles.objects[request["ref"]]
                args = [decode(a, handles) for a in request["args"]]
                kwargs = {k: decode(v, handles) for k, v in request["kwargs"].items()}
                result = target(*args, **kwargs)
            else:
                raise ValueError("unknown request %r" % op)
            reply["ok"] = Encoder(handles).encode(result)
        except TooLarge:
            reply = {"id": request["id"], "too_large": True}
        except BaseException as error:  # the program's own errors, SystemExit included
            reply = {"id": request["id"], "raise": error_info(error)}
        send(reply)


def main():
    start = json.loads(_requests.readline())
    mode = start["mode"]
    loaded = load(start["code"], start.get("context") or "", "__main__" if mode == "stdio" else "solution")
    if loaded is None:
        return
    code, namespace = loaded
    if mode == "stdio":
        try:
            exec(code, namespace)
        except SystemExit:
            pass  # like LiveCodeBench's evaluator: sys.exit() ends the program normally
        except BaseException as error:
            sys.stdout.flush()
            send({"error": error_info(error)})
            raise
        return
    try:
        exec(code, namespace)
    except BaseException as error:
        send({"load_error": {"outcome": "runtime_error", **error_info(error)}})
        return
    public = [n for n in namespace if not n.startswith("_")][:1000]
    send({"ready": {"names": public}})
    serve_calls(namespace)


main()
