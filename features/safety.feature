@safety
Feature: Safety contract
  The rules the workplan sets for every task, checked on the live state and the
  repositories. Workplan section "Safety Contract" of RAILIANCE-WP-0002.

  @smoke
  Scenario: No plaintext secret stands in the deployment repository
    Then no file of the deployment repository holds a secret value in clear

  @smoke
  Scenario: The app role is dedicated and scoped to one database
    Then the app role owns only the app database and has no grants on other databases
    And the app role is not the gitea role

  @smoke
  Scenario: Nothing is exposed before its certificate is issued
    Then every ingress for the app host has a Ready certificate for that host

  @smoke
  Scenario: Production settings only, DEBUG off
    Then the running app has DEBUG off and production settings

  @smoke
  Scenario: The gitea ingress keeps working
    Then the gitea ingress still serves its host

  @smoke
  Scenario: The shared database cluster's resources are untouched
    Then the suite changed nothing on the shared database cluster but its managed roles

  @smoke
  Scenario: The app database starts fresh
    Then the app database was created empty by this workplan, not restored from another database
