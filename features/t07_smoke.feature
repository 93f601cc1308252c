@T07
Feature: T07 — Initial migration, seed, and smoke test
  Migrations run as a Kubernetes Job, the idempotent seed runs, the first superuser
  exists, and the smoke checklist passes in a real browser.
  Workplan item RAILIANCE-WP-0002-T07.

  @provisioning
  Scenario: Migrations have run as a Kubernetes Job
    Given the migration Job for the deployed image has completed
    Then the database has no unapplied migrations

  @provisioning
  Scenario: The seed has run and is idempotent
    Given the seed has run
    When I run the seed again
    Then the reference tables have the same row counts as before

  @provisioning
  Scenario: The first superuser exists
    Given the first superuser exists
    Then the superuser's credentials are kept in a Secret, not in any output

  @smoke
  Scenario: The app container runs production settings as a non-root user
    Then inside the app container the main process runs as a non-root user
    And inside the app container gunicorn listens on port 8000
    And inside the app container the built assets and the Vite manifest are present
    And inside the app container DEBUG is off

  @smoke @browser
  Scenario: Login at /admin/ succeeds
    When I log in at "/admin/" as the superuser
    Then I see the admin index "Vergabe-Teilnahme – Verwaltung"

  @smoke @browser
  Scenario: The dashboard renders without errors
    Given I am logged in as the superuser
    When I open the dashboard "/"
    Then the page answers 200 with the headline "Übersicht"
    And the page logged no console errors and no failed requests

  @smoke @browser
  Scenario: Static assets are served correctly
    Given I am logged in as the superuser
    When I open the dashboard "/"
    Then every stylesheet and script answers 200 with the right content type, a hashed name and long cache headers
    And the Tailwind styles take effect on the headline

  @smoke @browser
  Scenario: HTMX partial requests succeed
    Given I am logged in as the superuser
    When I open the dashboard "/"
    And I filter the list of Ausschreibungen
    Then the HTMX request gets a fragment that varies on HX-Request
    And the list on the page is swapped

  @smoke @browser
  Scenario: A new Ausschreibung can be created and saved
    Given I am logged in as the superuser
    When I open the dashboard "/"
    And I create a smoke Ausschreibung through the form
    Then the new Ausschreibung appears in the list
    And the smoke Ausschreibung is stored and removed again

  @smoke
  Scenario: The app's logs show no unexpected errors
    Then the app pod's logs since its start show no unexpected errors
