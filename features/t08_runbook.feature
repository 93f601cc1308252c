@T08
Feature: T08 — Document handoff, runbook, and backup posture
  docs/vergabe-teilnahme.md, written from live facts, lets a new operator find the app,
  deploy a new image tag and recover from a pod crash without reading the workplan.
  Workplan item RAILIANCE-WP-0002-T08.

  @provisioning
  Scenario Outline: The runbook covers <topic>
    Given the runbook exists in the deployment repository
    Then the runbook has a section on <topic> naming <facts>

    Examples:
      | topic                          | facts                                              |
      | the image name and tag scheme  | the image repository and the git-sha tag scheme    |
      | the Kubernetes objects         | the namespace, Deployment, Service and Ingress     |
      | database credentials           | where the DSN lives and how to rotate it           |
      | restart and recovery           | the restart command                                |
      | rollback                       | the helm rollback command                          |
      | migrations                     | the migration command                              |
      | backup posture                 | the database cluster's backup                      |
      | ownership                      | the app repository and the deployment repository   |

  Scenario: The runbook's names match the live cluster
    Given the runbook exists in the deployment repository
    Then every Kubernetes object the runbook names exists in the cluster

  @smoke
  Scenario: The shared cluster's backup covers the app database
    Then the database cluster has a backup configuration and a scheduled backup
    And the most recent backup completed within the last two days
