"""F03, F04, F05, F06, F13, F14: faults built into the app's image.

Each fault is a commit in the sandbox's app repository (reference_app/faults/FNN.py), built,
pushed and deployed the way the suite does it (`--provision` of T03, T05 and the one-shot
jobs of T07), then shown by the scenarios that must catch it.  Removing it resets both
repositories to their commits before the fault and deploys the original image again,
which is still in the registry: only the faulty image is ever built.

Aspects:
- F03 production settings that default to DEBUG on: the running app says DEBUG is on in
  production (safety rule and the container scenario);
- F04 a template naming a static file collectstatic never saw: the dashboard answers 500
  and the log scenario names the missing asset;
- F05 the Vite manifest left out of the image, and (the same kind) the built stylesheet
  left out while the manifest names it: the image and container scenarios name the entry
  that has no stylesheet and script, and the static-assets check fails;
- F06 the HTMX form posting without the CSRF header: the hx-post gets 403, and the log
  shows the refusal;
- F13 the image running as root (no USER): the Dockerfile and the local container
  scenarios name the user (built locally only: the chart's runAsNonRoot would refuse it);
- F14 a seed that adds rows when run twice: the idempotence scenario names the table and
  the rows before and after.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from reference_app import faults
from sandbox import layout
from sandbox.components import postgres
from tests.faults.edits import (
    APP_REPO,
    APPS_REPO,
    NAMESPACE,
    RELEASE,
    Restore,
    git,
    head,
    kubectl,
    require_clean,
    reset,
    sh,
)
from tests.faults.harness import DEPLOY_IMAGE, Bench, Probe, S, deploy, scenario

REGISTRY_TAGS = (layout.DATA / "registry" / "docker" / "registry" / "v2" / "repositories" /
                 "coulomb" / "vergabe-teilnahme" / "_manifests" / "tags")
IMAGE = f"{layout.GITEA_HOST}/coulomb/vergabe-teilnahme"


def deploy_image(bench: Bench, label: str) -> None:
    """Build, push and deploy the app repository's HEAD (nothing is built when it exists)."""
    deploy(bench, label, DEPLOY_IMAGE)


def build_locally(bench: Bench, label: str) -> None:
    run = bench.run(label, "--provision", "-m", "T02", "-k", S.LOCAL_IMAGE)
    assert scenario(run, S.LOCAL_IMAGE), f"expected the image to be built; {run.output[-800:]}"


def _drop_image(tag: str) -> None:
    """The faulty image out of the builder's store, the registry's tags and its jobs."""
    sh(layout.BIN / "podman", "rmi", "-f", f"{IMAGE}:{tag}", check=False)
    shutil.rmtree(REGISTRY_TAGS / tag, ignore_errors=True)
    kubectl("-n", NAMESPACE, "delete", "job", "--ignore-not-found", "--cascade=foreground",
            *(f"{RELEASE}-{task}-{tag}" for task in ("migrate", "superuser")))


def _stylesheet_left_out(app_dir: Path) -> None:
    """The built CSS deleted after the copy: the manifest names a file the image lacks."""
    dockerfile = app_dir / "Dockerfile"
    anchor = "COPY --from=assets /build/static/dist/ static/dist/\n"
    text = dockerfile.read_text()
    assert text.count(anchor) == 1, f"expected the anchor {anchor!r} once in {dockerfile}"
    dockerfile.write_text(text.replace(anchor, anchor + "RUN rm -f static/dist/assets/*.css\n"))


#: faults of the catalogue's kinds that reference_app/faults does not carry
LOCAL_FAULTS: dict[str, tuple[Callable[[Path], None], str]] = {
    "F05/stylesheet": (_stylesheet_left_out, "the built stylesheet left out of the image"),
}


def _apply(fault: str) -> str:
    if fault in LOCAL_FAULTS:
        patch, description = LOCAL_FAULTS[fault]
        patch(APP_REPO)
        return description
    faults.apply(fault, APP_REPO)
    return faults.describe(fault)


def inject(bench: Bench, restore: Restore, fault: str, *, deploy: bool = True,
           extra: Callable[[], None] | None = None) -> str:
    """Commit FAULT into the app repository and ship it; returns the image tag."""
    require_clean(APP_REPO)
    require_clean(APPS_REPO)
    app, apps = head(APP_REPO), head(APPS_REPO)
    if deploy:
        restore.add("the original image deployed",
                    lambda: deploy_image(bench, f"redeploy without {fault}"))
    restore.add("the deployment repository's branch", lambda: reset(APPS_REPO, apps))
    restore.add("the app repository's branch", lambda: reset(APP_REPO, app))
    if extra is not None:
        restore.add(f"what {fault} left behind", extra)

    description = _apply(fault)
    git(APP_REPO, "add", "-A")
    git(APP_REPO, "commit", "-q", "-m", f"fault {fault}: {description}")
    tag = head(APP_REPO)[:12]
    restore.add(f"image {tag}", lambda: _drop_image(tag))
    if deploy:
        deploy_image(bench, f"build and deploy {fault}")
    else:
        build_locally(bench, f"build {fault}")
    return tag


def check(bench: Bench, restore: Restore, fault: str, probes: list[Probe], *,
          deploy: bool = True, extra: Callable[[], None] | None = None) -> None:
    baselines = bench.before(probes)
    began = time.monotonic()
    inject(bench, restore, fault, deploy=deploy, extra=extra)
    bench.with_fault(fault if "/" in fault else f"{fault}/image", probes, baselines, began)
    restore()
    bench.after(probes, baselines)


def test_F03_production_settings_with_debug_on(bench: Bench, restore: Restore) -> None:
    debug = [r"DEBUG is on in production", r"settings\.prod reports DEBUG=True",
             r"remove DEBUG/DJANGO_DEBUG"]
    check(bench, restore, "F03", [Probe(tests=(S.DEBUG_OFF, S.CONTAINER),
                                        expect={S.DEBUG_OFF: debug, S.CONTAINER: debug})])


def test_F04_template_names_an_asset_collectstatic_never_saw(bench: Bench,
                                                             restore: Restore) -> None:
    asset = re.escape(faults.module("F04").MISSING_ASSET)
    check(bench, restore, "F04", [Probe(tests=(S.DASHBOARD, S.STATIC, S.LOGS), expect={
        S.DASHBOARD: [r"500", asset], S.STATIC: [r"500"],
        S.LOGS: [rf"Missing staticfiles manifest entry for '{asset}'",
                 r"collectstatic never saw"]})])


@pytest.mark.parametrize("kind", ["manifest", "stylesheet"])
def test_F05_vite_build_output_left_out_of_the_image(bench: Bench, restore: Restore,
                                                     kind: str) -> None:
    """The catalogue's missing manifest, and a manifest whose stylesheet the image lacks."""
    if kind == "manifest":
        fault, entry = "F05", [r"no Vite manifest", r"entry frontend/main\.js is not included",
                               r"without its stylesheet and script", r"\.vite/"]
    else:
        fault, entry = "F05/stylesheet", [
            r"does not resolve every entry the templates include",
            r"frontend/main\.js: the manifest names assets/[\w.-]+\.css, which the image lacks",
            r"without their stylesheet and script"]
    check(bench, restore, fault, [Probe(
        tests=(S.LOCAL_IMAGE, S.CONTAINER, S.STATIC),
        expect={S.LOCAL_IMAGE: entry, S.CONTAINER: entry,
                S.STATIC: [r"frontend/main\.js|stylesheet|500"]},
        optional=frozenset({S.STATIC}))])


def test_F06_htmx_posts_without_the_csrf_header(bench: Bench, restore: Restore) -> None:
    check(bench, restore, "F06", [Probe(tests=(S.HTMX, S.CREATE, S.LOGS), expect={
        S.CREATE: [r"403", r"X-CSRFToken"], S.LOGS: [r"CSRF token missing"]})])


def test_F13_image_runs_as_root(bench: Bench, restore: Restore) -> None:
    check(bench, restore, "F13", [Probe(tests=(S.DOCKERFILE, S.LOCAL_IMAGE), expect={
        S.DOCKERFILE: [r"USER lines none", r"runs as root \(uid 0\)"],
        S.LOCAL_IMAGE: [r"runs as uid 0", r"not set, so root"]})], deploy=False)


def _auftraggeber_ids() -> set[int]:
    with postgres.connect("vergabe_db") as conn:
        return {row[0] for row in conn.execute("select id from ausschreibungen_auftraggeber")}


def test_F14_seed_adds_rows_when_run_twice(bench: Bench, restore: Restore) -> None:
    probe = Probe(tests=(S.SEED,), expect={S.SEED: [
        r"ausschreibungen_auftraggeber: (\d+) before, (?!\1\b)\d+ after",
        r"update_or_create"]})
    baselines = bench.before([probe])
    began = time.monotonic()
    rows = _auftraggeber_ids()

    def drop_duplicates() -> None:
        extra = sorted(_auftraggeber_ids() - rows)
        if extra:
            with postgres.connect("vergabe_db") as conn:
                conn.execute("delete from ausschreibungen_auftraggeber where id = any(%s)",
                             (extra,))

    inject(bench, restore, "F14", extra=drop_duplicates)
    bench.with_fault("F14", [probe], baselines, began)
    restore()
    bench.after([probe], baselines)


@pytest.fixture(autouse=True)
def _app_repository() -> None:
    if not (APP_REPO / ".git").exists():
        pytest.skip(f"the sandbox's app repository {APP_REPO} does not exist; run "
                    "`python -m sandbox up`.")
