/* Theme: follow prefers-color-scheme until the user picks one; the choice lives in localStorage.
   Also what every page needs when printed (collapsed blocks opened), and what the scripts of
   the figures share: the plot colours and the decoder of plotly.js typed arrays. */
(function () {
  "use strict";
  var KEY = "reportgen-theme";
  var remembered = null;  /* the choice when storage refuses it (private mode): kept while the page is open */
  function stored() { try { return window.localStorage.getItem(KEY); } catch (e) { return remembered; } }
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

  /* The one decoder of plotly.js typed arrays ({dtype, bdata, shape}: little-endian base64, as
     figures.py and compare.py write them) for the job pages' tables (render.js), the comparisons
     (compare.js) and the trends (trends.js); here because every page loads this script first.
     Returns {dtype, values, rows, cols, at(r, c)}: values is the whole array as a typed array (a
     trailing partial element is dropped), or the list itself for a plain list; cols is 0 for
     1-D. Returns null for what it cannot read: bad base64, or a dtype plotly.js has no typed
     array for (i8, u8: the build never writes them, it sends 64-bit integers as f8 plus text). */
  var TYPED = { i1: Int8Array, u1: Uint8Array, u1c: Uint8ClampedArray, i2: Int16Array, u2: Uint16Array,
    i4: Int32Array, u4: Uint32Array, f4: Float32Array, f8: Float64Array };
  var LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

  function typedValues(Type, raw) {
    var size = Type.BYTES_PER_ELEMENT, bytes = new Uint8Array(Math.floor(raw.length / size) * size);
    for (var i = 0; i < bytes.length; i += 1) { bytes[i] = raw.charCodeAt(i); }
    if (!LITTLE_ENDIAN) {  /* a typed array reads in the machine's order: turn each element round */
      for (var at = 0; at < bytes.length; at += size) { bytes.subarray(at, at + size).reverse(); }
    }
    return new Type(bytes.buffer);
  }

  function decodeArray(spec) {
    if (Array.isArray(spec)) {
      var nested = spec.length > 0 && Array.isArray(spec[0]);
      return { dtype: null, values: spec, rows: spec.length, cols: nested ? spec[0].length : 0,
        at: function (r, c) { return nested ? (spec[r] || [])[c] : spec[r]; } };
    }
    if (!spec || typeof spec.bdata !== "string" || !Object.prototype.hasOwnProperty.call(TYPED, spec.dtype)) { return null; }
    var raw;
    try { raw = window.atob(spec.bdata); } catch (e) { return null; }
    var values = typedValues(TYPED[spec.dtype], raw);
    var shape = String(spec.shape || "").split(",").map(Number);
    var cols = shape.length === 2 && Number.isInteger(shape[1]) && shape[1] > 0 ? shape[1] : 0;
    return { dtype: spec.dtype, values: values, rows: cols ? Math.floor(values.length / cols) : values.length, cols: cols,
      at: function (r, c) { return values[cols ? r * cols + c : r]; } };
  }
  window.reportgenDecodeArray = decodeArray;

  /* The one pluralising helper of the status lines (search.js, catalog.js, trends.js): the word
     for a count, "job" for 1 and "jobs" for any other (0 included); give ``many`` when it is not
     ``one`` + "s" (a verb: plural(n, "matches", "match"), "has" / "have"). */
  window.reportgenPlural = function (count, one, many) {
    return count === 1 ? one : (many === undefined ? one + "s" : many);
  };

  /* A derived series (compare.py's "derived": a [[reduce]] of an array output) in words, for
     compare.js and trends.js: "mean of each set of /QPU/signal (100 values a set)"; "" for an
     output's own series (no "derived"). */
  var HOW = { mean: "mean", min: "minimum", max: "maximum", rms: "root mean square", std: "standard deviation",
    median: "median", sum: "sum", ptp: "peak-to-peak (maximum \u2212 minimum)" };
  window.reportgenDerivedText = function (d) {
    if (!d || typeof d !== "object") { return ""; }
    var how = Object.prototype.hasOwnProperty.call(HOW, d.how) ? HOW[d.how] : String(d.how), values = Number(d.values);
    return how + " of " + (d.magnitude ? "the magnitudes of " : "") + "each set of " + String(d.of) +
      (values > 1 ? " (" + values.toLocaleString("en-US") + " values a set)" : "") + (d.note ? "; " + String(d.note) : "");
  };

  /* What the figures' scripts build pages with: an element holding text only (names and values
     come from hostile files: textContent, never parsed as HTML), and a name escaped for plotly.js, which renders
     pseudo-HTML in trace names, hover texts and titles. */
  window.reportgenElement = function (tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = text; }
    if (className) { node.className = className; }
    return node;
  };
  window.reportgenEscapeLabel = function (text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  };

  /* ---- What every figure of the site is drawn with (render.js, compare.js, trends.js).
     The config: no "Share chart..." (plotly's default sends the figure's data to cloud.plotly.com:
     a lab's unpublished data one click from a third party, and the site promises no outside
     service), and none of the mode bar's buttons that do nothing on these pages (box and lasso
     select, spike lines, hover modes): fewer Tab stops, a shorter bar on a phone. */
  var USELESS_BUTTONS = ["select2d", "lasso2d", "sendDataToCloud", "editInChartStudio", "toggleSpikelines",
    "hoverClosestCartesian", "hoverCompareCartesian", "toggleHover", "resetViews"];
  window.reportgenPlotConfig = function () {
    return { displaylogo: false, responsive: true, showSendToCloud: false, showEditInChartStudio: false,
      showLink: false, modeBarButtonsToRemove: USELESS_BUTTONS.slice() };
  };

  /* On a touch screen (a coarse pointer): a one-finger swipe over a figure scrolls the page, as
     everywhere else on it (dragmode false: plotly zoomed in place of scrolling); zoom stays one tap
     away in the mode bar (zoom in / out, zoom or pan as a drag mode, reset). Plotly shows that bar
     all the time on touch, at the top right, where it covered a centred title: the title moves
     down below it, and a figure without a title gets the bar's height as top margin. Printing
     (below) draws a figure at the paper's width. */
  var COARSE = window.matchMedia ? window.matchMedia("(pointer: coarse)") : null;
  var MODEBAR = 30;  /* px: the bar's height, with its 2 px offset */
  function touchLayout(layout) {
    layout.dragmode = false;
    layout.margin = layout.margin || {};
    var top = Number(layout.margin.t);
    if (!isFinite(top)) { top = 80; }  /* plotly's default */
    var title = layout.title;
    if (title && (typeof title === "string" || title.text)) {
      layout.title = typeof title === "string" ? { text: title } : title;
      layout.title.yref = "container"; layout.title.y = 1; layout.title.yanchor = "top";
      layout.title.pad = { t: MODEBAR + 4 };
      layout.margin.t = Math.max(top, MODEBAR + 34);
    } else {
      layout.margin.t = top + MODEBAR;
    }
    return layout;
  }
  window.reportgenPlotLayout = function (layout) {
    if (COARSE && COARSE.matches) { touchLayout(layout); }
    if (printing) { layout.width = printWidth(layout.width); }
    return layout;
  };

  /* The box a script draws into is role="group" with the figure's name: it also holds the mode
     bar's buttons, and focusable controls inside role="img" are hidden from a screen reader. The
     drawing itself (plotly's first SVG) is the image, with the same name; its hover layer, a
     second SVG, says nothing. Called after each draw. */
  window.reportgenLabelPlot = function (box) {
    var name = box.getAttribute("aria-label") || "figure";
    Array.prototype.forEach.call(box.querySelectorAll("svg.main-svg"), function (svg, i) {
      if (i === 0) { svg.setAttribute("role", "img"); svg.setAttribute("aria-label", name); } else { svg.setAttribute("aria-hidden", "true"); }
    });
  };

  /* Printing: a figure is drawn at the width of the window, wider than the paper, so its right
     side (legend, colour bar, the last dates) was cut. Before printing, each figure drawn (the
     scripts draw the rest in their own beforeprint, which runs first: this one is added at load)
     is drawn again at most PRINT_WIDTH wide, which an A4 or Letter page holds with the browser's
     margins; after printing, at the window's width again. */
  var PRINT_WIDTH = 600, printing = false, resized = [];
  function printWidth(width) { return Number(width) > 0 ? Math.min(Number(width), PRINT_WIDTH) : PRINT_WIDTH; }
  function fitForPrint() {
    printing = true;
    if (!window.Plotly) { return; }
    Array.prototype.forEach.call(document.querySelectorAll(".js-plotly-plot"), function (box) {
      var full = box._fullLayout;
      if (!full || full.width <= PRINT_WIDTH) { return; }
      resized.push([box, box.layout ? box.layout.width : undefined]);
      try { window.Plotly.relayout(box, { width: PRINT_WIDTH }); } catch (ignored) { /* purged meanwhile */ }
    });
  }
  function afterPrint() {
    printing = false;
    var back = resized.splice(0), boxes = back.map(function (entry) { return entry[0]; });
    /* and a figure first drawn while printing (reportgenPlotLayout gave it the paper's width) */
    Array.prototype.forEach.call(document.querySelectorAll(".js-plotly-plot"), function (box) {
      if (boxes.indexOf(box) < 0 && box.layout && box.layout.width === PRINT_WIDTH) { back.push([box, undefined]); }
    });
    back.forEach(function (entry) {
      try { window.Plotly.relayout(entry[0], { width: entry[1] === undefined ? null : entry[1] }); } catch (ignored) { /* gone */ }
    });
  }
  window.addEventListener("load", function () {
    window.addEventListener("beforeprint", fitForPrint);
    window.addEventListener("afterprint", afterPrint);
  });
  apply(current());
  /* Scripts run: the controls that only work with them (class "js-only": the header's Theme and
     UTC buttons, the catalog's filters, ...) show (site.css hides them on a page without "js").
     Set here, in the <head>, so they never flash in or out; the CSP forbids an inline script. */
  document.documentElement.classList.add("js");

  /* The button cycles auto -> the other look -> back -> auto, so its first click always changes
     what the page looks like, and a chosen theme can be given back to the system. Its name says
     which it is (the look alone does not tell "auto" from a choice). */
  function mode() { var chosen = stored(); return chosen === "light" || chosen === "dark" ? chosen : "auto"; }
  function nextMode() {
    var now = mode(), look = current();
    if (now === "auto") { return look === "dark" ? "light" : "dark"; }
    var system = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
    return now === system ? "auto" : (now === "dark" ? "light" : "dark");
  }
  function describe(button) {
    var now = mode(), next = nextMode();
    var state = now === "auto" ? "auto (follows the system, now " + current() + ")" : now;
    button.setAttribute("data-mode", now);
    button.title = "Theme: " + state + "; click for " + (next === "auto" ? "auto (the system's)" : next);
    button.setAttribute("aria-label", button.title);
  }
  function choose(next) {
    remembered = next === "auto" ? null : next;
    try {
      if (next === "auto") { window.localStorage.removeItem(KEY); } else { window.localStorage.setItem(KEY, next); }
    } catch (e) { /* private mode: not persisted beyond this page */ }
    apply(current());
  }
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("theme-toggle");
    if (!button) { return; }
    describe(button);
    button.addEventListener("click", function () { choose(nextMode()); describe(button); });
    var system = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)");
    if (system && system.addEventListener) {  /* auto follows the system as it changes (a laptop at dusk) */
      system.addEventListener("change", function () { if (mode() === "auto") { apply(current()); } describe(button); });
    }
  });
}());
