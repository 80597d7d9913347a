"""The kernel tests, run against minigen._C built with AddressSanitizer and UndefinedBehaviorSanitizer.

    python scripts/sanitize.py [--no-build] [pytest arguments, paths from the repository root ...]

1. Builds minigen as ``pip install .`` does, with ``MINIGEN_SANITIZE=ON`` (CMakeLists.txt) and
   symbols (RelWithDebInfo), into ``build/sanitize/`` (``--no-build`` reuses the last build).
2. Runs the kernel test modules (or the pytest arguments given) with that copy of minigen first
   on the path and the ASan runtime preloaded: Python itself is not instrumented, so the runtime
   has to be in the process before the interpreter's first allocation.
3. Reads the sanitizers' logs. Any error report, and any leaked block with a frame in
   ``minigen/_C``, fails the run. The interpreter's own objects that it never frees at exit are
   counted and left alone: they are not the kernels', and LSan cannot tell them apart by
   suppressions, since every stack that reaches a kernel passes through the interpreter too.

Exit status 0 when the tests pass and the logs are clean.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
from xml.etree import ElementTree
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "build" / "sanitize"
KERNEL_TESTS = ["-m", "kernels", "tests"]  # the modules marked pytestmark = pytest.mark.kernels
# A leak report is a header line, then its allocation stack, then a blank line.
LEAK = re.compile(r"^(Direct|Indirect) leak of (\d+) byte.*?\n\n", re.MULTILINE | re.DOTALL)
ERROR = re.compile(r"ERROR: AddressSanitizer|runtime error:|Sanitizer: CHECK failed")


def build():
    shutil.rmtree(TARGET, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(TARGET),
                    "--config-settings=cmake.define.MINIGEN_SANITIZE=ON",
                    "--config-settings=cmake.define.MINIGEN_CUDA=OFF",   # ASan checks host code only
                    "--config-settings=cmake.build-type=RelWithDebInfo", str(ROOT)], check=True)


def preloads(module):
    """The ASan runtime the module links, and the C++ runtime: both must be loaded before Python
    starts, or ASan cannot intercept the exceptions the bindings throw."""
    linked = subprocess.run(["ldd", str(module)], capture_output=True, text=True, check=True).stdout
    paths = [re.search(rf"{name}\S*\s+=>\s+(\S+)", linked) for name in (r"libasan\.so", r"libstdc\+\+\.so")]
    if not paths[0]:
        sys.exit(f"{module} is not linked against libasan: was it built with MINIGEN_SANITIZE=ON?")
    return " ".join(path.group(1) for path in paths if path)


def run_tests(pytest_args, logs):
    """Whether pytest ran to its end with every test passed.

    The exit status cannot say: the sanitizers exit with one status for an error and for the
    interpreter's leaks alike. pytest's JUnit report is written only if the run reaches its end."""
    module = next((TARGET / "minigen").glob("_C*.so"))
    options = f"log_path={logs}/report:print_stacktrace=1:halt_on_error=1"
    env = dict(os.environ,
               LD_PRELOAD=preloads(module), PYTHONPATH=str(TARGET),
               # allocator_may_return_null: an impossible allocation raises MemoryError, as without ASan
               ASAN_OPTIONS=f"{options}:detect_leaks=1:allocator_may_return_null=1:"
                            "detect_stack_use_after_return=1:check_initialization_order=1",
               UBSAN_OPTIONS=options)
    # Run from the build, not the repository: `python -m` puts the working directory first on the
    # path, and the repository's own minigen/ would shadow the sanitized one.
    check = "import minigen._C, sys; print(minigen._C.__file__)"
    imported = subprocess.run([sys.executable, "-c", check], env=env, cwd=TARGET, capture_output=True,
                              text=True).stdout.strip()
    if imported != str(module):
        sys.exit(f"the tests would import {imported or 'no minigen._C'}, not {module}")
    paths = [str(ROOT / arg) if (ROOT / arg.split("::")[0]).exists() else arg for arg in pytest_args]
    junit = Path(logs) / "junit.xml"
    subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--junitxml={junit}", *paths],
                   env=env, cwd=TARGET)
    if not junit.exists():
        print("pytest did not finish: a sanitizer stopped it (its report follows)", file=sys.stderr)
        return False
    suite = ElementTree.parse(junit).getroot().find("testsuite")
    return int(suite.get("failures")) == int(suite.get("errors")) == 0


def judge(logs):
    """(errors, our leaks, other leaks) from every report the sanitizers wrote."""
    errors, ours, others = [], [], 0
    for report in sorted(Path(logs).glob("report*")):
        text = report.read_text(errors="replace")
        for leak in LEAK.finditer(text):
            if "/minigen/_C" in leak.group(0) or "csrc/" in leak.group(0):
                ours.append(leak.group(0))
            else:
                others += int(leak.group(2))
        rest = LEAK.sub("", text)
        if ERROR.search(rest):
            errors.append(f"{report.name}:\n{rest}")
    return errors, ours, others


def main(argv):
    if "--no-build" in argv:
        argv = [a for a in argv if a != "--no-build"]
    else:
        build()
    with tempfile.TemporaryDirectory() as logs:
        passed = run_tests(argv or ["-q", *KERNEL_TESTS], logs)
        errors, ours, others = judge(logs)
    for text in errors + ours:
        print(text, file=sys.stderr)
    print(f"sanitizers: {len(errors)} error report(s), {len(ours)} leak(s) in minigen._C; "
          f"{others} bytes the interpreter keeps at exit, not reported")
    return 0 if passed and not errors and not ours else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
