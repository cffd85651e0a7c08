/* Compare runs: compare.html#jobs=<slug>,<slug> shows 2 to 8 jobs of a project side by side.
   Each job's data file (<slug>~compare.js, written by the build) is loaded by an injected
   <script src> (a fetch of a file fails on file://) and calls reportgenCompare.add. Then: the jobs with a
   colour and a letter each (Okabe-Ito, colour-blind safe; the letter and the marker say it too),
   a table of their metadata, log health and parameters (only the differences by default), one
   figure per numeric output with a trace per job (or, toggled, each job's difference to job A),
   the reductions of array outputs a site config names drawn as such outputs (said so above each),
   and the ends of one node's log for two jobs side by side, lines that differ marked. A hash
   edited in the address bar redraws the page. */
(function () {
  "use strict";
  var el = window.reportgenElement, escapeLabel = window.reportgenEscapeLabel;  /* theme.js, loaded first on every page */
  var MAX_JOBS = 8;
  var SLUG = /^[a-z0-9_][a-z0-9._-]{0,200}$/;  /* a slug as the build makes it: no "/", never ".." */
  var PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#999999"];
  var INK = ["#ffffff", "#000000", "#000000", "#000000", "#000000", "#000000", "#000000", "#000000"];  /* letter on it */
  var SYMBOLS = ["circle", "square", "diamond", "triangle-up", "x", "cross", "star", "hexagon"];
  var DASHES = ["solid", "dash", "dot", "dashdot", "longdash", "longdashdot", "solid", "dash"];
  var FORMAT = 2;  /* of the data files (compare.py); a site is rebuilt whole when it changes */
  var loaded = {}, requested = {}, drawn = [], pending = [], observer = null, onlyDiff = true, toA = false;
  var logSideJobs = [];  /* the jobs the log ends' Left and Right places stood for when last filled */
  var logNodeChosen = false;  /* the reader picked the log ends' node: kept; else the first that differs */

  /* A log line's kind as the job page marks it: a traceback start, else an error line, else a
     warning line, else "". The same patterns as reportgen/readers/logs.py (TRACEBACK, ERROR_LINE,
     WARNING_LINE; tests/site/test_site_catalog_s22.py runs both on the same lines). Python's \b
     knows every script's letters, JavaScript's only ASCII: a word boundary is spelt here with
     look-arounds over Unicode letters, digits and "_" (Python's \w). */
  var WORD = "[\\p{L}\\p{N}_]", START = "(?<!" + WORD + ")", END = "(?!" + WORD + ")";
  var TRACEBACK = "Traceback (most recent call last):";
  var ERROR_LINE = new RegExp(START + "(?:ERROR|CRITICAL|FATAL)" + END + "|Error:|Exception" + END + "|" + START +
    "error:|Traceback \\(most recent call last\\):", "u");
  var WARNING_LINE = new RegExp(START + "(?:WARN|WARNING)" + END + "|" + START + "(?:[A-Z][A-Za-z0-9_]*)?Warning:|" +
    START + "warning:", "u");
  function lineKind(text) {
    if (text.indexOf(TRACEBACK) >= 0) { return "traceback"; }
    if (ERROR_LINE.test(text)) { return "error"; }
    return WARNING_LINE.test(text) ? "warning" : "";
  }

  window.reportgenCompare = {
    add: function (data) {  /* called by each data file */
      if (data && typeof data.slug === "string" && data.format === FORMAT) { loaded[data.slug] = data; }
    },
    lineKind: lineKind
  };

  function scrollBox(table) {  /* a wide table scrolls in a box of its own, never the page */
    var box = el("div", null, "table-scroll"); box.appendChild(table); return box;
  }

  function readHash() {  /* the wanted slugs, and what of the hash was not a job */
    var params = new URLSearchParams(window.location.hash.replace(/^#/, ""));
    var slugs = [], ignored = [];
    (params.get("jobs") || "").split(",").forEach(function (text) {
      var slug = text.trim();
      if (!slug) { return; }
      if (SLUG.test(slug)) { if (slugs.indexOf(slug) < 0) { slugs.push(slug); } } else { ignored.push(slug); }
    });
    return { slugs: slugs.slice(0, MAX_JOBS), extra: Math.max(0, slugs.length - MAX_JOBS), ignored: ignored };
  }

  function load(slugs, done) {
    var left = 0;
    function one() { left -= 1; if (left === 0) { done(); } }
    slugs.forEach(function (slug) {
      if (requested[slug]) { return; }
      requested[slug] = true; left += 1;
      var script = document.createElement("script");
      script.src = slug + "~compare.js";
      script.addEventListener("load", one);
      script.addEventListener("error", one);
      document.body.appendChild(script);
    });
    if (left === 0) { done(); }
  }

  function say(lines) {
    var box = document.getElementById("compare-status");
    box.textContent = "";
    lines.forEach(function (line) {
      var p = el("p", null, "note");
      if (typeof line === "string") { p.textContent = line; } else { line.forEach(function (part) { p.appendChild(part); }); }
      box.appendChild(p);
    });
  }

  function letter(i) { return String.fromCharCode(65 + i); }

  function swatch(i) {
    var mark = el("span", letter(i), "compare-swatch");
    mark.style.backgroundColor = PALETTE[i]; mark.style.color = INK[i];
    return mark;
  }

  function jobLabel(jobs, i) { return letter(i) + " (" + jobs[i].id + ")"; }

  function showJobs(jobs) {
    var list = document.getElementById("compare-jobs");
    list.textContent = "";
    jobs.forEach(function (job, i) {
      var item = el("li"), link = el("a", job.id);
      link.href = job.href;
      item.appendChild(swatch(i));
      item.appendChild(link);
      item.appendChild(document.createTextNode(" "));
      item.appendChild(el("span", job.status, "status status-" + job.status));
      var ended = el("span", " ended ", "meta"); ended.appendChild(timeNode(job.end || "(unknown)"));
      item.appendChild(ended);
      job.notes.forEach(function (note) { item.appendChild(el("span", " \u00B7 " + note, "note")); });
      list.appendChild(item);
    });
    document.getElementById("compare-jobs-section").hidden = jobs.length === 0;
  }

  /* ---------------------------------------------------------------- the table */
  /* The groups in the order a reader looks for a change: what the jobs are, then their parameters,
     their logs' health, and last the file's root attributes ("@name", from the job's "meta"). */
  var GROUPS = [["Job", "meta", false], ["Parameters", "params", false], ["Logs", "logs", false], ["Attributes", "meta", true]];

  /* Root attributes that tell nothing a row above does not: each mirrors a row of the Job group
     (the reader takes that row from it), or, null, names the run itself, so it differs for every
     pair of runs. Under "Only differences" such a row is folded away while its mirror differs too
     (an attribute that differs where its mirror does not, e.g. the same end in another time zone,
     is shown); unchecking "Only differences" shows it. */
  var MIRRORS = { "@job_description": "description", "@creation_timestamp": "end time (UTC)",
    "@workflow_commit": "workflow commit", "@parameters_commit": "parameters commit", "@job_eui": null };

  function rowsOf(jobs) {  /* [group, key, values per job (null: absent)], in first-seen order */
    var rows = [];
    GROUPS.forEach(function (group) {
      var order = [], values = {};
      jobs.forEach(function (job, i) {
        (job[group[1]] || []).forEach(function (pair) {
          if ((pair[0].charAt(0) === "@") !== group[2]) { return; }  /* meta: fields in Job, "@name" in Attributes */
          if (!Object.prototype.hasOwnProperty.call(values, pair[0])) { order.push(pair[0]); values[pair[0]] = []; }
          values[pair[0]][i] = pair[1];
        });
      });
      if (group[1] === "params") { order.sort(); }
      order.forEach(function (key) {
        var cells = jobs.map(function (job, i) { return values[key][i] === undefined ? null : values[key][i]; });
        rows.push({ group: group[0], key: key, cells: cells,
          differs: cells.some(function (v) { return v !== cells[0]; }) });
      });
    });
    var differs = {};
    rows.forEach(function (row) { if (row.group === "Job") { differs[row.key] = row.differs; } });
    rows.forEach(function (row) {  /* folded: a mirror whose row differs as well, or the run's own name */
      var mirror = row.group === "Attributes" && Object.prototype.hasOwnProperty.call(MIRRORS, row.key) ? MIRRORS[row.key] : undefined;
      row.folded = row.differs && mirror !== undefined && (mirror === null || differs[mirror] === true);
      row.mirror = mirror;
    });
    return rows;
  }

  /* Times (assets/times.js shows them in UTC or the browser's zone): the metadata rows whose
     field is a time (compare.build_meta_rows: "end time (UTC)", "start time (UTC, approx.)"); the
     comparison ("differs") stays on the UTC texts */
  var TIME_ROWS = { "end time (UTC)": true, "start time (UTC, approx.)": true };
  function isTimeRow(row) { return Boolean(window.reportgenTimes) && row.group === "Job" && TIME_ROWS[row.key] === true; }
  function timeNode(text) { return window.reportgenTimes ? window.reportgenTimes.element(text) : document.createTextNode(text); }

  function showTable(jobs) {
    var rows = rowsOf(jobs), table = el("table", null, "grid compare-table"), head = el("thead"), tr = el("tr");
    table.id = "compare-table";
    var corner = el("th", "Field"); corner.scope = "col"; tr.appendChild(corner);
    jobs.forEach(function (job, i) {
      var th = el("th"); th.scope = "col"; th.style.borderTop = "4px solid " + PALETTE[i];
      th.appendChild(el("span", letter(i) + " ", "compare-letter")); th.appendChild(document.createTextNode(job.id));
      tr.appendChild(th);
    });
    head.appendChild(tr); table.appendChild(head);
    var body = el("tbody"), group = null, groupRow = null, groupShown = false, differing = 0, folded = [];
    function closeGroup() { if (groupRow) { groupRow.hidden = !groupShown; } }
    rows.forEach(function (row) {
      if (row.folded) { folded.push(row.key); }
      /* a mirror row hidden under "Only differences" is left out of the table, not just hidden: a
         copy of the table (or a screen reader's table view) carries only what is worth reading */
      if (onlyDiff && row.mirror !== undefined && (!row.differs || row.folded)) { return; }
      if (row.group !== group) {
        closeGroup();
        group = row.group; groupShown = false;
        groupRow = el("tr", null, "compare-group");
        var th = el("th", group); th.colSpan = jobs.length + 1; th.scope = "colgroup";
        groupRow.appendChild(th); body.appendChild(groupRow);
      }
      var line = el("tr", null, (row.differs ? "differs" : "same") + (row.folded ? " folded" : "")), key = el("th");
      line.setAttribute("data-key", row.key);
      key.scope = "row";
      if (row.differs) { key.appendChild(el("span", "\u2260 ", "diff-mark")); key.title = foldedWhy(row); }
      if (row.differs && !row.folded) { differing += 1; }
      key.appendChild(isTimeRow(row) ? window.reportgenTimes.label(row.key) : fieldName(row.key));
      line.appendChild(key);
      row.cells.forEach(function (value, i) {
        var td = value === null ? el("td", "\u2014", "missing") : isTimeRow(row) ? el("td") : el("td", value);
        if (value !== null && isTimeRow(row)) { td.appendChild(timeNode(value)); }
        if (value === null) { td.title = "not in " + jobLabel(jobs, i); }
        var diff = row.group === "Job" && row.key === "workflow commit" ? workflowDiffLink(jobs[i]) : null;
        if (diff) { td.appendChild(document.createTextNode(" \u00B7 ")); td.appendChild(diff); }
        line.appendChild(td);
      });
      line.hidden = onlyDiff && (!row.differs || row.folded);
      groupShown = groupShown || !line.hidden;
      body.appendChild(line);
    });
    closeGroup();
    table.appendChild(body);
    var box = document.getElementById("compare-table-box");
    box.textContent = "";
    box.appendChild(scrollBox(table));
    if (onlyDiff && differing === 0) { box.appendChild(el("p", "The jobs do not differ in any field shown here.", "empty")); }
    document.getElementById("compare-count").textContent = differing + " of " + rows.length + " fields differ" +
      (folded.length ? "; not counted, as they differ for every run or repeat a field above: " + folded.join(", ") +
        (onlyDiff ? " (uncheck Only differences to see them)" : "") : "");
    document.getElementById("compare-fields").hidden = false;
  }

  /* The job's workflow diff page (compare.py's "workflow_diff": "" when the job has none), linked
     next to its workflow commit as the job page links it; only a name of the build's form
     (<slug>~workflow-diff.html, next to compare.html) becomes a link. */
  function workflowDiffLink(job) {
    if (typeof job.workflow_diff !== "string" || job.workflow_diff !== job.slug + "~workflow-diff.html") { return null; }
    var link = el("a", "workflow diff", "compare-diff-link");
    link.href = job.workflow_diff;
    link.title = "Workflow diff of " + job.id + " against the previous job with a different workflow commit";
    return link;
  }

  function foldedWhy(row) {
    if (!row.folded) { return "differs between the jobs"; }
    return row.mirror === null ? "differs for every run: it names the run" : "differs as \u201C" + row.mirror + "\u201D does: it repeats that field";
  }

  /* A field's name with a break allowed after each "." ":" "/" (between its parts), so the narrow
     name column wraps "parameters.json:calibration_1.instrumentAddress" between its keys rather
     than inside a word (the column's overflow-wrap: anywhere stays for a part longer than it). */
  function fieldName(key) {
    var span = el("span", null, "field-name");
    key.split(/(?<=[.:\/])/).forEach(function (part, i) {
      if (i > 0) { span.appendChild(document.createElement("wbr")); }
      span.appendChild(document.createTextNode(part));
    });
    return span;
  }

  /* ---------------------------------------------------------------- the figures */
  var derivedText = window.reportgenDerivedText;  /* theme.js: a [[reduce]] series in words */

  function themeLayout(layout, theme) {
    var c = window.reportgenPlotColours(theme);  /* theme.js: the job pages' colours */
    layout.paper_bgcolor = c.paper; layout.plot_bgcolor = c.plot; layout.font = { color: c.font };
    layout.xaxis.gridcolor = c.grid; layout.yaxis.gridcolor = c.grid;
    layout.legend = { bgcolor: c.paper };
    return layout;
  }

  function seriesKeys(jobs) {
    var keys = [], by = {};
    jobs.forEach(function (job, i) {
      job.series.forEach(function (s) {
        if (!by[s.key]) { by[s.key] = []; keys.push(s.key); }
        by[s.key][i] = s;
      });
    });
    return keys.map(function (key) { return { key: key, series: by[key] }; });
  }

  function numbers(spec) {  /* a series' x or y (theme.js decodes it); none if it cannot be read */
    var array = spec === undefined || spec === null ? null : window.reportgenDecodeArray(spec);
    return array ? array.values : [];
  }

  /* job i's values minus A's at the set numbers both kept (each job's series is downsampled on
     its own, so a long series may share only some of its points with A's) */
  function minusA(a, s) {
    var base = new Map(), xa = numbers(a.x), ya = numbers(a.y), xs = numbers(s.x), ys = numbers(s.y), x = [], y = [];
    xa.forEach(function (set, i) { base.set(set, ya[i]); });
    xs.forEach(function (set, i) { if (base.has(set)) { x.push(set); y.push(ys[i] - base.get(set)); } });
    return { x: x, y: y };
  }

  function trace(i, name, x, y) {
    return { type: "scatter", mode: "lines+markers", name: escapeLabel(name), x: x, y: y,
      line: { color: PALETTE[i], dash: DASHES[i], width: 1.5 },
      marker: { color: PALETTE[i], symbol: SYMBOLS[i], size: 7, maxdisplayed: 40 } };
  }

  function figureOf(jobs, entry) {
    var traces = [], names = [], units = [], notes = [], absent = [], unshared = [], a = entry.series[0];
    jobs.forEach(function (job, i) {
      var s = entry.series[i];
      if (!s) { absent.push(jobLabel(jobs, i)); return; }
      if (units.indexOf(s.units) < 0) { units.push(s.units); }
      if (s.points < s.read) { notes.push(letter(i) + ": " + s.points + " of " + s.read + " points (MinMaxLTTB)"); }
      if (s.read < s.sets) { notes.push(letter(i) + ": every " + Math.round(s.sets / s.read) + "th set read of " + s.sets); }
      if (s.derived && s.derived.no_value > 0) {
        notes.push(letter(i) + ": " + s.derived.no_value + " of " + s.read + " sets give no finite value: no point");
      }
      if (!toA) { traces.push(trace(i, jobLabel(jobs, i), s.x, s.y)); names.push(jobLabel(jobs, i)); return; }
      if (!a || i === 0) { return; }
      var d = minusA(a, s);
      if (!d.x.length) { unshared.push(jobLabel(jobs, i)); return; }
      if (d.x.length < s.points) { notes.push(letter(i) + " \u2212 A: at the " + d.x.length + " of " + s.points + " set numbers that A has too"); }
      traces.push(trace(i, letter(i) + " \u2212 A (" + jobs[i].id + ")", d.x, d.y)); names.push(letter(i) + " \u2212 A (" + jobs[i].id + ")");
    });
    if (toA && !a) { notes.unshift("A (" + jobs[0].id + ") does not have this output: no difference to A is drawn"); }
    if (unshared.length) { notes.unshift("no set number in common with A, so no difference drawn: " + unshared.join(", ")); }
    if (absent.length) { notes.unshift("not in " + absent.join(", ")); }
    if (units.length > 1) { notes.unshift("units differ: " + units.map(function (u) { return u || "(none)"; }).join(", ")); }
    var unit = units.length === 1 ? escapeLabel(units[0]) : "";
    var layout = { xaxis: { title: { text: "set" } }, yaxis: { title: { text: toA ? "difference to A" + (unit ? " (" + unit + ")" : "") : unit } },
      autosize: true, height: 360, margin: { l: 60, r: 20, t: 20, b: 50 }, showlegend: true };
    return { traces: traces, names: names, layout: layout, notes: notes };
  }

  /* The figure's values as a table: render.js's "Show data as table" (the job pages' builder), a
     row per set number any job has, a column per job (or per "B \u2212 A"), empty where a job has
     no value at that set (its series was downsampled on its own, or is shorter) */
  function figureGrids(box) {
    var spec = box.reportgenSpec, sets = [], seen = new Set();
    var columns = spec.traces.map(function (t) {
      var xs = numbers(t.x), ys = numbers(t.y), at = new Map();
      Array.prototype.forEach.call(xs, function (x, i) {
        at.set(x, ys[i]);
        if (!seen.has(x)) { seen.add(x); sets.push(x); }
      });
      return at;
    });
    sets.sort(function (a, b) { return a - b; });
    return [{ caption: box.getAttribute("aria-label"), corner: "set", heads: spec.names, rows: sets.length, cols: columns.length,
      note: spec.notes.length ? "The values drawn: see the notes above the figure." : "",
      whole: "Each job's page holds every value of the output.",
      rowHead: function (r) { return String(sets[r]); },
      cell: function (r, c) { return columns[c].has(sets[r]) ? String(columns[c].get(sets[r])) : ""; } }];
  }

  function draw(box) {
    if (drawn.indexOf(box) >= 0 || !window.Plotly) { return; }
    var spec = box.reportgenSpec;
    try {
      var theme = window.reportgenTheme ? window.reportgenTheme() : "light";
      window.Plotly.newPlot(box, spec.traces, window.reportgenPlotLayout(themeLayout(spec.layout, theme)), window.reportgenPlotConfig());
      window.reportgenLabelPlot(box);  /* theme.js: the drawing is the image, the box a group */
      drawn.push(box);
    } catch (error) {
      box.className += " figure-failed";
      box.textContent = "This figure could not be drawn (" + String(error && error.message || error) + ").";
    }
  }

  function showFigures(jobs) {
    var holder = document.getElementById("compare-figures");
    clearFigures();
    var entries = seriesKeys(jobs), boxes = [];
    entries.forEach(function (entry, n) {
      var first = entry.series.filter(Boolean)[0], section = el("section", null, "output compare-output");
      section.appendChild(el("h3", first.node + " / " + first.name));
      section.appendChild(el("p", entry.key, "meta"));
      var derived = derivedText(first.derived);
      if (derived) {  /* not a p.meta: that is the key's line */
        var said = el("p", null, "compare-derived"); said.appendChild(el("span", derived, "meta")); section.appendChild(said);
      }
      var spec = figureOf(jobs, entry);
      spec.notes.forEach(function (note) { section.appendChild(el("p", note, "note")); });
      var box = el("div", null, "figure compare-figure");
      box.id = "compare-fig-" + n; box.reportgenSpec = spec;
      box.setAttribute("role", "group");  /* it holds the mode bar's buttons: the drawing is the image (theme.js) */
      box.setAttribute("aria-label", (toA ? "each job's values minus job A's of " : "values of ") + entry.key +
        (derived ? ", the " + derived + "," : "") + " by set number, one line per job");
      section.appendChild(box); holder.appendChild(section); boxes.push(box);
      if (window.reportgenFigureTable) { window.reportgenFigureTable.add(box, figureGrids); }
    });
    if (!entries.length) { holder.appendChild(el("p", "None of these jobs has a numeric output set repeatedly.", "empty")); }
    document.getElementById("compare-series").hidden = false;
    pending = boxes;
    if (!("IntersectionObserver" in window)) { boxes.forEach(draw); return; }
    observer = new IntersectionObserver(function (seen) {  /* drawn as they near the screen, as job pages do */
      seen.forEach(function (item) { if (item.isIntersecting) { observer.unobserve(item.target); draw(item.target); } });
    }, { rootMargin: "400px 0px" });
    boxes.forEach(function (box) { observer.observe(box); });
  }

  function clearFigures() {
    drawn.forEach(function (box) { try { window.Plotly.purge(box); } catch (ignored) { /* gone */ } });
    drawn = []; pending = [];
    if (observer) { observer.disconnect(); observer = null; }
    document.getElementById("compare-figures").textContent = "";
  }

  function clearResults() {  /* an address edited down to fewer than 2 jobs: nothing of the last comparison stays */
    clearFigures();
    document.getElementById("compare-table-box").textContent = "";
    document.getElementById("compare-log-box").textContent = "";
  }

  /* ---------------------------------------------------------------- the log ends */
  function logEnd(job, node) {
    return (job.log_ends || []).filter(function (end) { return end.node === node; })[0] || null;
  }

  function linesOf(end) {  /* the text's lines as the reader counts them ("\n"; a CRLF's CR dropped) */
    if (!end) { return []; }
    var lines = end.text.split("\n");
    if (end.text.slice(-1) === "\n") { lines.pop(); }
    return lines.map(function (line) { return line.replace(/\r$/, ""); });
  }

  /* Pairs [left index | -1, right index | -1] of the two line lists aligned by their longest
     common subsequence (a few KB a side: a few hundred lines, so the table stays small). */
  function alignLines(left, right) {
    var n = left.length, m = right.length, pairs = [], i, j;
    if (n * m > 400000) {  /* too many to align: side by side as they come */
      for (i = 0; i < Math.max(n, m); i += 1) { pairs.push([i < n ? i : -1, i < m ? i : -1]); }
      return pairs;
    }
    var common = [];
    for (i = 0; i <= n; i += 1) { common.push(new Uint16Array(m + 1)); }
    for (i = n - 1; i >= 0; i -= 1) {
      for (j = m - 1; j >= 0; j -= 1) {
        common[i][j] = left[i] === right[j] ? common[i + 1][j + 1] + 1 : Math.max(common[i + 1][j], common[i][j + 1]);
      }
    }
    i = 0; j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && left[i] === right[j]) { pairs.push([i, j]); i += 1; j += 1; }
      else if (j >= m || (i < n && common[i + 1][j] >= common[i][j + 1])) { pairs.push([i, -1]); i += 1; }
      else { pairs.push([-1, j]); j += 1; }
    }
    return pairs;
  }

  /* Pairs as alignLines gives them, each block of lines between two common ones zipped row by row:
     its left lines next to its right lines in order (a split diff's deleted block beside the
     inserted one), so a changed line sits next to what the other job printed at that point; the
     longer side's rest stays alone. A zipped row is [left, right, true]. */
  function pairChanges(pairs) {
    var rows = [], lefts = [], rights = [];
    function flush() {
      for (var k = 0; k < Math.max(lefts.length, rights.length); k += 1) {
        var a = k < lefts.length ? lefts[k] : -1, b = k < rights.length ? rights[k] : -1;
        rows.push(a >= 0 && b >= 0 ? [a, b, true] : [a, b]);
      }
      lefts = []; rights = [];
    }
    pairs.forEach(function (pair) {
      if (pair[0] >= 0 && pair[1] >= 0) { flush(); rows.push(pair); return; }
      if (pair[0] >= 0) { lefts.push(pair[0]); } else { rights.push(pair[1]); }
    });
    flush();
    return rows;
  }

  function fillSelect(select, options, wanted) {  /* options: [value, text]; keeps the choice if still there */
    select.textContent = "";
    options.forEach(function (option) { var o = el("option", option[1]); o.value = option[0]; select.appendChild(o); });
    var values = options.map(function (option) { return option[0]; });
    select.value = values.indexOf(wanted) >= 0 ? wanted : values[0];
  }

  function showLogs(jobs) {
    var nodes = [];
    jobs.forEach(function (job) {
      (job.log_ends || []).forEach(function (end) { if (nodes.indexOf(end.node) < 0) { nodes.push(end.node); } });
    });
    document.getElementById("compare-logs").hidden = nodes.length === 0;
    if (!nodes.length) { document.getElementById("compare-log-box").textContent = ""; return; }
    var pick = jobs.map(function (job, i) { return [String(i), jobLabel(jobs, i)]; });
    var node = document.getElementById("compare-log-node"), left = document.getElementById("compare-log-left"),
      right = document.getElementById("compare-log-right");
    /* the sides follow their jobs, not their places: after a hash change a place may hold another
       job or none; a side whose job went, or that would show the other side's job, falls back to
       the first job the other side does not show (A and B, as on a fresh load) */
    var wanted = [left, right].map(function (select) {
      var i = jobs.indexOf(logSideJobs[parseInt(select.value, 10)]);
      return i >= 0 ? String(i) : "";
    });
    var opening = differingNode(jobs, nodes);
    fillSelect(node, nodes.map(function (name) { return [name, name]; }), logNodeChosen ? node.value : opening.node);
    var first = !wanted[0] && !wanted[1] ? openingSides(jobs, node.value, opening) : ["0", "1"];
    fillSelect(left, pick, wanted[0] || first[0]);
    fillSelect(right, pick, wanted[1] && wanted[1] !== left.value ? wanted[1] : first[1] !== left.value ? first[1] : left.value === "0" ? "1" : "0");
    logSideJobs = jobs;
    drawLog(jobs);
  }

  /* The node the log ends open on: the first whose log health (the table's "<node>: error lines",
     "warning lines" and "traceback" rows) differs between the jobs, else the first whose shown
     lines' marks differ, else the first node */
  function healthOf(job, node) {
    var wanted = [node + ": error lines", node + ": warning lines", node + ": traceback"], found = [null, null, null];
    (job.logs || []).forEach(function (pair) { var at = wanted.indexOf(pair[0]); if (at >= 0) { found[at] = pair[1]; } });
    return JSON.stringify(found);
  }

  function marksOf(job, node) {
    return JSON.stringify(linesOf(logEnd(job, node)).map(lineKind).filter(Boolean));
  }

  function differingNode(jobs, nodes) {  /* {node, of: the measure by which it differs, or null} */
    var found = null;
    [healthOf, marksOf].some(function (of) {
      var node = nodes.filter(function (name) {
        var first = of(jobs[0], name);
        return jobs.some(function (job) { return of(job, name) !== first; });
      })[0];
      if (node !== undefined) { found = { node: node, of: of }; }
      return found !== null;
    });
    return found || { node: nodes[0], of: null };
  }

  /* The two jobs the log ends open on (as select values): A and B, unless their logs of the node
     are alike by the measure the node was chosen by while another job's differs (the one failed
     run of six): then A and the first job that differs from A, so the pane opens on the
     difference. */
  function openingSides(jobs, node, opening) {
    var of = opening.node === node ? opening.of : healthOf;
    if (!of || jobs.length < 3 || of(jobs[0], node) !== of(jobs[1], node)) { return ["0", "1"]; }
    var first = of(jobs[0], node);
    for (var i = 2; i < jobs.length; i += 1) { if (of(jobs[i], node) !== first) { return ["0", String(i)]; } }
    return ["0", "1"];
  }

  var SIGNS = { error: "\u2716", traceback: "\u2716", warning: "\u26A0" };  /* as the job page's gutter */
  var SAYS = { error: "error line: ", traceback: "traceback: ", warning: "warning line: " };

  function logCell(line, number, text) {
    line.appendChild(el("td", number > 0 ? String(number) : "", "num"));
    var td = el("td"), kind = number >= 0 && text ? lineKind(text) : "";
    if (kind) {
      td.className = "ln-" + kind;
      var sign = el("span", SIGNS[kind], "ln-mark"); sign.setAttribute("aria-hidden", "true");
      td.appendChild(sign); td.appendChild(el("span", SAYS[kind], "visually-hidden"));
    }
    td.appendChild(el("code", text)); line.appendChild(td);
  }

  function drawLog(jobs) {
    var node = document.getElementById("compare-log-node").value;
    var sides = [document.getElementById("compare-log-left").value, document.getElementById("compare-log-right").value]
      .map(function (value) { return parseInt(value, 10) || 0; });
    var ends = sides.map(function (i) { return logEnd(jobs[i], node); }), lines = ends.map(linesOf);
    var table = el("table", null, "grid compare-table compare-log-table"), head = el("tr"), body = el("tbody"), differing = 0;
    table.id = "compare-log-table";
    /* the mark column's head is named ("differs", read out, not shown: the column is one sign wide);
       a row's mark is a cell, not a header: "\u2260" and, for a screen reader, why (its title) */
    var markHead = el("th", null, "diff-mark"); markHead.appendChild(el("span", "differs", "visually-hidden"));
    head.appendChild(markHead);
    sides.forEach(function (i) {  /* table-layout: fixed: the two text columns get equal halves */
      head.appendChild(el("th", "line", "line-head")); var th = el("th", jobLabel(jobs, i)); th.style.borderTop = "4px solid " + PALETTE[i];
      head.appendChild(th);
    });
    Array.prototype.forEach.call(head.children, function (th) { th.scope = "col"; });
    var thead = el("thead"); thead.appendChild(head); table.appendChild(thead);
    var only = [0, 0];  /* lines of each side that the other does not have */
    pairChanges(alignLines(lines[0], lines[1])).forEach(function (pair) {
      var same = pair[0] >= 0 && pair[1] >= 0 && !pair[2], line = el("tr", null, same ? "same" : pair[2] ? "differs changed" : "differs");
      var mark = el("td", null, "diff-mark");
      line.appendChild(mark);
      if (!same) {
        differing += 1;
        pair.slice(0, 2).forEach(function (at, side) { if (at >= 0) { only[side] += 1; } });
        mark.title = pair[2] ? "changed: " + jobLabel(jobs, sides[0]) + " has the left line where " + jobLabel(jobs, sides[1]) +
          " has the right one" : "only in " + jobLabel(jobs, sides[pair[0] >= 0 ? 0 : 1]);
        var sign = el("span", "\u2260"); sign.setAttribute("aria-hidden", "true");
        mark.appendChild(sign); mark.appendChild(el("span", mark.title, "visually-hidden"));
      }
      pair.slice(0, 2).forEach(function (at, side) {
        var first = ends[side] ? ends[side].first : 0;
        logCell(line, at >= 0 && first ? first + at : 0, at >= 0 ? lines[side][at] : "");
      });
      body.appendChild(line);
    });
    table.appendChild(body);
    var box = document.getElementById("compare-log-box");
    box.textContent = "";
    sides.forEach(function (i, side) {
      box.appendChild(el("p", jobLabel(jobs, i) + ": " + (ends[side] ? ends[side].note : "no log of " + node), "note"));
    });
    box.appendChild(scrollBox(table));
    document.getElementById("compare-log-count").textContent = (only[0] + only[1]) + " lines differ (" + only[0] + " of " +
      letter(sides[0]) + "\u2019s, " + only[1] + " of " + letter(sides[1]) + "\u2019s), in " + differing + " of " + body.children.length + " rows";
  }

  /* ---------------------------------------------------------------- the page */
  function catalogLink() {
    var a = el("a", "the catalog"); a.href = "index.html"; return a;
  }

  function render() {
    var wanted = readHash(), messages = [];
    if (wanted.ignored.length) {
      messages.push("Left out of the address, as they are not job names of this site: " + wanted.ignored.join(", ").slice(0, 300));
    }
    if (wanted.extra) { messages.push("At most " + MAX_JOBS + " jobs are compared: the last " + wanted.extra + " of the address are left out."); }
    load(wanted.slugs, function () {
      var jobs = [], missing = [];
      wanted.slugs.forEach(function (slug) { if (loaded[slug]) { jobs.push(loaded[slug]); } else { missing.push(slug); } });
      if (missing.length) {
        messages.push("No comparison data for " + missing.join(", ") + ": no such job in this project (was it removed?).");
      }
      if (jobs.length < 2) {
        messages.push([document.createTextNode("Choose 2 to " + MAX_JOBS + " jobs to compare: tick them in "), catalogLink(),
          document.createTextNode(", or open compare.html#jobs=<job>,<job>.")]);
      }
      say(messages);
      showJobs(jobs);
      document.getElementById("compare-fields").hidden = true;
      document.getElementById("compare-series").hidden = true;
      document.getElementById("compare-logs").hidden = true;
      if (jobs.length >= 2) { showTable(jobs); showFigures(jobs); showLogs(jobs); } else { clearResults(); }
      document.body.setAttribute("data-compare", jobs.length >= 2 ? "ready" : "empty");
    });
  }

  var shownJobs = function () { return readHash().slugs.filter(function (s) { return loaded[s]; }).map(function (s) { return loaded[s]; }); };

  document.addEventListener("DOMContentLoaded", function () {
    var toggle = document.getElementById("compare-only-diff");
    onlyDiff = toggle.checked;
    toggle.addEventListener("change", function () { onlyDiff = toggle.checked; showTable(shownJobs()); });
    var minus = document.getElementById("compare-diff-a");
    toA = minus.checked;
    minus.addEventListener("change", function () { toA = minus.checked; showFigures(shownJobs()); });
    document.getElementById("compare-log-node").addEventListener("change", function () { logNodeChosen = true; });
    ["compare-log-node", "compare-log-left", "compare-log-right"].forEach(function (id) {
      document.getElementById(id).addEventListener("change", function () { drawLog(shownJobs()); });
    });
    window.addEventListener("hashchange", render);
    /* printing draws the figures not drawn yet (drawn as they near the screen), as job pages do;
       theme.js then fits every figure to the paper's width */
    window.addEventListener("beforeprint", function () { pending.forEach(draw); });
    render();
  });
  document.addEventListener("reportgen-theme", function (event) {  /* the Theme button: plotly follows */
    var c = window.reportgenPlotColours(event.detail);
    var update = { paper_bgcolor: c.paper, plot_bgcolor: c.plot, "font.color": c.font, "xaxis.gridcolor": c.grid,
      "yaxis.gridcolor": c.grid, "legend.bgcolor": c.paper };
    drawn.forEach(function (box) { window.Plotly.relayout(box, update); });
  });
}());
