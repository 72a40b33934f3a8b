// Applies the saved theme before the page paints (loaded in <head>, no inline script under the CSP).
(function () {
  try {
    var saved = localStorage.getItem("tenfold-theme");
    if (saved === "light" || saved === "dark") document.documentElement.setAttribute("data-theme", saved);
  } catch (e) { /* storage disabled: follow the system preference */ }
})();
