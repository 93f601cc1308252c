"""The app's one-shot tasks: migrations as a Job, the first superuser as a Job.

Both run from the suspended CronJobs the chart ships (`<release>-migrate`,
`<release>-superuser`), the same way `make vergabe-migrate` does: a Job is created from
the CronJob's template and awaited.  A Job is named after the image tag, so a completed
one for the deployed image means there is nothing to do.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from fixtures.cluster import Kube
from provisioning.base import Provisioner, labels
from suite.errors import SuiteError
from suite.state import Change
from suite.targets import Target

log = logging.getLogger("suite.provisioning.app")


class JobFailed(SuiteError):
    """A one-shot Job of the app failed; the message carries its last log lines."""


def deployed_tag(kube: Kube, target: Target) -> str:
    deployment = kube.apps.read_namespaced_deployment(str(target.require("app.release")),
                                                      str(target.require("cluster.namespace")))
    image = deployment.spec.template.spec.containers[0].image
    return str(image.rsplit(":", 1)[-1])


def job_logs(kube: Kube, namespace: str, job: str, lines: int = 15) -> str:
    pods = kube.core.list_namespaced_pod(namespace, label_selector=f"job-name={job}").items
    if not pods:
        return "(no pod)"
    try:
        return str(kube.core.read_namespaced_pod_log(str(pods[-1].metadata.name), namespace,
                                                     tail_lines=lines))
    except ApiException as exc:
        return f"(no log: {exc.reason})"


def wait_job(kube: Kube, namespace: str, name: str, deadline: float, interval: float) -> None:
    end = time.monotonic() + deadline
    next_report = time.monotonic() + 10
    while True:
        job = kube.batch.read_namespaced_job(name, namespace)
        status = job.status
        if status.succeeded:
            return
        if status.failed and status.failed > (job.spec.backoff_limit or 0):
            raise JobFailed(f"Job {namespace}/{name} failed. Its last log lines:\n"
                            f"{job_logs(kube, namespace, name)}")
        if time.monotonic() > end:
            raise JobFailed(f"Job {namespace}/{name} did not complete within {deadline:.0f}s "
                            f"(active {status.active or 0}, failed {status.failed or 0}). Last "
                            f"log lines:\n{job_logs(kube, namespace, name)}")
        if time.monotonic() > next_report:
            log.info("waiting for Job %s: active=%s so far", name, status.active)
            next_report = time.monotonic() + 10
        time.sleep(interval)


class OneShotJob(Provisioner):
    """A Job from the chart's suspended CronJob `<release>-<kind>`, once per image tag."""

    task = "T07"

    def __init__(self, target: Target, kube: Kube, kind: str) -> None:
        self.target = target
        self.kube = kube
        self.kind = kind
        self.name = f"job-{kind}"
        self.namespace = str(target.require("cluster.namespace"))
        self.release = str(target.require("app.release"))

    def job_name(self) -> str:
        try:
            tag = deployed_tag(self.kube, self.target)
        except ApiException as exc:
            if exc.status != 404:
                raise
            from provisioning.image import tag_for

            tag = tag_for(self.target.path("app.repo"))
        return f"{self.release}-{self.kind}-{tag}"

    def status(self) -> Any:
        try:
            return self.kube.batch.read_namespaced_job(self.job_name(), self.namespace).status
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def plan(self) -> list[Change]:
        status = self.status()
        if status is not None and status.succeeded:
            return []
        action = "create" if status is None else "update"
        return [self.change(f"Job {self.namespace}/{self.job_name()}", action,
                            f"from CronJob {self.release}-{self.kind}")]

    def apply(self, changes: list[Change]) -> None:
        name = self.job_name()
        status = self.status()
        if status is not None and not status.active:
            self.kube.batch.delete_namespaced_job(name, self.namespace,
                                                  propagation_policy="Foreground")
            time.sleep(2)
        if status is None or not status.active:
            cron = self.kube.batch.read_namespaced_cron_job(f"{self.release}-{self.kind}",
                                                            self.namespace)
            template = cron.spec.job_template
            self.kube.batch.create_namespaced_job(self.namespace, client.V1Job(
                metadata=client.V1ObjectMeta(name=name, labels=labels(
                    {"app.kubernetes.io/instance": self.release,
                     "app.kubernetes.io/component": self.kind})),
                spec=template.spec))
        wait_job(self.kube, self.namespace, name, self.target.timeout("rollout"),
                 self.target.interval)
