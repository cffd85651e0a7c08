/* Draw each figure of a page from its <script type="application/json"> data block, as it nears the screen.
   One static script for the whole site: the CSP allows no inline script. */
(function () {
  "use strict";
  var COLOURS = {
    light: { paper: "#ffffff", plot: "#ffffff", font: "#1b1f24", grid: "#e5e7eb" },
    dark: { paper: "#0d1117", plot: "#0d1117", font: "#e6edf3", grid: "#30363d" }
  };
  var drawn = [];

  function themeLayout(theme) {
    var c = COLOURS[theme] || COLOURS.light;
    return {
      paper_bgcolor: c.paper, plot_bgcolor: c.plot, "font.color": c.font,
      "xaxis.gridcolor": c.grid, "yaxis.gridcolor": c.grid
    };
  }

  function applyTheme(layout, theme) {
    var c = COLOURS[theme] || COLOURS.light;
    layout.paper_bgcolor = c.paper; layout.plot_bgcolor = c.plot;
    layout.font = { color: c.font };
    layout.xaxis = layout.xaxis || {}; layout.yaxis = layout.yaxis || {};
    layout.xaxis.gridcolor = c.grid; layout.yaxis.gridcolor = c.grid;
    return layout;
  }

  function addSteps(box, spec) {
    var steps = spec.steps, labels = spec.step_labels || [];
    var bar = document.createElement("div");
    bar.className = "steps";
    var prev = document.createElement("button"); prev.type = "button"; prev.textContent = "\u25C0 prev";
    var next = document.createElement("button"); next.type = "button"; next.textContent = "next \u25B6";
    var slider = document.createElement("input");
    slider.type = "range"; slider.min = "0"; slider.max = String(steps.length - 1); slider.value = "0";
    slider.setAttribute("aria-label", "Step through the stacked sets");
    var label = document.createElement("span"); label.textContent = labels[0] || "0";
    function show(i) {
      i = Math.max(0, Math.min(steps.length - 1, i));
      slider.value = String(i); label.textContent = labels[i] || String(i);
      window.Plotly.restyle(box, { z: [steps[i]] }, [0]);
    }
    prev.addEventListener("click", function () { show(Number(slider.value) - 1); });
    next.addEventListener("click", function () { show(Number(slider.value) + 1); });
    slider.addEventListener("input", function () { show(Number(slider.value)); });
    bar.appendChild(prev); bar.appendChild(slider); bar.appendChild(next); bar.appendChild(label);
    box.parentNode.insertBefore(bar, box.nextSibling);
  }

  /* One figure plotly refuses (subnormal-only values: "Something went wrong with axis scaling")
     must not stop the others: it says so in its box, and the page goes on. */
  function draw(box) {
    var block = document.getElementById(box.getAttribute("data-figure"));
    if (!block || !window.Plotly || box.hasAttribute("data-failed")) { return; }
    try {
      var spec = JSON.parse(block.textContent);
      var theme = window.reportgenTheme ? window.reportgenTheme() : "light";
      var config = { displaylogo: false, responsive: true };
      window.Plotly.newPlot(box, spec.data, applyTheme(spec.layout, theme), config);
      drawn.push(box);
      if (spec.steps && spec.steps.length > 1) { addSteps(box, spec); }
    } catch (error) {
      try { window.Plotly.purge(box); } catch (ignored) { /* nothing was drawn */ }
      box.setAttribute("data-failed", "");
      box.className += " figure-failed";
      box.textContent = "This figure could not be drawn (" + String(error && error.message || error) +
        "); its values are in the downloads below.";
    }
  }

  /* A figure is drawn when it comes near the screen, not all at load: each costs ~15 ms, so a
     job of hundreds of outputs took seconds before the page answered. Printing draws the rest
     first, so a printed page has every figure. */
  function drawAll(boxes) {
    boxes.forEach(function (box) { if (drawn.indexOf(box) < 0) { draw(box); } });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var boxes = Array.prototype.slice.call(document.querySelectorAll("div.figure[data-figure]"));
    if (!("IntersectionObserver" in window)) { drawAll(boxes); return; }
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (entry.isIntersecting && drawn.indexOf(entry.target) < 0) {
          observer.unobserve(entry.target); draw(entry.target);
        }
      });
    }, { rootMargin: "400px 0px" });
    boxes.forEach(function (box) { observer.observe(box); });
    window.addEventListener("beforeprint", function () { boxes.forEach(function (box) { observer.unobserve(box); }); drawAll(boxes); });
  });
  document.addEventListener("reportgen-theme", function (event) {
    drawn.forEach(function (box) { window.Plotly.relayout(box, themeLayout(event.detail)); });
  });
}());
