// living-docs.html: filter scenarios by status and tag. Plain DOM, no requests, works from file://.
(function () {
  "use strict";
  var NOT_DONE = ["failed", "missing", "blocked", "not_evaluated"];
  var boxes = Array.prototype.slice.call(document.querySelectorAll('input[name="status"]'));
  var tagSelect = document.getElementById("tag-filter");
  var counter = document.getElementById("filter-count");
  var scenarios = Array.prototype.slice.call(document.querySelectorAll(".scenario"));
  var groups = Array.prototype.slice.call(document.querySelectorAll(".scenarios"));

  function wanted() {
    var statuses = {};
    boxes.forEach(function (box) { statuses[box.value] = box.checked; });
    return { statuses: statuses, tag: tagSelect ? tagSelect.value : "" };
  }

  function apply() {
    var filter = wanted();
    var shown = 0;
    scenarios.forEach(function (scenario) {
      var tags = (scenario.getAttribute("data-tags") || "").split(" ");
      var visible = filter.statuses[scenario.getAttribute("data-outcome")] !== false &&
        (filter.tag === "" || tags.indexOf(filter.tag) !== -1);
      scenario.hidden = !visible;
      if (visible) { shown += 1; }
    });
    groups.forEach(function (group) {
      var note = group.querySelector(".empty-filter");
      if (!note) { return; }
      var any = group.querySelector(".scenario:not([hidden])") !== null;
      var has = group.querySelector(".scenario") !== null;
      note.hidden = any || !has;
    });
    if (counter) {
      counter.textContent = shown + " of " + scenarios.length + " shown";
    }
  }

  function setAll(predicate) {
    boxes.forEach(function (box) { box.checked = predicate(box.value); });
    if (tagSelect) { tagSelect.value = ""; }
    apply();
  }

  boxes.forEach(function (box) { box.addEventListener("change", apply); });
  if (tagSelect) { tagSelect.addEventListener("change", apply); }
  var reset = document.getElementById("reset-filters");
  if (reset) { reset.addEventListener("click", function () { setAll(function () { return true; }); }); }
  var open = document.getElementById("only-open");
  if (open) {
    open.addEventListener("click", function () {
      setAll(function (value) { return NOT_DONE.indexOf(value) !== -1; });
    });
  }
  apply();
}());
