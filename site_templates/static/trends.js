/* Trends of a project: trends.html#jobs=200&status=ok&from=2022-07-11&to=2022-07-17&y=last&band=1&q=volt
   draws, for the latest jobs of the project by end time (of those that ended in the from/to range
   of UTC days, both ends included, when given), one figure per numeric output: a point per job at its end time,
   the output's last value in that job (or its mean), the marker's shape the job's status; and the
   jobs per day stacked by status. The reductions of array outputs a site config names (a data
   file's "derived" series, "/QPU/signal · mean") are outputs like the others, said so above each.
   Nothing is built for it per job: the rows come from the catalog's data file
   (window.REPORTGEN_CATALOG) and the values from each job's comparison data file
   (<slug>~compare.js, see compare.js), loaded by injected <script src> (a fetch of a file
   fails on file://), a few at a time. A job whose file is missing is counted and named, not an
   error. Names come from hostile files: the DOM gets them as text only, plotly escaped.
   A trend figure takes the keyboard focus: the arrow keys move between its points (see pointKeys). */
(function () {
  "use strict";
  var el = window.reportgenElement, escapeLabel = window.reportgenEscapeLabel, plural = window.reportgenPlural;  /* theme.js, loaded first on every page */
  var CHOICES = [50, 200, 1000], DEFAULT_JOBS = 200;
  var PARALLEL = 6;  /* data files loading at once: enough to hide latency, few enough to stay responsive */
  var PAGE = 24;  /* figure sections listed per "Show more"; each is drawn only as it nears the screen */
  var NAMED = 20;  /* missing jobs named in the note; the rest are counted */
  var FORMAT = 2;  /* of the data files (compare.py) */
  var SLUG = /^[a-z0-9_][a-z0-9._-]{0,200}$/;  /* a slug as the build makes it: no "/", never ".." */
  var STYLES = {  /* per status: a marker shape and a bar pattern, so status is never colour only */
    ok: { symbol: "circle", colour: "#0072B2", pattern: "" },
    "failed-nodes": { symbol: "x", colour: "#D55E00", pattern: "x" },
    incomplete: { symbol: "triangle-up", colour: "#E69F00", pattern: "/" },
    "no-data": { symbol: "square-open", colour: "#999999", pattern: "." },
    corrupt: { symbol: "diamond", colour: "#CC79A7", pattern: "\\" },
    unknown: { symbol: "cross", colour: "#56B4E9", pattern: "+" }
  };
  var OTHER = { symbol: "star", colour: "#009E73", pattern: "-" };
  var TREND = {  /* the trend line and band; the rest of a figure takes theme.js's plot colours */
    light: { trend: "#8c959f", band: "rgba(0,114,178,0.15)" },
    dark: { trend: "#6e7681", band: "rgba(86,180,233,0.2)" }
  };

  var state = { jobs: DEFAULT_JOBS, status: "", from: "", to: "", y: "last", band: false, q: "" };
  var summaries = {};  /* slug -> {series: [...]} kept from a data file: the few numbers drawn, not the file */
  var requested = {}, settled = {}, queue = [], inFlight = 0, waiting = null;
  var view = null;  /* what is drawn: {jobs, entries, missing} */
  var listed = PAGE, drawn = [], observer = null, timer = null;

  window.reportgenCompare = {  /* called by each data file */
    add: function (data) {
      if (data && typeof data.slug === "string" && data.format === FORMAT && Array.isArray(data.series)) {
        summaries[data.slug] = { series: data.series.map(summarise).filter(Boolean) };
      }
    }
  };

  /* ---------------------------------------------------------------- a data file's numbers */
  function numbers(spec) {  /* a series' y (theme.js decodes it) as numbers; none if it cannot be read */
    var array = window.reportgenDecodeArray(spec);
    return array ? Array.prototype.map.call(array.values, Number) : [];
  }

  /* One output of one job: its last value (LTTB keeps the last point, so it is the last value read)
     and the mean, min and max of the finite values kept (min and max are exact: MinMaxLTTB keeps
     the extremes; the mean is of the kept points only). */
  function summarise(s) {
    if (!s || typeof s.key !== "string") { return null; }
    var y = numbers(s.y);
    if (!y.length) { return null; }
    var sum = 0, count = 0, min = Infinity, max = -Infinity;
    y.forEach(function (v) { if (isFinite(v)) { sum += v; count += 1; if (v < min) { min = v; } if (v > max) { max = v; } } });
    var last = y[y.length - 1];
    return { key: s.key, node: String(s.node), name: String(s.name), units: String(s.units || ""), derived: derivedText(s.derived),
      last: isFinite(last) ? last : null, mean: count ? sum / count : null, min: count ? min : null, max: count ? max : null,
      cut: Number(s.points) < Number(s.read), thinned: Number(s.read) < Number(s.sets) };
  }

  var derivedText = window.reportgenDerivedText;  /* theme.js: a [[reduce]] series in words */

  /* ---------------------------------------------------------------- loading, a few at a time */
  function want(slugs, then) {  /* load what is not yet asked for; then() once every one of slugs settled */
    waiting = { slugs: slugs, then: then };
    slugs.forEach(function (slug) { if (!requested[slug]) { requested[slug] = true; queue.push(slug); } });
    pump();
  }

  function pump() {
    while (inFlight < PARALLEL && queue.length) { start(queue.shift()); }
    if (!waiting) { return; }
    var done = waiting.slugs.filter(function (slug) { return settled[slug]; }).length;
    progress(done, waiting.slugs.length);
    if (done === waiting.slugs.length) { var then = waiting.then; waiting = null; then(); }
  }

  function start(slug) {
    inFlight += 1;
    var script = document.createElement("script");
    function finish() {
      inFlight -= 1; settled[slug] = true;
      script.remove();  /* the data are in summaries; the element is not needed */
      pump();
    }
    script.src = slug + "~compare.js";
    script.addEventListener("load", finish);
    script.addEventListener("error", finish);
    document.body.appendChild(script);
  }

  function progress(done, total) {
    var box = document.getElementById("trends-status-box");
    box.textContent = "";
    box.appendChild(el("p", (done < total ? "Loading the jobs' data: " : "Loaded ") + done + " of " + total, "meta"));
  }

  /* ---------------------------------------------------------------- the hash */
  function isStatusOption(name) {
    var options = document.getElementById("trends-status").options;
    for (var i = 0; i < options.length; i += 1) { if (options[i].value === name) { return true; } }
    return false;
  }

  /* A day as the hash and the date inputs spell it (ISO, "2022-07-11"), or "" for none: the same
     names and form as the catalog's date filter (from/to), so one range can travel between them */
  function isoDay(text) {
    var match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text || "");
    if (!match) { return ""; }
    var day = new Date(Date.UTC(+match[1], +match[2] - 1, +match[3]));
    return day.getUTCFullYear() === +match[1] && day.getUTCMonth() === +match[2] - 1 && day.getUTCDate() === +match[3] ? text : "";
  }

  function readHash() {  /* absent or unknown values mean the defaults */
    var params = new URLSearchParams(window.location.hash.replace(/^#/, ""));
    var jobs = parseInt(params.get("jobs") || "", 10);
    state.jobs = CHOICES.indexOf(jobs) >= 0 ? jobs : DEFAULT_JOBS;
    state.status = isStatusOption(params.get("status")) ? params.get("status") : "";
    state.from = isoDay(params.get("from"));
    state.to = isoDay(params.get("to"));
    state.y = params.get("y") === "mean" ? "mean" : "last";
    state.band = params.get("band") === "1";
    state.q = (params.get("q") || "").slice(0, 200);
  }

  function writeHash() {  /* one entry for the page: a choice rewrites it, Back leaves the page */
    var params = new URLSearchParams();
    params.set("jobs", String(state.jobs));
    if (state.status) { params.set("status", state.status); }
    if (state.from) { params.set("from", state.from); }
    if (state.to) { params.set("to", state.to); }
    if (state.y !== "last") { params.set("y", state.y); }
    if (state.band) { params.set("band", "1"); }
    if (state.q) { params.set("q", state.q); }
    var hash = "#" + params.toString();
    if (window.location.hash !== hash) { window.history.replaceState(window.history.state, "", hash); }
  }

  function showControls() {
    document.getElementById("trends-jobs").value = String(state.jobs);
    document.getElementById("trends-status").value = state.status;
    document.getElementById("trends-from").value = state.from;
    document.getElementById("trends-to").value = state.to;
    document.getElementById("trends-y").value = state.y;
    document.getElementById("trends-band").checked = state.band;
    var filter = document.getElementById("trends-filter");
    if (filter.value !== state.q) { filter.value = state.q; }
  }

  /* ---------------------------------------------------------------- which jobs */
  function column(data, name) { return data.columns.indexOf(name); }

  function inRange(end) {  /* the end's UTC day within from..to, both included (the end is "YYYY-MM-DD hh:mm:ss" UTC) */
    var day = end.slice(0, 10);
    return (!state.from || day >= state.from) && (!state.to || day <= state.to);
  }

  function rangeText() {
    if (!state.from && !state.to) { return ""; }
    return state.from && state.to ? "ended " + state.from + " to " + state.to + " (UTC days, both included)" :
      state.from ? "ended on or after " + state.from + " (UTC)" : "ended on or before " + state.to + " (UTC)";
  }

  /* The latest state.jobs jobs of the status and date range chosen, by end time (ties by id), oldest first. */
  function pickJobs(data) {
    var at = { id: column(data, "id"), href: column(data, "href"), end: column(data, "end"), status: column(data, "status") };
    var rows = [], noEnd = 0, badHref = 0;
    data.rows.forEach(function (row) {
      var status = String(row[at.status]);
      if (state.status && status !== state.status) { return; }
      var end = String(row[at.end] || ""), href = String(row[at.href] || ""), slug = href.replace(/\.html$/, "");
      if (!end) { noEnd += 1; return; }
      if (!inRange(end)) { return; }
      if (!/\.html$/.test(href) || !SLUG.test(slug)) { badHref += 1; return; }
      rows.push({ id: String(row[at.id]), href: href, slug: slug, end: end, status: status });
    });
    rows.sort(function (a, b) { return a.end < b.end ? 1 : a.end > b.end ? -1 : a.id < b.id ? 1 : a.id > b.id ? -1 : 0; });
    return { jobs: rows.slice(0, state.jobs).reverse(), matching: rows.length, noEnd: noEnd, badHref: badHref };
  }

  /* Per output key, in key order: {key, node, name, units: [...], points: [{job, s}]}. */
  function buildEntries(jobs) {
    var by = {}, keys = [];
    jobs.forEach(function (job) {
      var summary = summaries[job.slug];
      if (!summary) { return; }
      summary.series.forEach(function (s) {
        if (!Object.prototype.hasOwnProperty.call(by, s.key)) {
          by[s.key] = { key: s.key, node: s.node, name: s.name, derived: s.derived, units: [], points: [] }; keys.push(s.key);
        }
        var entry = by[s.key];
        if (entry.units.indexOf(s.units) < 0) { entry.units.push(s.units); }
        entry.points.push({ job: job, s: s });
      });
    });
    keys.sort();
    return keys.map(function (key) { return by[key]; });
  }

  /* ---------------------------------------------------------------- helpers */
  function styleOf(status) { return Object.prototype.hasOwnProperty.call(STYLES, status) ? STYLES[status] : OTHER; }

  function theme() { return window.reportgenTheme ? window.reportgenTheme() : "light"; }

  function themeLayout(layout) {
    var c = window.reportgenPlotColours(theme());
    layout.paper_bgcolor = c.paper; layout.plot_bgcolor = c.plot; layout.font = { color: c.font };
    layout.xaxis.gridcolor = c.grid; layout.yaxis.gridcolor = c.grid;
    /* above the plot: below it, the legend sat on the x axis's title at 360 px (plotly makes the
       top margin as tall as the legend's lines need) */
    layout.legend = { bgcolor: c.paper, orientation: "h", x: 0, xanchor: "left", y: 1.02, yanchor: "bottom" };
    return layout;
  }

  function statusesOf(jobs) {  /* in the select's order, then any other */
    var order = Array.prototype.map.call(document.getElementById("trends-status").options, function (o) { return o.value; });
    var seen = [];
    jobs.forEach(function (job) { if (seen.indexOf(job.status) < 0) { seen.push(job.status); } });
    return seen.sort(function (a, b) {
      var i = order.indexOf(a), j = order.indexOf(b);
      return (i < 0 ? 99 : i) - (j < 0 ? 99 : j) || (a < b ? -1 : a > b ? 1 : 0);
    });
  }

  /* ---------------------------------------------------------------- the figures */
  function perDay(jobs) {  /* the jobs per day (UTC) of their end, per status: {days, statuses, counts[status][day]} */
    var days = [], statuses = statusesOf(jobs);
    jobs.forEach(function (job) { var day = job.end.slice(0, 10); if (days.indexOf(day) < 0) { days.push(day); } });
    var counts = statuses.map(function (status) {
      var row = days.map(function () { return 0; });
      jobs.forEach(function (job) { if (job.status === status) { row[days.indexOf(job.end.slice(0, 10))] += 1; } });
      return row;
    });
    return { days: days, statuses: statuses, counts: counts };
  }

  function summaryFigure(jobs) {  /* jobs per day (UTC), a bar per status stacked */
    var d = perDay(jobs);
    var traces = d.statuses.map(function (status, i) {
      var style = styleOf(status);
      return { type: "bar", name: escapeLabel(status), x: d.days, y: d.counts[i],
        marker: { color: style.colour, pattern: { shape: style.pattern } },
        hovertemplate: "%{x}: %{y} " + escapeLabel(status).replace(/%/g, "%%") + "<extra></extra>" };
    });
    return { traces: traces, layout: { barmode: "stack", xaxis: { type: "date", title: { text: "day of the job's end (UTC)" } },
      yaxis: { title: { text: "jobs" } }, autosize: true, height: 260, margin: { l: 50, r: 20, t: 10, b: 50 }, showlegend: true } };
  }

  function hoverText(job, value) {
    return escapeLabel(job.id) + "<br>" + escapeLabel(job.status) + " \u00B7 ended " + escapeLabel(job.end) + "<br>" + value;
  }

  function outputFigure(entry) {
    var field = state.y, c = TREND[theme()] || TREND.light, x = [], y = [], lows = [], highs = [];
    entry.points.forEach(function (p) { x.push(p.job.end); y.push(p.s[field]); lows.push(p.s.min); highs.push(p.s.max); });
    var traces = [{ type: "scatter", mode: "lines", x: x, y: y, name: "trend", hoverinfo: "skip", showlegend: false,
      connectgaps: true, line: { color: c.trend, width: 1 } }];
    if (state.band) {
      traces.push({ type: "scatter", mode: "lines", x: x, y: highs, hoverinfo: "skip", showlegend: false, line: { width: 0 } });
      traces.push({ type: "scatter", mode: "lines", x: x, y: lows, name: "min to max of each job", hoverinfo: "skip",
        fill: "tonexty", fillcolor: c.band, line: { width: 0 } });
    }
    var where = entry.points.map(function () { return null; });  /* per point: its trace and index in it */
    statusesOf(entry.points.map(function (p) { return p.job; })).forEach(function (status) {
      var style = styleOf(status), points = entry.points.filter(function (p) { return p.job.status === status; });
      var curve = traces.length, k = 0;
      entry.points.forEach(function (p, i) { if (p.job.status === status) { where[i] = { curveNumber: curve, pointNumber: k }; k += 1; } });
      traces.push({ type: "scatter", mode: "markers", name: escapeLabel(status),
        x: points.map(function (p) { return p.job.end; }), y: points.map(function (p) { return p.s[field]; }),
        customdata: points.map(function (p) { return p.job.href; }),
        hovertext: points.map(function (p) { return hoverText(p.job, p.s[field] === null ? "(not a number)" : String(p.s[field])); }),
        hoverinfo: "text", marker: { symbol: style.symbol, color: style.colour, size: 8, line: { width: 1.5, color: style.colour } } });
    });
    var unit = entry.units.length === 1 ? escapeLabel(entry.units[0]) : "";
    return { traces: traces, where: where, layout: { xaxis: { type: "date", title: { text: "job end (UTC)" } },
      yaxis: { title: { text: (field === "mean" ? "mean" : "last value") + (unit ? " (" + unit + ")" : "") } },
      autosize: true, height: 320, margin: { l: 60, r: 20, t: 10, b: 50 }, showlegend: true, hovermode: "closest" } };
  }

  function notesOf(entry, jobs) {
    var notes = [], absent = jobs.length - entry.points.length;
    var nan = entry.points.filter(function (p) { return p.s[state.y] === null; }).length;
    var cut = entry.points.filter(function (p) { return p.s.cut; }).length;
    var thinned = entry.points.filter(function (p) { return p.s.thinned; }).length;
    if (absent > 0) { notes.push("not in " + absent + " of the " + jobs.length + " jobs"); }
    if (entry.units.length > 1) { notes.push("units differ: " + entry.units.map(function (u) { return u || "(none)"; }).join(", ")); }
    if (nan) { notes.push(nan + " " + plural(nan, "job has", "jobs have") + " no number to show (not a number, or no finite value): no point drawn"); }
    if (state.y === "mean" && cut) { notes.push("for " + cut + " " + plural(cut, "job") + " the mean is of the downsampled points of the data file, not of every value"); }
    if (thinned) { notes.push("for " + thinned + " " + plural(thinned, "job") + " the reader kept every nth set of a long output: the last value is the last one read"); }
    return notes;
  }

  /* The median of the values drawn and how many there are: one line to hold against the same
     line of another date range ("did it drift since the week before?") */
  function medianText(entry) {
    var values = entry.points.map(function (p) { return p.s[state.y]; }).filter(function (v) { return v !== null; })
      .sort(function (a, b) { return a - b; });
    var n = values.length, unit = entry.units.length === 1 && entry.units[0] ? " " + entry.units[0] : "";
    if (!n) { return "no value to take the median of"; }
    var median = n % 2 ? values[(n - 1) / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    return "median of the " + (state.y === "mean" ? "means" : "last values") + ": " + String(Number(median.toPrecision(12))) + unit + " (n = " + n + ")";
  }

  /* ---------------------------------------------------------------- the figures' values as tables */
  function numberText(value) { return value === null ? "(not a number)" : String(value); }

  function outputGrids(entry) {  /* a row per job: its id (a link to its page), end, value (min and max with the band), status */
    var field = state.y, band = state.band, unit = entry.units.length === 1 && entry.units[0] ? " (" + entry.units[0] + ")" : "";
    var heads = ["end (UTC)", (field === "mean" ? "mean" : "last value") + unit].concat(band ? ["min", "max"] : [], ["status"]);
    function cells(p) {
      return [p.job.end, numberText(p.s[field])].concat(band ? [numberText(p.s.min), numberText(p.s.max)] : [], [p.job.status]);
    }
    return [{ caption: entry.node + " / " + entry.name, corner: "job", heads: heads, rows: entry.points.length, cols: heads.length,
      rowHead: function (r) { return entry.points[r].job.id; }, rowHref: function (r) { return entry.points[r].job.href; },
      cell: function (r, c) { return cells(entry.points[r])[c]; } }];
  }

  function summaryGrids(jobs) {  /* a row per day, a column per status */
    var d = perDay(jobs);
    return [{ caption: "Jobs per day of their end, by status", corner: "day (UTC)", heads: d.statuses,
      rows: d.days.length, cols: d.statuses.length, rowHead: function (r) { return d.days[r]; },
      cell: function (r, c) { return String(d.counts[c][r]); } }];
  }

  function offerTable(box, gridsOf) {  /* render.js's "Show data as table", as under the job pages' figures */
    if (window.reportgenFigureTable) { window.reportgenFigureTable.add(box, gridsOf); }
  }

  function draw(box) {
    if (drawn.indexOf(box) >= 0 || !window.Plotly || !box.reportgenSpec) { return; }
    var spec = box.reportgenSpec();
    try {
      window.Plotly.newPlot(box, spec.traces, window.reportgenPlotLayout(themeLayout(spec.layout)), window.reportgenPlotConfig());
      window.reportgenLabelPlot(box);  /* theme.js: the drawing is the image, the box a group */
      drawn.push(box);
      box.reportgenWhere = spec.where || null;
      if (box.on) {
        box.on("plotly_click", function (event) {  /* a point opens its job */
          openJob(event && event.points && event.points[0] && event.points[0].customdata);
        });
      }
    } catch (error) {
      box.className += " figure-failed";
      box.textContent = "This figure could not be drawn (" + String(error && error.message || error) + ").";
    }
  }

  function openJob(href) {  /* only a page of this project, as the build names them */
    if (typeof href === "string" && /\.html$/.test(href) && SLUG.test(href.replace(/\.html$/, ""))) { window.location.href = href; }
  }

  /* ---------------------------------------------------------------- the keyboard on a figure */
  /* A trend figure is one Tab stop (site-ux.md section 5, Must 12: a mouse is not needed to read a
     point or open its job): Left and Right move to the previous and next job's point (by end time;
     the first key from none goes to the first or the last; Home and End), its hover label shows it
     and #trends-point, a live region, reads it out; Enter opens its job, Escape leaves the points.
     A job without a number to show is stepped on too (it is a row of the data table), said so. */
  var POINT_STEPS = { ArrowRight: 1, ArrowLeft: -1, Home: "first", End: "last" };

  function pointKeys(box, entry) {
    box.tabIndex = 0;
    box.setAttribute("role", "application");  /* a screen reader passes the arrow keys on, as to a slider */
    box.setAttribute("aria-roledescription", "trend figure");
    box.setAttribute("aria-label", box.getAttribute("aria-label") + "; left and right arrow keys move between the jobs, Enter opens one");
    box.reportgenAt = -1;
    box.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.altKey || event.metaKey || event.target !== box) { return; }  /* not the table's keys */
      var n = entry.points.length, at = box.reportgenAt, step = POINT_STEPS[event.key];
      if (event.key === "Enter" && at >= 0) { event.preventDefault(); openJob(entry.points[at].job.href); return; }
      if (event.key === "Escape" && at >= 0) { box.reportgenAt = -1; unhover(box); announce(""); return; }
      if (!Object.prototype.hasOwnProperty.call(POINT_STEPS, event.key) || !n) { return; }
      event.preventDefault();  /* the page does not scroll */
      if (step === "first") { at = 0; } else if (step === "last") { at = n - 1; } else if (at < 0) { at = step > 0 ? 0 : n - 1; } else { at = Math.max(0, Math.min(n - 1, at + step)); }
      box.reportgenAt = at;
      showPoint(box, entry, at);
    });
    box.addEventListener("blur", function () { unhover(box); });  /* the next arrow key goes on from the point */
  }

  function showPoint(box, entry, at) {
    draw(box);  /* drawn as it nears the screen; a figure focused from a far scroll may not be yet */
    var p = entry.points[at], value = p.s[state.y], spot = box.reportgenWhere && box.reportgenWhere[at];
    if (spot && value !== null && window.Plotly && window.Plotly.Fx) {
      try { window.Plotly.Fx.hover(box, [spot]); } catch (ignored) { unhover(box); }
    } else { unhover(box); }  /* no point drawn for it: no label */
    var unit = entry.units.length === 1 && entry.units[0] ? " " + entry.units[0] : "";
    announce(p.job.id + ", " + p.job.status + ", ended " + p.job.end + " UTC, " + (state.y === "mean" ? "mean " : "last value ") +
      (value === null ? "not a number (no point drawn)" : String(value) + unit) + "; job " + (at + 1) + " of " + entry.points.length);
  }

  function unhover(box) { try { if (window.Plotly && window.Plotly.Fx) { window.Plotly.Fx.unhover(box); } } catch (ignored) { /* not drawn */ } }

  function announce(text) {
    var region = document.getElementById("trends-point");
    if (region && region.textContent !== text) { region.textContent = text; }
  }

  function purge(box) { try { window.Plotly.purge(box); } catch (ignored) { /* gone */ } }

  function clearFigures() {  /* the output figures; the summary stays */
    var holder = document.getElementById("trends-figures");
    drawn = drawn.filter(function (box) { if (holder.contains(box)) { purge(box); return false; } return true; });
    if (observer) { observer.disconnect(); observer = null; }
    document.getElementById("trends-figures").textContent = "";
  }

  function watch(box) {
    if (!("IntersectionObserver" in window)) { draw(box); return; }
    if (!observer) {
      observer = new IntersectionObserver(function (seen) {  /* drawn as they near the screen, as job pages do */
        seen.forEach(function (item) { if (item.isIntersecting) { observer.unobserve(item.target); draw(item.target); } });
      }, { rootMargin: "400px 0px" });
    }
    observer.observe(box);
  }

  function matches(entry) {
    var q = state.q.toLowerCase();
    return !q || entry.key.toLowerCase().indexOf(q) >= 0;
  }

  function listFigures() {  /* the outputs whose key holds the filter text, PAGE more at a time */
    clearFigures();
    var holder = document.getElementById("trends-figures"), shown = view.entries.filter(matches);
    shown.slice(0, listed).forEach(function (entry, n) {
      var section = el("section", null, "output trends-output");
      section.setAttribute("data-key", entry.key);
      section.appendChild(el("h3", entry.node + " / " + entry.name));
      section.appendChild(el("p", entry.key, "meta"));
      if (entry.derived) {  /* not a p.meta either */
        var said = el("p", null, "trends-derived"); said.appendChild(el("span", entry.derived, "meta")); section.appendChild(said);
      }
      var median = el("p", null, "trends-median"); median.appendChild(el("span", medianText(entry), "meta"));
      section.appendChild(median);  /* not a p.meta: that is the key's line */
      notesOf(entry, view.jobs).forEach(function (note) { section.appendChild(el("p", note, "note")); });
      var box = el("div", null, "figure trends-figure");
      box.id = "trends-fig-" + n;
      box.reportgenSpec = function () { return outputFigure(entry); };
      box.setAttribute("role", "group");  /* pointKeys makes it an application; the drawing is the image (theme.js) */
      box.setAttribute("aria-label", (state.y === "mean" ? "mean" : "last value") + " of " + entry.key + " by job end time, one point per job");
      section.appendChild(box); holder.appendChild(section);
      offerTable(box, function () { return outputGrids(entry); });
      pointKeys(box, entry);
      watch(box);
    });
    if (!view.entries.length) { holder.appendChild(el("p", "None of these jobs has a numeric output set repeatedly.", "empty")); }
    else if (!shown.length) { holder.appendChild(el("p", "No output name holds \u201C" + state.q + "\u201D.", "empty")); }
    var count = Math.min(listed, shown.length);
    document.getElementById("trends-count").textContent = "Showing " + count + " of " + shown.length + " outputs" +
      (state.q ? " whose name holds \u201C" + state.q + "\u201D (of " + view.entries.length + ")" : "") + ".";
    var more = document.getElementById("trends-more");
    more.hidden = shown.length <= listed;
    more.textContent = "Show " + Math.min(PAGE, shown.length - listed) + " more outputs";
  }

  function showSummary(jobs) {
    var counts = document.getElementById("trends-counts"), box = document.getElementById("trends-summary-figure");
    counts.textContent = jobs.length + " " + plural(jobs.length, "job") + ", ended " + jobs[0].end + " to " + jobs[jobs.length - 1].end + " (UTC):";
    statusesOf(jobs).forEach(function (status) {
      var n = jobs.filter(function (job) { return job.status === status; }).length;
      counts.appendChild(document.createTextNode(" "));
      counts.appendChild(el("span", status, "status status-" + status));
      counts.appendChild(document.createTextNode(" " + n));
    });
    if (drawn.indexOf(box) >= 0) { purge(box); drawn.splice(drawn.indexOf(box), 1); }
    box.reportgenSpec = function () { return summaryFigure(jobs); };
    offerTable(box, function () { return summaryGrids(jobs); });  /* again: the jobs changed */
    document.getElementById("trends-summary").hidden = false;
    draw(box);
  }

  function say(lines) {
    var box = document.getElementById("trends-notes");
    box.textContent = "";
    lines.forEach(function (line) { box.appendChild(el("p", line, "note")); });
  }

  function notesOfPick(pick, missing) {
    var lines = [];
    if (pick.noEnd) { lines.push(pick.noEnd + " " + plural(pick.noEnd, "job has no end time and is", "jobs have no end time and are") + " left out."); }
    if (pick.badHref) { lines.push(pick.badHref + " " + plural(pick.badHref, "job has no page of this site's form and is", "jobs have no page of this site's form and are") + " left out."); }
    if (missing.length) {
      var named = missing.slice(0, NAMED).map(function (job) { return job.id; }).join(", ");
      lines.push("No data file for " + missing.length + " of the " + (pick.jobs.length) + " jobs (removed, or not built yet), so they are left out: " +
        named + (missing.length > NAMED ? " and " + (missing.length - NAMED) + " more" : "") + ".");
    }
    return lines;
  }

  /* ---------------------------------------------------------------- the page */
  function refresh() {
    var data = window.REPORTGEN_CATALOG;
    document.body.setAttribute("data-trends", "loading");
    if (!data || !Array.isArray(data.rows) || !Array.isArray(data.columns)) {
      say(["The catalog's data file (catalog-data.js) did not load, so there is nothing to draw."]);
      document.body.setAttribute("data-trends", "empty");
      return;
    }
    var pick = pickJobs(data);
    want(pick.jobs.map(function (job) { return job.slug; }), function () {
      var loaded = pick.jobs.filter(function (job) { return summaries[job.slug]; });
      var missing = pick.jobs.filter(function (job) { return !summaries[job.slug]; }).reverse();  /* newest first */
      say(notesOfPick(pick, missing));
      view = { jobs: loaded, entries: buildEntries(loaded) };
      listed = PAGE;
      document.getElementById("trends-summary").hidden = loaded.length === 0;
      document.getElementById("trends-outputs").hidden = loaded.length === 0;
      if (!loaded.length) {
        clearFigures();
        say(notesOfPick(pick, missing).concat(["No job to show" + (state.status ? " with status " + state.status : "") +
          (rangeText() ? " that " + rangeText() : "") + "."]));
        document.body.setAttribute("data-trends", "empty");
        return;
      }
      showSummary(loaded);
      listFigures();
      document.body.setAttribute("data-trends", "ready");
    });
  }

  function redraw() {  /* a choice of how to draw: the same outputs drawn again */
    writeHash();
    if (view && document.body.getAttribute("data-trends") === "ready") { listFigures(); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    readHash(); showControls(); writeHash();
    document.getElementById("trends-jobs").addEventListener("change", function (event) {
      state.jobs = parseInt(event.target.value, 10) || DEFAULT_JOBS; writeHash(); refresh();
    });
    document.getElementById("trends-status").addEventListener("change", function (event) {
      state.status = event.target.value; writeHash(); refresh();
    });
    ["from", "to"].forEach(function (end) {  /* a date input gives "" or an ISO day; a half-typed one is "" too */
      document.getElementById("trends-" + end).addEventListener("change", function (event) {
        state[end] = isoDay(event.target.value); writeHash(); refresh();
      });
    });
    document.getElementById("trends-y").addEventListener("change", function (event) { state.y = event.target.value; redraw(); });
    document.getElementById("trends-band").addEventListener("change", function (event) { state.band = event.target.checked; redraw(); });
    document.getElementById("trends-filter").addEventListener("input", function (event) {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { state.q = event.target.value.slice(0, 200); listed = PAGE; redraw(); }, 200);
    });
    document.getElementById("trends-controls").addEventListener("submit", function (event) { event.preventDefault(); });
    document.getElementById("trends-more").addEventListener("click", function () { listed += PAGE; listFigures(); });
    window.addEventListener("hashchange", function () { readHash(); showControls(); writeHash(); refresh(); });
    /* printing draws the listed figures not drawn yet, as job pages do; theme.js then fits every
       figure to the paper's width */
    window.addEventListener("beforeprint", function () {
      Array.prototype.forEach.call(document.querySelectorAll("#trends-figures .trends-figure"), draw);
    });
    refresh();
  });
  document.addEventListener("reportgen-theme", function () {  /* the Theme button: drawn again in its colours (the trend line and band too) */
    drawn.forEach(function (box) {
      var spec = box.reportgenSpec();
      window.Plotly.react(box, spec.traces, window.reportgenPlotLayout(themeLayout(spec.layout)), window.reportgenPlotConfig());
      window.reportgenLabelPlot(box);
    });
  });
}());
