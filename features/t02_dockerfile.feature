@T02
Feature: T02 — Add Dockerfile and asset build to vergabe-teilnahme
  The app repository gets a production-ready, multi-stage image definition: a Node
  stage builds the Tailwind/Vite assets, a Python stage installs the locked
  dependencies, collects static files and runs gunicorn on :8000 as a non-root user.
  Workplan item RAILIANCE-WP-0002-T02.

  Background:
    Given the app repository is available

  @provisioning
  Scenario: The app repository has a production Dockerfile and .dockerignore
    Given the app repository has the container files
    Then the Dockerfile has a Node asset stage and a Python stage
    And the Dockerfile runs gunicorn on port 8000 as a non-root user with a health check
    And the .dockerignore excludes node_modules, media, __pycache__ and .venv
    And the app README documents the build command and the image tag scheme

  @provisioning
  Scenario: The image builds and answers a smoke request locally
    Given the image for the app repository's commit is built
    When I start a container of the image locally
    Then the container answers "/healthz" with status 200
    And the container runs as a non-root user
    And the image holds the built assets and the Vite manifest
