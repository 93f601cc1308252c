@T04
Feature: T04 — Provision PostgreSQL role and database
  A dedicated role and database in the shared cnpg cluster, declared as cnpg resources
  (a managed role on the Cluster and a Database), owned by nobody else.
  Workplan item RAILIANCE-WP-0002-T04.

  Background:
    Given the target cluster is reachable

  @provisioning
  Scenario: The app role and database are declared in the shared cluster
    Given the app role is declared as a managed role of the shared cluster
    And the app database is declared as a cnpg Database owned by the app role
    Then cnpg reports the app role reconciled
    And cnpg reports the app database applied

  @provisioning
  Scenario: The app role connects to its database from inside the cluster
    Given the app role and database are declared
    Then a disposable psql pod connects to the app database as the app role

  @smoke
  Scenario Outline: The app role has no <privilege> privilege
    Then the app role does not have the <privilege> attribute

    Examples:
      | privilege   |
      | SUPERUSER   |
      | CREATEDB    |
      | CREATEROLE  |
      | REPLICATION |
      | BYPASSRLS   |

  @smoke
  Scenario: The app role's grants are scoped to its own database
    Then the app role owns only the app database and has no grants on other databases
    And the app role is not the gitea role

  @provisioning
  Scenario: The DSN is recorded in the SOPS values
    Given the app role and database are declared
    And the SOPS values for the app exist
    Then the SOPS values hold a DSN for the app role on the app database
