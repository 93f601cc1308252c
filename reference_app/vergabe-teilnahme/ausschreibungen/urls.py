"""URLs der Ausschreibungen; das Dashboard liegt unter /."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("ausschreibungen/", views.liste, name="ausschreibung-liste"),
    path("ausschreibungen/liste/", views.liste, name="ausschreibung-fragment"),
    path("ausschreibungen/kennzahlen/", views.kennzahlen_view, name="ausschreibung-kennzahlen"),
    path("ausschreibungen/neu/", views.anlegen, name="ausschreibung-anlegen"),
    path("ausschreibungen/<int:pk>/", views.detail, name="ausschreibung-detail"),
]
