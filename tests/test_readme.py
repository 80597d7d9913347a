"""The README's Python examples run as written."""
import pathlib
import re

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_the_examples_this_test_runs():
    assert len(python_blocks()) == 4


def test_the_model_zoo_example_trains_a_gan():
    scope = {}
    exec(python_blocks()[0], scope)
    assert set(scope["losses"]) == {"loss_d", "loss_g"}
    assert scope["step"] == 19


def test_the_taste_runs_and_the_penalty_reaches_the_weights():
    scope = {}
    exec(python_blocks()[1], scope)
    assert scope["w"].grad is not None and scope["x"].grad.shape == (4, 3)


def test_the_functional_example_trains_through_the_penalty():
    scope = {}
    exec(python_blocks()[2], scope)
    assert scope["w"].grad is not None


def test_the_gradient_kit_example_runs():
    scope = {}
    exec(python_blocks()[3], scope)
    scope["test_softplus"]()


def test_every_relative_link_in_the_readme_and_the_docs_resolves():
    root = README.parent
    pages = [README, *sorted((root / "docs").glob("*.md")), *sorted((root / "benchmarks").glob("*.md"))]
    broken = []
    for page in pages:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
            if target.startswith(("http://", "https://", "mailto:", "#")):
                continue
            if not (page.parent / target.split("#")[0]).exists():
                broken.append(f"{page.relative_to(root)}: {target}")
    assert len(pages) > 3 and not broken, broken
