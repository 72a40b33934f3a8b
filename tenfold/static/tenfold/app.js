// Tenfold page behaviour: theme toggle, sidebar toggle, auto-submitting selects, confirmations.
(function () {
  "use strict";
  function currentTheme() {
    var explicit = document.documentElement.getAttribute("data-theme");
    if (explicit) return explicit;
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-theme-toggle]");
    if (toggle) {
      var next = currentTheme() === "dark" ? "light" : "dark";
      document.documentElement.setAttribute("data-theme", next);
      try { localStorage.setItem("tenfold-theme", next); } catch (e) { /* ignore */ }
      return;
    }
    var nav = event.target.closest("[data-toggle=sidebar]");
    if (nav) {
      document.getElementById("sidebar").classList.toggle("open");
      return;
    }
    var confirmer = event.target.closest("[data-confirm]");
    if (confirmer && !window.confirm(confirmer.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
  document.addEventListener("change", function (event) {
    if (event.target.matches("select[data-autosubmit]")) event.target.form.submit();
  });
  document.addEventListener("htmx:responseError", function (event) {
    var box = document.querySelector(".messages") || document.createElement("div");
    box.className = "messages";
    var msg = document.createElement("div");
    msg.className = "message message-error";
    var text = event.detail.xhr.statusText || "Error";
    try { text = JSON.parse(event.detail.xhr.responseText).message || text; } catch (e) { /* not JSON */ }
    msg.textContent = text;
    box.appendChild(msg);
    var main = document.getElementById("main");
    if (main && !box.parentNode) main.prepend(box);
  });
})();
