"""URL-Verzeichnis: Dashboard, Ausschreibungen, Anmeldung und Verwaltung.

/healthz und /healthz/db beantwortet vergabe_teilnahme.health.HealthMiddleware, bevor
dieses Verzeichnis gefragt wird.
"""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

admin.site.site_header = "Vergabe-Teilnahme – Verwaltung"
admin.site.site_title = "Vergabe-Teilnahme"
admin.site.index_title = "Übersicht"

urlpatterns = [
    path("", include("ausschreibungen.urls")),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
]
