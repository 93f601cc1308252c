@T01
Feature: T01 — Inventory the deployment substrate
  Before any code is written, the operator confirms what the deployment stands on:
  the shared cnpg cluster, the registry and a package token, the ClusterIssuer, the DNS
  change path of the app zone, and the ingress controller with its public address.
  Workplan item RAILIANCE-WP-0002-T01. Read-only: every scenario is safe against production.

  Background:
    Given the target cluster is reachable

  @smoke
  Scenario: The shared cnpg cluster for app databases is identified
    When I look up the shared database cluster named by the target
    Then the database cluster reports a healthy state
    And its databases, managed roles and capacity are recorded in the inventory

  @smoke
  Scenario: The registry answers with an OCI auth challenge
    When I request the registry API root without credentials
    Then the registry answers 401 with a Bearer challenge
    And the challenge realm is an HTTPS URL on the registry host

  Scenario: The operator has a package-capable registry token
    Then the operator's package token is accepted by the registry realm with push rights

  @smoke
  Scenario: The letsencrypt-prod ClusterIssuer is healthy and has issued recently
    Then the cluster issuer named by the target is Ready
    And the known good certificate was issued by it within the last 90 days

  @smoke
  Scenario: The DNS change path for the app zone is known
    Then the DNS change path for the app zone is recorded in the inventory

  @smoke
  Scenario: Traefik is the active ingress controller
    Then the ingress class named by the target is served by Traefik
    And the public address an A record must point at is recorded in the inventory

  Scenario: The inventory records the pre-condition gaps
    Then the inventory lists the database cluster, the token path, the DNS change path and the pre-condition gaps
