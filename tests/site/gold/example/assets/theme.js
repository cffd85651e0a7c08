/* Theme: follow prefers-color-scheme until the user picks one; the choice lives in localStorage. */
(function () {
  "use strict";
  var KEY = "reportgen-theme";
  function stored() { try { return window.localStorage.getItem(KEY); } catch (e) { return null; } }
  function current() {
    var chosen = stored();
    if (chosen === "light" || chosen === "dark") { return chosen; }
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }
  function apply(theme) {
    document.documentElement.setAttribute("data-theme", theme);
    document.dispatchEvent(new CustomEvent("reportgen-theme", { detail: theme }));
  }
  window.reportgenTheme = current;
  apply(current());
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("theme-toggle");
    if (!button) { return; }
    button.addEventListener("click", function () {
      var next = current() === "dark" ? "light" : "dark";
      try { window.localStorage.setItem(KEY, next); } catch (e) { /* private mode: not persisted */ }
      apply(next);
    });
  });
}());
