"""Views: Dashboard, Liste (ganze Seite oder HTMX-Fragment), Detail, Anlegen, Kennzahlen.

Eine Anfrage mit dem Kopf HX-Request bekommt nur das Fragment, das HTMX austauscht; darum
tragen diese Antworten `Vary: HX-Request`, damit kein Cache Fragment und Seite verwechselt.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from .forms import AusschreibungForm, FilterForm
from .models import Ausschreibung

NEUESTE = 10
ANGELEGT_EREIGNIS = "ausschreibungAngelegt"


def is_htmx(request: HttpRequest) -> bool:
    """Ob die Anfrage von HTMX kommt (Kopf HX-Request: true)."""
    return request.headers.get("HX-Request") == "true"


def gefiltert(request: HttpRequest) -> tuple[FilterForm, QuerySet[Ausschreibung]]:
    """Die Ausschreibungen nach Suchbegriff und Status der Anfrage."""
    # Own ids (filter_q, filter_status): the create form on the same page has a status field too.
    form = FilterForm(request.GET or None, auto_id="filter_%s")
    qs = Ausschreibung.objects.select_related("auftraggeber", "verfahrensart")
    if form.is_valid():
        begriff = form.cleaned_data["q"].strip()
        if begriff:
            qs = qs.filter(
                Q(titel__icontains=begriff)
                | Q(vergabenummer__icontains=begriff)
                | Q(auftraggeber__name__icontains=begriff)
            )
        if form.cleaned_data["status"]:
            qs = qs.filter(status=form.cleaned_data["status"])
    return form, qs


def kennzahlen() -> dict[str, int]:
    """Zahlen für die Kacheln des Dashboards."""
    jetzt = timezone.now()
    alle = Ausschreibung.objects.all()
    return {
        "gesamt": alle.count(),
        "offen": alle.filter(
            status=Ausschreibung.Status.VEROEFFENTLICHT, abgabefrist__gte=jetzt
        ).count(),
        "entwuerfe": alle.filter(status=Ausschreibung.Status.ENTWURF).count(),
        "fristen_7_tage": alle.filter(
            abgabefrist__gte=jetzt, abgabefrist__lt=jetzt + timedelta(days=7)
        ).count(),
    }


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Startseite: Kennzahlen, neueste Ausschreibungen mit Filter, Formular zum Anlegen."""
    form, qs = gefiltert(request)
    context = {
        "filter": form,
        "ausschreibungen": qs[:NEUESTE],
        "kennzahlen": kennzahlen(),
        "form": AusschreibungForm(),
        "limit": NEUESTE,
    }
    return render(request, "ausschreibungen/dashboard.html", context)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def liste(request: HttpRequest) -> HttpResponse:
    """Alle Ausschreibungen; für HTMX nur die Tabellenzeilen."""
    form, qs = gefiltert(request)
    limit = NEUESTE if request.GET.get("limit") == str(NEUESTE) else None
    context = {"filter": form, "ausschreibungen": qs[:limit] if limit else qs, "limit": limit}
    if is_htmx(request):
        return render(request, "ausschreibungen/teile/zeilen.html", context)
    return render(request, "ausschreibungen/liste.html", context)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def kennzahlen_view(request: HttpRequest) -> HttpResponse:
    """Die Kennzahl-Kacheln als Fragment (nach dem Anlegen neu geladen)."""
    context = {"kennzahlen": kennzahlen()}
    return render(request, "ausschreibungen/teile/kennzahlen.html", context)


@login_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Eine Ausschreibung mit allen Angaben."""
    ausschreibung = get_object_or_404(
        Ausschreibung.objects.select_related("auftraggeber", "verfahrensart", "erstellt_von"),
        pk=pk,
    )
    return render(request, "ausschreibungen/detail.html", {"ausschreibung": ausschreibung})


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def anlegen(request: HttpRequest) -> HttpResponse:
    """Formular zum Anlegen; HTMX bekommt das Formular zurück und ein Ereignis für die Liste."""
    if request.method == "GET":
        return render(request, "ausschreibungen/anlegen.html", {"form": AusschreibungForm()})

    form = AusschreibungForm(request.POST)
    if not form.is_valid():
        # HTMX swaps only 2xx answers, so the form with its errors comes back as 200.
        if is_htmx(request):
            return render(request, "ausschreibungen/teile/formular.html", {"form": form})
        return render(request, "ausschreibungen/anlegen.html", {"form": form})

    ausschreibung = form.save(commit=False)
    ausschreibung.erstellt_von = request.user
    ausschreibung.save()
    if not is_htmx(request):
        return redirect(ausschreibung)
    context = {"form": AusschreibungForm(), "angelegt": ausschreibung}
    response = render(request, "ausschreibungen/teile/formular.html", context)
    response["HX-Trigger"] = ANGELEGT_EREIGNIS
    return response
