/* Theme: follow prefers-color-scheme until the user picks one; the choice lives in localStorage.
   Also what every page needs when printed (collapsed blocks opened). */
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
  /* Printing opens every collapsed block (logs, attributes, JSON): no CSS rule shows the content
     of a closed <details> in Chromium. The ones opened here close again after printing. */
  var openedForPrint = [];
  window.addEventListener("beforeprint", function () {
    openedForPrint = Array.prototype.slice.call(document.querySelectorAll("details:not([open])"));
    openedForPrint.forEach(function (block) { block.open = true; });
  });
  window.addEventListener("afterprint", function () {
    openedForPrint.forEach(function (block) { block.open = false; });
    openedForPrint = [];
  });
  /* The plot colours of each theme, one palette for the job pages' figures (render.js), the
     comparisons (compare.js) and the trends (trends.js), so they all look alike. */
  var PLOT = {
    light: { paper: "#ffffff", plot: "#ffffff", font: "#1b1f24", grid: "#e5e7eb" },
    dark: { paper: "#0d1117", plot: "#0d1117", font: "#e6edf3", grid: "#30363d" }
  };
  window.reportgenPlotColours = function (theme) { return PLOT[theme] || PLOT.light; };
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
