// Filters findings by words and rule, and puts deferred details in place when a group
// opens. Everything it needs is in the page: it makes no request.
(function () {
  var q = document.getElementById("q");
  var rule = document.getElementById("rule");
  var shown = document.getElementById("shown");
  if (!q || !rule) return;
  var subs = Array.prototype.slice.call(document.querySelectorAll("details.sub"));
  var groups = Array.prototype.slice.call(document.querySelectorAll("details.group"));
  var items = null; // [{el, q, rule, sub, group}], built on first use
  // Past 500 findings, a group's details are raw deflate in base64, inflated in the page.
  function fill(sub) {
    var store = sub.querySelector(":scope > script.bodies");
    if (!store) return;
    store.remove();
    var bin = atob(store.textContent);
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
    new Response(stream).text().then(function (html) {
      var parts = html.split("<!--end-->");
      var arts = sub.querySelectorAll(":scope > article.finding");
      for (var j = 0; j < arts.length; j++) arts[j].insertAdjacentHTML("beforeend", parts[j]);
    });
  }
  subs.forEach(function (sub) {
    if (sub.open) fill(sub);
    sub.addEventListener("toggle", function () { if (sub.open) fill(sub); });
  });
  function index() {
    if (items) return items;
    items = [];
    subs.forEach(function (sub, s) {
      var g = groups.indexOf(sub.closest("details.group"));
      sub.querySelectorAll(":scope > article.finding").forEach(function (el) {
        items.push({ el: el, q: el.getAttribute("data-q"), rule: el.getAttribute("data-rule"), sub: s, group: g });
      });
    });
    return items;
  }
  function count(d, visible, filtering) {
    var c = d.querySelector(":scope > summary .count");
    if (c) c.textContent = filtering ? visible + " / " + c.getAttribute("data-total") : c.getAttribute("data-total");
  }
  function apply() {
    var list = index();
    var words = q.value.toLowerCase().split(/\s+/).filter(Boolean);
    var r = rule.value;
    var filtering = words.length > 0 || r !== "";
    var perSub = subs.map(function () { return 0; });
    var perGroup = groups.map(function () { return 0; });
    var n = 0;
    list.forEach(function (it) {
      var ok = (!r || it.rule === r) && words.every(function (w) { return it.q.indexOf(w) >= 0; });
      it.el.hidden = !ok;
      if (ok) { n++; perSub[it.sub]++; perGroup[it.group]++; }
    });
    subs.forEach(function (d, i) {
      d.hidden = perSub[i] === 0;
      count(d, perSub[i], filtering);
      if (filtering && perSub[i] > 0 && n <= 200) d.open = true;
    });
    groups.forEach(function (d, i) {
      d.hidden = perGroup[i] === 0;
      count(d, perGroup[i], filtering);
      if (filtering && perGroup[i] > 0 && n <= 200) d.open = true;
    });
    shown.textContent = filtering ? n + " of " + list.length + " shown" : list.length + " in all";
  }
  var timer = 0;
  q.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(apply, 150); });
  rule.addEventListener("change", apply);
  document.getElementById("expand").addEventListener("click", function () {
    groups.concat(subs).forEach(function (d) { if (!d.hidden) d.open = true; });
  });
  document.getElementById("collapse").addEventListener("click", function () {
    groups.concat(subs).forEach(function (d) { d.open = false; });
  });
  shown.textContent = document.querySelectorAll("article.finding").length + " in all";
})();
