@T03
Feature: T03 — Build and publish image to the Gitea container registry
  The first production image goes through the registry, tagged with the app
  repository's git sha, and its reference and digest are recorded.
  Workplan item RAILIANCE-WP-0002-T03.

  @provisioning
  Scenario: The image is published under the registry naming convention
    Given the image for the app repository's commit is published
    Then the registry lists the tag for the app repository's commit
    And the image reference and digest are recorded in the workplan log

  @provisioning
  Scenario: The image is fetchable from a disposable pod on the cluster
    Given the app namespace exists
    And the cluster has a pull credential for the registry
    Then a disposable pod in the app namespace pulls and runs the published image
