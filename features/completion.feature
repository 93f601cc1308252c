@completion
Feature: Completion criteria
  The workplan is complete when every criterion below holds on the live state.
  Workplan section "Completion Criteria" of RAILIANCE-WP-0002.

  @smoke
  Scenario: The image is published to the registry
    Then the registry lists the tag for the app repository's commit

  @smoke
  Scenario: A dedicated role and database serve the app from the shared cluster
    Then cnpg reports the app role reconciled
    And cnpg reports the app database applied
    And the app answers its database health check

  Scenario: The values and the ingress manifest are committed and one command deploys
    Then the deployment repository has committed the SOPS values and the ingress manifest
    And the Makefile has the targets "vergabe-deploy", "vergabe-status" and "vergabe-migrate"

  @smoke
  Scenario: The app host serves the app over HTTPS with a valid certificate
    Then "https://<app host>/healthz" answers 200 over a certificate chain that validates

  @smoke
  Scenario: Migrations and seed have run and the smoke checklist passes
    Then the database has no unapplied migrations
    And every smoke scenario of T07 passed in this run

  Scenario: The runbook is in docs/vergabe-teilnahme.md
    Then the deployment repository has committed "docs/vergabe-teilnahme.md"
