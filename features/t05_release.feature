@T05
Feature: T05 — Author Helm release for vergabe-teilnahme
  A thin in-repo chart and SOPS-encrypted values turn the published image into a
  Deployment in its own namespace; `make vergabe-deploy` is the single deploy command.
  Workplan item RAILIANCE-WP-0002-T05.

  @provisioning
  Scenario: The release's files are in the deployment repository
    Given the deployment repository has the release files
    Then the chart approach and its rationale are recorded in the workplan log
    And the SOPS values file is encrypted for the recipients in .sops.yaml
    And the Makefile has the targets "vergabe-deploy", "vergabe-status" and "vergabe-migrate"

  @provisioning
  Scenario: The SOPS values carry production settings
    Given the deployment repository has the release files
    Then the values set DJANGO_SETTINGS_MODULE to the production settings
    And the values set ALLOWED_HOSTS and CSRF_TRUSTED_ORIGINS for the app host
    And the values carry a generated SECRET_KEY and the database DSN
    And the values ask for one replica with resource requests and limits and probes on the health endpoint

  @provisioning
  Scenario: make vergabe-deploy renders cleanly with --dry-run
    Given the deployment repository has the release files
    When I render "make vergabe-deploy" with --dry-run
    Then the rendering succeeds
    And the rendered manifests contain no plaintext secret value

  @provisioning
  Scenario: The release is deployed in its dedicated namespace
    Given the release is deployed with "make vergabe-deploy"
    Then the Helm release is in status deployed
    And the app Deployment has one ready replica with probes on the health endpoint
    And the app Service selects the app pods
