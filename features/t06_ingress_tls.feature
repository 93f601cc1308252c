@T06
Feature: T06 — DNS, ingress, and TLS for the app host
  The app host resolves to the node's public address, an Ingress modelled on gitea's
  routes it through Traefik, and cert-manager issues its certificate before any
  exposure. Workplan item RAILIANCE-WP-0002-T06.

  @provisioning
  Scenario: An A record points the app host at the node's public address
    Given the A record for the app host exists
    Then the app host resolves to the node's public address

  @provisioning
  Scenario: The app ingress is modelled on gitea's and conflicts with nothing
    Given the ingress for the app host is applied
    Then the app ingress uses the target's ingress class, the cluster-issuer annotation and the TLS secret "vergabe-teilnahme-tls"
    And no other ingress claims the app host
    And the gitea ingress still serves its host

  @provisioning
  Scenario: cert-manager issues the certificate for the app host
    Given the ingress for the app host is applied
    Then the certificate for the app host becomes Ready
    And the certificate's names match the ingress host

  @smoke
  Scenario: The app host serves the app over HTTPS with a valid chain
    Then "https://<app host>/healthz" answers 200 over a certificate chain that validates
    And the served certificate names the app host and was issued by the target's issuer
