"""Where one training iteration of a workload spends minigen's time, so that the next
optimisation is chosen by measurement.

For the profile's duration (and restored after) timers wrap:
  kernel    every function of the compiled extension, as ``backend.cpu`` calls it (``cpu._C``
            is replaced by a timing proxy): the C++ kernels' own time, by name and by shapes
  backend   every method of the kernel table (``minigen.backend.kernels``): what the wrappers do
            around the kernel
            (allocating outputs, contiguous copies, the Linear's transposed copy)
  op        ``forward`` and ``backward`` of every ``autograd.Function``: NumPy elementwise work
            and allocation in the ops written in Python (tanh, sigmoid, relu, add, mul, sums,
            reshapes), and the Python of backward formulas
  autograd  ``Function.apply`` (recording the graph) and the engine (``_run``, walking it)
  optimiser ``Optimizer.step`` and ``zero_grad``
  modules   ``Module.__call__`` with the forward bodies of the layers (argument checks, Sequential)
  noise     ``minigen.randn`` / ``minigen.rand``
Each timer counts its *exclusive* time (nested timed calls subtracted), so the components add
up to the instrumented iteration; what no timer covers is the **rest**: Python between the
calls (Tensor operator dispatch, ``minigen.ops`` argument handling, the workload's own lines).
The timers cost about a microsecond per call, so the instrumented iteration is a little slower
than a plain one; both are printed. A cProfile pass then names the functions with the most own
time (its overhead inflates Python-heavy code: read it for ranking, not for milliseconds).
``--profile-torch`` adds PyTorch's operators for the same iteration by self time and input shapes
(``torch.profiler``), to hold minigen's kernels against shape by shape.

    minigen bench --profile w2,w3 [--profile-iters 3] [--profile-torch] [--threads 2]
"""
import contextlib
import cProfile
import inspect
import pstats
import statistics
import time
from collections import Counter, defaultdict

import numpy as np

import minigen
from minigen import autograd, nn, optim
from minigen.backend import cpu
from minigen.backend.kernels import Kernels

CATEGORIES = {
    "kernel": "compiled kernels (C++)",
    "backend": "kernel table wrappers: NumPy alloc/copy",
    "op.forward": "ops' forward: NumPy elementwise/alloc",
    "op.backward": "ops' backward formulas (Python, NumPy)",
    "autograd.apply": "graph recording (Function.apply)",
    "autograd.engine": "autograd engine (walk, accumulate)",
    "optimiser": "optimiser step / zero_grad",
    "modules": "Module.__call__ + layer forward bodies",
    "noise": "noise (randn/rand)",
    "rest": "rest: Python between the timed calls",
}


class Timers:
    """Exclusive time and call counts per (category, name); optional per-shape detail."""

    def __init__(self):
        self.seconds = defaultdict(float)
        self.calls = Counter()
        self.shapes = defaultdict(float)    # (kernel name, argument shapes) -> seconds
        self._children = []                 # per open timed call: time spent in timed calls inside

    def wrap(self, key, fn, shapes=False):
        perf_counter, stack = time.perf_counter, self._children

        def timed(*args, **kwargs):
            stack.append(0.0)
            start = perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent = perf_counter() - start
                inside = stack.pop()
                self.seconds[key] += spent - inside
                self.calls[key] += 1
                if stack:
                    stack[-1] += spent
                if shapes:
                    self.shapes[key[1], _shapes(args)] += spent
        timed.__wrapped__ = fn
        return timed


def _shapes(args):
    return " ".join("x".join(map(str, a.shape)) for a in args if isinstance(a, np.ndarray))


class _TimedModule:
    """Stands in for the compiled module: each function timed, every other attribute passed on."""

    def __init__(self, module, timers):
        self._module = module
        for name, value in vars(module).items():
            if callable(value) and not name.startswith("_"):
                setattr(self, name, timers.wrap(("kernel", name), value, shapes=True))

    def __getattr__(self, name):
        return getattr(self._module, name)


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


@contextlib.contextmanager
def instrumented(timers):
    """Install the timers (see the module docstring) for the block; restore everything after."""
    patches = []   # (owner, attribute, what its __dict__ held, or None where it inherited)

    def patch(owner, name, value):
        patches.append((owner, name, vars(owner).get(name)))
        setattr(owner, name, value)

    try:
        patch(cpu, "_C", _TimedModule(cpu._C, timers))
        for name, fn in list(vars(Kernels).items()):
            if inspect.isfunction(fn) and not name.startswith("_") and name != "launch":
                patch(Kernels, name, timers.wrap(("backend", name), fn))
        functions = list(_subclasses(autograd.Function))
        originals = [(cls, method, getattr(cls, method)) for cls in functions
                     for method in ("forward", "backward")]   # before any patch: no wrapping twice
        for cls, method, fn in originals:
            patch(cls, method, staticmethod(timers.wrap((f"op.{method}", f"{cls.__name__}.{method}"), fn)))
        apply = timers.wrap(("autograd.apply", "Function.apply"), vars(autograd.Function)["apply"].__func__)
        patch(autograd.Function, "apply", classmethod(apply))
        for name in ("_run", "_call_backward"):
            patch(autograd, name, timers.wrap(("autograd.engine", name), getattr(autograd, name)))
        for name in ("step", "zero_grad"):
            patch(optim.Optimizer, name, timers.wrap(("optimiser", name), getattr(optim.Optimizer, name)))
        patch(nn.Module, "__call__", timers.wrap(("modules", "Module.__call__"), nn.Module.__call__))
        for name in ("randn", "rand"):
            patch(minigen, name, timers.wrap(("noise", name), getattr(minigen, name)))
        yield timers
    finally:
        for owner, name, original in reversed(patches):
            if original is None:
                delattr(owner, name)
            else:
                setattr(owner, name, original)


def profile(workload, iterations=3, warmup=3, seed=0):
    """Profile ``iterations`` iterations of ``workload`` in minigen (after ``warmup``).

    Returns ``{"key", "plain_ms", "total_ms", "components": [(category, name, ms, calls)], "kernel_shapes",
    "cprofile"}``, per iteration, components sorted by time, a ``("rest", ...)`` entry
    included: they sum to ``total_ms``, the instrumented iteration.
    """
    from .workloads import Run
    run = Run(workload, minigen, seed)
    for _ in range(warmup):
        run.step()
    plain = []
    for _ in range(iterations):
        start = time.perf_counter()
        run.step()
        plain.append(time.perf_counter() - start)

    timers = Timers()
    total = 0.0
    with instrumented(timers):
        for _ in range(iterations):
            start = time.perf_counter()
            run.step()
            total += time.perf_counter() - start
    per = 1e3 / iterations
    components = [(category, name, seconds * per, timers.calls[category, name] / iterations)
                  for (category, name), seconds in timers.seconds.items()]
    timed = sum(ms for _, _, ms, _ in components)
    components.append(("rest", "Python between the timed calls", total * per - timed, 0))
    components.sort(key=lambda c: -c[2])
    shapes = sorted(((name, shape, seconds * per) for (name, shape), seconds in timers.shapes.items()),
                    key=lambda s: -s[2])

    profiler = cProfile.Profile()
    profiler.enable()
    run.step()
    profiler.disable()
    functions = pstats.Stats(profiler).stats.items()
    cprofile = sorted(((f"{file.split('/minigen/')[-1]}:{line}({name})", 1e3 * own, 1e3 * cumulative, calls)
                       for (file, line, name), (_, calls, own, cumulative, _) in functions),
                      key=lambda f: -f[1])
    return {"key": workload.key, "title": workload.title, "plain_ms": 1e3 * statistics.median(plain),
            "total_ms": total * per, "components": components, "kernel_shapes": shapes,
            "cprofile": cprofile, "threads": minigen.get_num_threads()}


def by_category(result):
    """Milliseconds per iteration per category, largest first."""
    totals = defaultdict(float)
    for category, _, ms, _ in result["components"]:
        totals[category] += ms
    return sorted(totals.items(), key=lambda t: -t[1])


def print_profile(result, top=25, top_shapes=12, top_functions=15):
    total = result["total_ms"]
    print(f"\n{result['key']} {result['title']}: minigen, {result['threads']} threads; one iteration "
          f"{result['plain_ms']:.1f} ms plain (median), {total:.1f} ms instrumented")
    print(f"{'category':42s} {'ms/iter':>9s} {'share':>7s}")
    for category, ms in by_category(result):
        print(f"{CATEGORIES[category]:42s} {ms:9.2f} {ms / total:7.1%}")
    print(f"\n{'component':54s} {'ms/iter':>9s} {'share':>7s} {'calls':>7s}")
    rows = result["components"]
    for category, name, ms, calls in rows[:top]:
        print(f"{category + ' ' + name:54s} {ms:9.2f} {ms / total:7.1%} {calls:7.0f}")
    if len(rows) > top:
        rest = sum(ms for _, _, ms, _ in rows[top:])
        print(f"{f'({len(rows) - top} more components)':54s} {rest:9.2f} {rest / total:7.1%}")
    print(f"\n{'kernel call by argument shapes':72s} {'ms/iter':>9s} {'share':>7s}")
    for name, shape, ms in result["kernel_shapes"][:top_shapes]:
        print(f"{name + ' ' + shape:72s} {ms:9.2f} {ms / total:7.1%}")
    print(f"\ncProfile, one iteration, by own time (profiler overhead included):\n"
          f"{'function':72s} {'tottime ms':>10s} {'cumtime ms':>10s} {'calls':>7s}")
    for name, tottime, cumtime, calls in result["cprofile"][:top_functions]:
        print(f"{name[-72:]:72s} {tottime:10.2f} {cumtime:10.2f} {calls:7d}")


def torch_profile(workload, iterations=3, warmup=3, seed=0):
    """PyTorch's side of the same workload: its operators by self time per iteration, grouped by
    input shapes (``torch.profiler``), to hold minigen's kernels against, shape by shape."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profiler

    from .workloads import Run, time_steps, torch
    run = Run(workload, torch, seed)
    time_steps(run, warmup)
    plain = time_steps(run, iterations)
    with torch_profiler(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        time_steps(run, iterations)
    events = prof.key_averages(group_by_input_shape=True)
    ops = sorted(((e.key, _torch_shapes(e.input_shapes), e.self_cpu_time_total / 1e3 / iterations,
                   e.count / iterations) for e in events), key=lambda o: -o[2])
    return {"key": workload.key, "plain_ms": 1e3 * statistics.median(plain), "ops": ops,
            "self_ms": sum(o[2] for o in ops)}


def _torch_shapes(shapes):
    return " ".join("x".join(map(str, s)) for s in shapes if s)


def print_torch_profile(result, top=15):
    print(f"\nPyTorch, the same workload: one iteration {result['plain_ms']:.1f} ms plain (median); "
          f"operators by self time ({result['self_ms']:.1f} ms/iter under its profiler)")
    print(f"{'operator and input shapes':72s} {'ms/iter':>9s} {'calls':>7s}")
    for name, shapes, ms, calls in result["ops"][:top]:
        print(f"{(name + ' ' + shapes)[:72]:72s} {ms:9.2f} {calls:7.0f}")


def report(workload, iterations=3, seed=0, with_torch=False):
    """Profile ``workload`` and print the tables (and PyTorch's operators, ``with_torch``)."""
    result = profile(workload, iterations=iterations, seed=seed)
    print_profile(result)
    if with_torch:
        result["torch"] = torch_profile(workload, iterations=iterations, seed=seed)
        print_torch_profile(result["torch"])
    return result
