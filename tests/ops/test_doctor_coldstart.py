"""The cold-start check on small projects in a temporary folder: a slow import, a heavy module imported by
another, an entrypoint that does not import; and the `-X importtime` reader.
"""

from __future__ import annotations

from pathlib import Path

from lectern.deploy.coldstart import read_importtime
from lectern.deploy.preflight import BUNDLE_LIMIT_BYTES
from lectern.ops.doctor.coldstart import check_cold_start, heavy_at_start


def project(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_a_slow_import_at_start_warns_and_names_the_module(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "api/index.py": "import slowdep\napp = object()\n",
            "api/slowdep.py": "import time\ntime.sleep(0.4)\n",
        },
    )
    report = check_cold_start(root, threshold=0.25)
    assert report.status == "warn"
    assert report.summary.startswith("0.4") or report.summary.startswith("0.5")
    assert report.summary.endswith(" s to import api/index.py in a fresh process (warning above 0.25 s)")
    assert report.details[0].startswith("slowest imports: slowdep 0.4")
    assert report.details[1].startswith("heavy at start, could be imported lazily: slowdep 0.4")
    assert report.details[1].endswith("s (imported by api/index.py)")
    assert report.fixes[0].startswith("import slowdep inside the function that needs it, not at module level")
    assert report.facts["heavy"][0]["package"] == "slowdep" and report.facts["heavy"][0]["importedBy"] is None
    assert len(report.facts["slowest"]) <= 10 and report.facts["seconds"] >= 0.4


def test_a_heavy_module_is_traced_to_the_module_that_imports_it(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "api/index.py": "import book_api.routes\napp = object()\n",
            "api/book_api/__init__.py": "",
            "api/book_api/routes.py": "import slowdep\n",
            "api/slowdep.py": "import time\ntime.sleep(0.1)\n",
        },
    )
    report = check_cold_start(root)
    assert report.status == "pass"  # 0.1 s is well under a second, yet worth importing lazily
    assert [(h["package"], h["importedBy"]) for h in report.facts["heavy"]] == [("slowdep", "book_api.routes")]
    assert "(imported by book_api.routes)" in report.details[1]


def test_an_entrypoint_that_does_not_import_fails_with_its_error(tmp_path: Path) -> None:
    root = project(tmp_path, {"api/index.py": "import not_installed_anywhere\napp = object()\n"})
    report = check_cold_start(root)
    assert report.status == "fail"
    assert report.summary == (
        "api/index.py does not import in a fresh process: ModuleNotFoundError: No module named 'not_installed_anywhere'"
    )
    assert "a module it cannot find belongs in requirements.txt" in report.fixes[0]


def test_an_entrypoint_without_an_app_fails(tmp_path: Path) -> None:
    report = check_cold_start(project(tmp_path, {"api/index.py": "x = 1\n"}))
    assert report.status == "fail" and "defines no top-level app" in report.summary


def test_no_entrypoint_is_a_warning(tmp_path: Path) -> None:
    report = check_cold_start(tmp_path)
    assert report.status == "warn" and report.summary == f"not checked: no api/index.py in {tmp_path}"


def test_a_bundle_over_vercels_limit_fails_and_says_how_to_shrink_it(tmp_path: Path) -> None:
    root = project(tmp_path, {"api/index.py": "app = object()\n"})
    with (root / "api" / "model.bin").open("wb") as big:  # sparse: no disk is used, yet it counts in full
        big.truncate(BUNDLE_LIMIT_BYTES + 1)

    report = check_cold_start(root)

    assert report.status == "fail"
    assert report.facts["bundle"]["status"] == "fail"
    assert any(line.startswith("bundle: ") and "uncompressed of the 225" in line for line in report.details)
    assert report.fixes[-1].startswith("shrink the bundle: drop packages the API does not import")


def test_a_bundle_within_the_limit_is_not_a_failure(tmp_path: Path) -> None:
    root = project(tmp_path, {"api/index.py": "app = object()\n"})

    report = check_cold_start(root)

    assert report.status != "fail" and report.facts["bundle"]["status"] in ("pass", "warn")
    assert not any(fix.startswith("shrink the bundle") for fix in report.fixes)


IMPORTTIME = """\
import time: self [us] | cumulative | imported package
import time:       100 |        100 |       numpy.core
import time:     90000 |      90100 |     numpy
import time:       200 |        200 |     json
import time:       300 |      90600 |   myapp.models
import time:        50 |      90650 | myapp
import time:       400 |        400 |   fastapi.routing
import time:      9000 |      80000 |     heavy_lib
import time:       500 |      80900 | fastapi
"""


def test_importtime_lines_know_who_imported_them() -> None:
    modules = read_importtime(IMPORTTIME)
    importers = {m.name: m.importer for m in modules}
    assert importers == {
        "numpy.core": "numpy",
        "numpy": "myapp.models",
        "json": "myapp.models",
        "myapp.models": "myapp",
        "myapp": None,
        "fastapi.routing": "fastapi",
        "heavy_lib": "fastapi",
        "fastapi": None,
    }
    # numpy is the app's choice (myapp is slow only through it); heavy_lib is FastAPI's own business.
    assert [m.name for m in heavy_at_start(tuple(modules))] == ["numpy"]
