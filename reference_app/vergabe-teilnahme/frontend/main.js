// Einstieg des Frontends: Stylesheet, HTMX und Alpine.js, gebündelt von Vite (kein CDN).
import "./main.css";

import Alpine from "alpinejs";
import htmx from "htmx.org";

window.htmx = htmx;
window.Alpine = Alpine;

const FEHLERTEXTE = {
  403: "Die Anfrage wurde abgelehnt (403). Die Sicherheitsprüfung ist fehlgeschlagen; bitte laden Sie die Seite neu.",
  404: "Die angeforderte Adresse gibt es nicht (404).",
  500: "Auf dem Server ist ein Fehler aufgetreten (500).",
};

function zeigeFehler(text) {
  const box = document.getElementById("hx-fehler");
  if (!box) return;
  box.textContent = text;
  box.classList.remove("hidden");
}

document.addEventListener("htmx:responseError", (event) => {
  const status = event.detail.xhr.status;
  zeigeFehler(FEHLERTEXTE[status] ?? `Die Anfrage ist fehlgeschlagen (Status ${status}).`);
});

document.addEventListener("htmx:sendError", () => {
  zeigeFehler("Der Server ist nicht erreichbar. Bitte prüfen Sie die Verbindung.");
});

document.addEventListener("htmx:beforeRequest", () => {
  const box = document.getElementById("hx-fehler");
  if (box) box.classList.add("hidden");
});

Alpine.start();
