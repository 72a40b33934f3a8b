// Line charts of <canvas data-chart-url="..." data-chart-range="24h">: fetches the JSON series
// ({labels, series: [{key, label, data}], source}) and draws it with the vendored Chart.js. Works on the
// first page load and on content HTMX swaps in (htmx:load). Range buttons: [data-chart-range] inside
// the same [data-chart-card]. No inline script or style attribute in the markup (strict CSP).
(function () {
  "use strict";
  var COLOURS = ["#2454d6", "#c0262d", "#1d7a46", "#b26a00", "#7b3fb8"];

  function cssVar(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name);
    return value ? value.trim() : fallback;
  }

  function formatLabel(label, source) {
    var when = new Date(source === "daily" ? label + "T00:00:00Z" : label);
    if (isNaN(when.getTime())) return label;
    if (source === "daily") return when.toLocaleDateString(undefined, {timeZone: "UTC"});
    if (source === "hourly") return when.toLocaleString(undefined, {month: "short", day: "numeric", hour: "2-digit"});
    return when.toLocaleTimeString(undefined, {hour: "2-digit", minute: "2-digit"});
  }

  function render(canvas, data) {
    var card = canvas.closest("[data-chart-card]");
    var empty = card ? card.querySelector("[data-chart-empty]") : null;
    var existing = window.Chart.getChart(canvas);
    if (existing) existing.destroy();
    if (empty) empty.hidden = data.labels.length > 0;
    var text = cssVar("--muted", "#5d6677");
    var grid = cssVar("--border", "#d8dce3");
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels.map(function (label) { return formatLabel(label, data.source); }),
        datasets: data.series.map(function (series, index) {
          return {label: series.label, data: series.data, borderColor: COLOURS[index % COLOURS.length],
                  backgroundColor: COLOURS[index % COLOURS.length], borderWidth: 1.5, pointRadius: 0,
                  spanGaps: true, tension: 0.2};
        })
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        interaction: {mode: "index", intersect: false},
        scales: {
          x: {ticks: {color: text, maxTicksLimit: 8, autoSkip: true}, grid: {color: grid}},
          y: {min: 0, max: 100, ticks: {color: text}, grid: {color: grid}}
        },
        plugins: {legend: {labels: {color: text}}}
      }
    });
  }

  function draw(canvas) {
    if (!window.Chart || !window.fetch) return;
    var url = canvas.getAttribute("data-chart-url");
    var range = canvas.getAttribute("data-chart-range") || "24h";
    var separator = url.indexOf("?") === -1 ? "?" : "&";
    fetch(url + separator + "range=" + encodeURIComponent(range),
          {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) { render(canvas, data); })
      .catch(function () {
        var card = canvas.closest("[data-chart-card]");
        var empty = card ? card.querySelector("[data-chart-empty]") : null;
        if (empty) empty.hidden = false;
      });
  }

  function scan(root) {
    var scope = root && root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches("canvas[data-chart-url]")) draw(scope);
    scope.querySelectorAll("canvas[data-chart-url]").forEach(draw);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-chart-range]");
    if (!button) return;
    var card = button.closest("[data-chart-card]");
    var canvas = card ? card.querySelector("canvas[data-chart-url]") : null;
    if (!canvas) return;
    card.querySelectorAll("button[data-chart-range]").forEach(function (other) {
      other.setAttribute("aria-pressed", other === button ? "true" : "false");
    });
    canvas.setAttribute("data-chart-range", button.getAttribute("data-chart-range"));
    draw(canvas);
  });

  // htmx:load fires for every element HTMX adds (e.g. the monitoring panel of the device page).
  document.addEventListener("htmx:load", function (event) { scan(event.detail && event.detail.elt); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { scan(document); });
  } else {
    scan(document);
  }
})();
