// Filters findings by text and rule. Everything it needs is in the page: no request.
(function () {
  var q = document.getElementById("q");
  var rule = document.getElementById("rule");
  var shown = document.getElementById("shown");
  if (!q || !rule) return;
  var items = Array.prototype.slice.call(document.querySelectorAll(".finding"));
  var texts = items.map(function (el) { return el.getAttribute("data-q"); });
  var subs = Array.prototype.slice.call(document.querySelectorAll("details.sub"));
  var groups = Array.prototype.slice.call(document.querySelectorAll("details.group"));
  var timer = 0;
  function apply() {
    var words = q.value.toLowerCase().split(/\s+/).filter(Boolean);
    var r = rule.value;
    var n = 0;
    for (var i = 0; i < items.length; i++) {
      var el = items[i];
      var ok = (!r || el.getAttribute("data-rule") === r) &&
        words.every(function (w) { return texts[i].indexOf(w) >= 0; });
      el.hidden = !ok;
      if (ok) n++;
    }
    var filtering = words.length > 0 || r !== "";
    [subs, groups].forEach(function (list) {
      list.forEach(function (d) {
        var visible = d.querySelectorAll(".finding:not([hidden])").length;
        d.hidden = visible === 0;
        var c = d.querySelector(":scope > summary .count");
        if (c) c.textContent = filtering ? visible + " / " + c.getAttribute("data-total") : c.getAttribute("data-total");
        if (filtering && visible > 0 && n <= 200) d.open = true;
      });
    });
    shown.textContent = filtering ? n + " of " + items.length + " shown" : items.length + " in all";
  }
  q.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(apply, 120); });
  rule.addEventListener("change", apply);
  document.getElementById("expand").addEventListener("click", function () {
    groups.concat(subs).forEach(function (d) { if (!d.hidden) d.open = true; });
  });
  document.getElementById("collapse").addEventListener("click", function () {
    groups.concat(subs).forEach(function (d) { d.open = false; });
  });
  shown.textContent = items.length + " in all";
})();
