/* Draw each figure of a page from its <script type="application/json"> data block, as it nears the screen;
   offer its values as a table; follow #ds=/path permalinks to an output's section.
   One static script for the whole site: the CSP allows no inline script. */
(function () {
  "use strict";
  var element = window.reportgenElement;  /* theme.js, loaded first on every page */
  var drawn = [];

  /* ---- "Show data as table": a figure's values as a semantic table, for a screen reader or a
     keyboard (a plotly figure is neither). Built from the figure's own JSON spec only when the
     user opens it (at load, only its button), bounded, and with DOM methods only: the
     names and values come from hostile files. */
  var MAX_ROWS = 1000, MAX_COLS = 100;
  var ENTITIES = { lt: "<", gt: ">", quot: "\"", "#x27": "'", amp: "&" };

  function plainText(text) {  /* figures.py HTML-escapes every label for plotly; a table shows the text */
    return String(text == null ? "" : text).replace(/&(lt|gt|quot|#x27|amp);/g, function (m, name) { return ENTITIES[name]; });
  }

  function titleText(title) { return plainText(title && typeof title === "object" ? title.text : title); }

  function axisTitle(layout, axis) { return titleText(layout && layout[axis] && layout[axis].title); }

  var NO_VALUES = { rows: 0, cols: 0, at: function () { return undefined; } };

  /* A figure's array (theme.js decodes a plotly.js typed array or a plain list) -> {rows, cols,
     float32, at(r, c)} (cols 0 for 1-D); a float32 cell reads as the decimal that was stored. */
  function decodeArray(spec) {
    if (spec === undefined || spec === null) { return NO_VALUES; }  /* no x: plotly counts 0, 1, ... */
    var array = window.reportgenDecodeArray(spec);
    if (!array) { throw new Error("an array of dtype " + String(spec.dtype) + " that this page cannot read"); }
    var float32 = array.dtype === "f4";
    return { rows: array.rows, cols: array.cols, float32: float32, at: function (r, c) {
      var value = array.at(r, c);
      return float32 ? shortestFloat32(value) : value;
    } };
  }

  /* A float32 read into a double prints 0.1 as 0.10000000149011612: noise in neither the file nor
     the CSV. The shortest decimal that rounds back to the same float32 is what was stored. */
  function shortestFloat32(value) {
    if (!isFinite(value) || value === 0) { return value; }
    for (var digits = 1; digits < 9; digits++) {
      var short = Number(value.toPrecision(digits));
      if (Math.fround(short) === value) { return short; }
    }
    return Number(value.toPrecision(9));
  }

  function valueText(value, names) {
    if (value === null || value === undefined) { return ""; }
    var text = String(value);
    return names && Object.prototype.hasOwnProperty.call(names, text) ? text + " (" + names[text] + ")" : text;
  }

  function enumNames(layout) {  /* an enum output's axis shows names: the table shows both */
    var axis = layout && layout.yaxis, names = null;
    if (axis && Array.isArray(axis.tickvals) && Array.isArray(axis.ticktext)) {
      names = {};
      axis.tickvals.forEach(function (value, i) { names[String(value)] = plainText(axis.ticktext[i]); });
    }
    return names;
  }

  function sameValues(a, b) {
    if (a.rows !== b.rows) { return false; }
    for (var i = 0; i < a.rows; i++) { if (String(a.at(i)) !== String(b.at(i))) { return false; } }
    return true;
  }

  /* A grid: caption, corner (the row headers' title), heads (column titles), rows, cols,
     rowHead(r) and cell(r, c). Line traces sharing x make one grid, else one per trace. */
  function lineGrids(spec, title) {
    var traces = spec.data.filter(function (t) { return t && t.type !== "heatmap"; });
    var names = enumNames(spec.layout);
    var xTitle = axisTitle(spec.layout, "xaxis") || "x", yTitle = axisTitle(spec.layout, "yaxis") || "value";
    var xs = traces.map(function (t) { return decodeArray(t.x); }), ys = traces.map(function (t) { return decodeArray(t.y); });
    function traceName(i) { return plainText(traces[i].name) || yTitle; }
    if (traces.length > 1 && xs.every(function (x) { return sameValues(x, xs[0]); })) {
      return [{ caption: title, corner: xTitle, rows: xs[0].rows, cols: traces.length, note: spec.table_note,
        heads: traces.map(function (t, i) { return traceName(i); }),
        rowHead: function (r) { return valueText(xs[0].at(r)); },
        cell: function (r, c) { return valueText(ys[c].at(r), names); } }];
    }
    /* integers past 2^53, which the float64 figure data rounds, travel as text too (figures.py) */
    var exact = traces.length === 1 && Array.isArray(spec.exact_y) && spec.exact_y.length === ys[0].rows ? spec.exact_y : null;
    return traces.map(function (t, i) {
      return { caption: traces.length > 1 ? title + ": " + traceName(i) : title, corner: xTitle, note: spec.table_note,
        rows: Math.max(xs[i].rows, ys[i].rows), cols: 1, heads: [traces.length > 1 ? traceName(i) : yTitle],
        rowHead: function (r) { return xs[i].rows ? valueText(xs[i].at(r)) : String(r); },
        cell: function (r) { return valueText(exact ? String(exact[r]) : ys[i].at(r), names); } };
    });
  }

  function heatmapGrid(spec, title, step) {
    var trace = spec.data[0], steps = spec.steps || [];
    var z = decodeArray(steps.length > 1 ? steps[step] || steps[0] : trace.z);
    var xs = trace.x ? decodeArray(trace.x) : null, ys = trace.y ? decodeArray(trace.y) : null;
    var heads = [];
    for (var c = 0; c < Math.min(z.cols, MAX_COLS); c++) { heads.push(xs ? valueText(xs.at(c)) : String(c)); }
    var label = steps.length > 1 ? " (" + plainText((spec.step_labels || [])[step] || String(step)) + ")" : "";
    return { caption: title + label, corner: (axisTitle(spec.layout, "yaxis") || "y") + " \\ " + (axisTitle(spec.layout, "xaxis") || "x"),
      rows: z.rows, cols: z.cols, heads: heads, note: (z.float32 ? "The figure holds these values as float32 " +
        "(about 7 significant digits" + (/^pooled/.test(spec.note || "") ? "; pooled cells are means" : "") + "). " : "") +
        (spec.table_note || ""),
      rowHead: function (r) { return ys ? valueText(ys.at(r)) : String(r); },
      cell: function (r, col) { return valueText(z.at(r, col)); } };
  }

  function renderGrid(grid, csvLink) {
    var rows = Math.min(grid.rows, MAX_ROWS), cols = Math.min(grid.cols, MAX_COLS);
    var table = element("table", undefined, "grid figure-data"), head = document.createElement("tr");
    table.appendChild(element("caption", grid.caption));
    var corner = element("th", grid.corner); corner.scope = "col"; head.appendChild(corner);
    for (var c = 0; c < cols; c++) { var th = element("th", grid.heads[c]); th.scope = "col"; head.appendChild(th); }
    table.appendChild(document.createElement("thead")).appendChild(head);
    var body = document.createElement("tbody");
    for (var r = 0; r < rows; r++) {
      var tr = document.createElement("tr"), rowHead = element("th"), href = grid.rowHref ? grid.rowHref(r) : "";
      if (href) { rowHead.appendChild(element("a", grid.rowHead(r))).href = href; } else { rowHead.textContent = grid.rowHead(r); }
      rowHead.scope = "row"; tr.appendChild(rowHead);
      for (c = 0; c < cols; c++) { tr.appendChild(element("td", grid.cell(r, c), "num")); }
      body.appendChild(tr);
    }
    table.appendChild(body);
    var box = element("div", undefined, "figure-table-scroll");
    box.tabIndex = 0;  /* a scrolling region a keyboard can reach */
    box.setAttribute("role", "region"); box.setAttribute("aria-label", "Values: " + grid.caption);
    box.appendChild(table);
    var out = document.createDocumentFragment();
    out.appendChild(box);
    if (rows < grid.rows || cols < grid.cols) { out.appendChild(cutNote(grid, rows, cols, csvLink)); }
    if (grid.note) { out.appendChild(wholeNote(grid, csvLink)); }
    return out;
  }

  function wholeNote(grid, csvLink) {  /* the values are not exactly the file's: where the exact ones are */
    return pointToData(element("p", grid.note, "note"), csvLink, " holds the file's values.",
      grid.whole || "The h5py snippet below opens the file's values.");
  }

  function cutNote(grid, rows, cols, csvLink) {
    var parts = [];
    if (rows < grid.rows) { parts.push((grid.rows - rows).toLocaleString("en") + " of " + grid.rows.toLocaleString("en") + " rows"); }
    if (cols < grid.cols) { parts.push((grid.cols - cols).toLocaleString("en") + " of " + grid.cols.toLocaleString("en") + " columns"); }
    return pointToData(element("p", "Left out of this table: " + parts.join(" and ") + ". ", "note"), csvLink,
      " holds every value.", grid.whole || "The h5py snippet below opens the whole dataset.");
  }

  function pointToData(note, csvLink, csvText, snippetText) {  /* the CSV download when there is one, else the snippet */
    if (csvLink) {
      var link = csvLink.cloneNode(false); link.className = ""; link.textContent = "The CSV download";
      note.appendChild(link); note.appendChild(document.createTextNode(csvText));
    } else {
      note.appendChild(document.createTextNode(snippetText));
    }
    return note;
  }

  function buildGrids(box) {
    var spec = JSON.parse(document.getElementById(box.getAttribute("data-figure")).textContent);
    var layout = spec.layout || {}, title = titleText(layout.title) || box.getAttribute("aria-label") || "figure";
    var data = spec.data || [];
    if (data.length && data[0] && data[0].type === "heatmap") {
      return [heatmapGrid(spec, title, Number(box.getAttribute("data-step") || 0))];
    }
    return lineGrids({ data: data, layout: layout, exact_y: spec.exact_y, table_note: spec.table_note }, title);
  }

  function showTable(box, region) {  /* built again only when the step shown changed (or updateTable) */
    var step = box.getAttribute("data-step") || "0";
    if (region.getAttribute("data-built") === step) { return; }
    while (region.lastChild) { region.removeChild(region.lastChild); }
    var section = box.closest ? box.closest("section") : null, csvLink = null;
    (section ? section.querySelectorAll(".downloads a.download") : []).forEach(function (link) {
      if (link.textContent === "CSV") { csvLink = link; }
    });
    try {
      box.reportgenGrids(box).forEach(function (grid) { region.appendChild(renderGrid(grid, csvLink)); });
    } catch (error) {
      region.appendChild(element("p", "The values of this figure could not be read (" + String(error && error.message || error) + ").", "note"));
    }
    region.setAttribute("data-built", step);
  }

  /* A disclosure button, not a <details>: printing opens every <details> (theme.js), and a
     printed page should hold the tables a reader opened, not one per figure. gridsOf(box) gives
     the grids of the figure's values (a grid: caption, corner, heads, rows, cols, rowHead(r),
     cell(r, c), and optionally rowHref(r), a link for the row's head, note, and whole: where every
     value is, on a page with neither a CSV download nor an h5py snippet: compare.js). */
  var tableCount = 0;
  function addTableControl(box, gridsOf) {
    if (box.reportgenTable) { box.reportgenGrids = gridsOf; updateTable(box); return; }  /* new values, same figure */
    var button = element("button", "Show data as table", "figure-table-toggle"), region = element("div", undefined, "figure-table");
    region.id = "figure-table-" + (++tableCount); region.hidden = true;
    button.type = "button"; button.setAttribute("aria-expanded", "false"); button.setAttribute("aria-controls", region.id);
    button.addEventListener("click", function () {
      var show = region.hidden;
      if (show) { showTable(box, region); }
      region.hidden = !show;
      button.setAttribute("aria-expanded", String(show));
      button.textContent = show ? "Hide data table" : "Show data as table";
    });
    box.reportgenTable = region; box.reportgenGrids = gridsOf;
    box.parentNode.insertBefore(region, box.nextSibling);  /* the step bar, when drawn, goes before both */
    box.parentNode.insertBefore(button, region);
  }

  function updateTable(box) {  /* the figure's values changed: an open table shows the new ones */
    var region = box.reportgenTable;
    if (!region) { return; }
    region.removeAttribute("data-built");
    if (!region.hidden) { showTable(box, region); }
  }

  /* The trends and compare pages (trends.js, compare.js) draw their figures themselves and offer
     their values through these. */
  window.reportgenFigureTable = { add: addTableControl };

  function addPermalink(section) {  /* the link to copy; made here, as only this script follows it */
    var heading = section.querySelector("h4"), link = element("a", "\u00b6", "permalink");
    if (!heading) { return; }
    link.href = dsHash(section.getAttribute("data-ds"));
    link.title = "Link to this output"; link.setAttribute("aria-label", "Link to this output");
    heading.appendChild(document.createTextNode(" ")); heading.appendChild(link);
  }

  /* ---- Permalinks: #ds=/path/in/file scrolls to that output and outlines it. A job too big for
     one page (a node table) sends it on to the node's page, and a node page of several pages to
     the one holding it (outputs are in path order; each page link carries its first path). */
  function shownPath(text) {  /* what the page shows of a path: render.py's U+FFFD for a control */
    return text.replace(/\r\n?/g, "\n").replace(/[\x00-\x08\x0b\x0e-\x1f\x7f]/g, "\ufffd");
  }

  function comparePaths(a, b) {  /* by code point, as Python sorts them (not by UTF-16 unit) */
    var x = Array.from(a), y = Array.from(b);
    for (var i = 0; i < Math.min(x.length, y.length); i++) {
      var d = x[i].codePointAt(0) - y[i].codePointAt(0);
      if (d) { return d; }
    }
    return x.length - y.length;
  }

  function dsHash(path) { return "#ds=" + encodeURIComponent(path).replace(/%2F/g, "/"); }

  function forward(link, hash) { window.location.replace(link.href.split("#")[0] + hash); }

  function say(text) {
    var note = document.getElementById("permalink-missing"), main = document.getElementById("main");
    if (!text) { if (note) { note.parentNode.removeChild(note); } return; }
    if (!note && main) {
      note = element("p", undefined, "note permalink-missing"); note.id = "permalink-missing";
      note.setAttribute("role", "status");
      var heading = main.querySelector("h1");
      main.insertBefore(note, heading ? heading.nextSibling : main.firstChild);
    }
    if (note) { note.textContent = text; }
  }

  function nodeRows() {  /* a split job page: [name, link to the node's page] of each node */
    return Array.prototype.map.call(document.querySelectorAll("tr.row-link a[data-anchor]"), function (link) {
      var code = link.querySelector("code");
      return [code ? code.textContent : "", link];
    });
  }

  function pageOf(path) {  /* on a node page of several pages: the link to the page holding path, or null (this one) */
    var here = document.querySelector("section.output[data-ds]"), best = null, bestFirst = null;
    var pages = Array.prototype.map.call(document.querySelectorAll("nav.output-pages a[data-first]"), function (link) {
      return [link.getAttribute("data-first"), link];
    });
    if (here) { pages.push([here.getAttribute("data-ds"), null]); }
    pages.forEach(function (page) {  /* the last page whose first output is not after path */
      if (comparePaths(page[0], path) <= 0 && (bestFirst === null || comparePaths(page[0], bestFirst) > 0)) {
        best = page[1]; bestFirst = page[0];
      }
    });
    return best;
  }

  function revealDs(path) {
    var sections = document.querySelectorAll("section.output[data-ds]"), found = null;
    for (var i = 0; i < sections.length && !found; i++) { if (sections[i].getAttribute("data-ds") === path) { found = sections[i]; } }
    Array.prototype.forEach.call(document.querySelectorAll(".ds-target"), function (s) { s.classList.remove("ds-target"); });
    if (found) { say(""); found.classList.add("ds-target"); found.scrollIntoView({ block: "start" }); return; }
    var node = nodeRows().filter(function (row) { return path.indexOf("/" + row[0] + "/") === 0; })[0];
    if (node) { forward(node[1], dsHash(path)); return; }
    var page = pageOf(path);
    if (page) { forward(page, dsHash(path)); return; }
    say("No output " + path + " on this page: the link (#ds=" + path + ") names an output this job does not have.");
  }

  /* An old link to an output of a job since split (job.html#out-<slug>): the slug is the path's
     readable part plus a hash (paths.build_slug), so its node is the one whose name's readable
     part starts it. Several may fit (names differing only in case or punctuation): the first. */
  function readable(name) {
    return name.normalize("NFKD").replace(/[^\x00-\x7f]/g, "").toLowerCase().replace(/[^a-z0-9._-]+/g, "-").replace(/^[-.]+/, "");
  }

  function revealOldOutput(id) {
    var body = id.slice(4).replace(/-[0-9a-f]{8}(-[0-9a-f]{16})*$/, ""), best = null, bestLength = -1;
    nodeRows().forEach(function (row) {
      var prefix = readable("/" + row[0] + "/");
      var fits = body.indexOf(prefix) === 0 || (body.length > 0 && prefix.indexOf(body) === 0);
      if (prefix && fits && prefix.length > bestLength) { best = row[1]; bestLength = prefix.length; }
    });
    if (best) { forward(best, "#" + id); return; }
    say("No output " + id + " on this page" + (document.querySelector("nav.output-pages") ? ": it may be on another page of this node." : "."));
  }

  function revealOutput() {
    var hash = window.location.hash, id = "";
    if (hash.slice(0, 4) === "#ds=") {
      var path = hash.slice(4);
      try { path = decodeURIComponent(path); } catch (e) { /* "%E0": shown as typed */ }
      revealDs(shownPath(path));
      return;
    }
    try { id = decodeURIComponent(hash.slice(1)); } catch (e) { id = ""; }
    if (id.slice(0, 4) === "out-" && !document.getElementById(id)) { revealOldOutput(id); } else { say(""); }
  }

  function themeLayout(theme) {
    var c = window.reportgenPlotColours(theme);
    return {
      paper_bgcolor: c.paper, plot_bgcolor: c.plot, "font.color": c.font,
      "xaxis.gridcolor": c.grid, "yaxis.gridcolor": c.grid
    };
  }

  function applyTheme(layout, theme) {
    var c = window.reportgenPlotColours(theme);
    layout.paper_bgcolor = c.paper; layout.plot_bgcolor = c.plot;
    layout.font = { color: c.font };
    layout.xaxis = layout.xaxis || {}; layout.yaxis = layout.yaxis || {};
    layout.xaxis.gridcolor = c.grid; layout.yaxis.gridcolor = c.grid;
    return layout;
  }

  /* A stacked figure's step bar is laid out at load (its count is the box's data-steps), disabled
     until the figure is drawn: built on draw, it pushed everything below it down by its height as a
     reader scrolled (and moved a log's summary from under a click). */
  function addStepBar(box) {
    var count = Number(box.getAttribute("data-steps"));
    var bar = element("div", undefined, "steps");
    var prev = element("button", "\u25C0 prev"), next = element("button", "next \u25B6");
    var slider = document.createElement("input"), label = element("span", box.getAttribute("data-step-label") || "0");
    prev.type = "button"; next.type = "button";
    slider.type = "range"; slider.min = "0"; slider.max = String(count - 1); slider.value = "0";
    slider.setAttribute("aria-label", "Step through the stacked sets");
    [prev, slider, next].forEach(function (control) { control.disabled = true; });
    bar.appendChild(prev); bar.appendChild(slider); bar.appendChild(next); bar.appendChild(label);
    box.parentNode.insertBefore(bar, box.nextSibling);
    box.reportgenSteps = { prev: prev, next: next, slider: slider, label: label };
  }

  function wireSteps(box, spec) {
    var steps = spec.steps, labels = spec.step_labels || [], bar = box.reportgenSteps;
    if (!bar) { addStepBar(box); bar = box.reportgenSteps; }  /* a page written before data-steps */
    bar.slider.max = String(steps.length - 1);
    bar.label.textContent = labels[0] || "0";
    function show(i) {
      i = Math.max(0, Math.min(steps.length - 1, i));
      bar.slider.value = String(i); bar.label.textContent = labels[i] || String(i);
      window.Plotly.restyle(box, { z: [steps[i]] }, [0]);
      box.setAttribute("data-step", String(i));  /* the data table shows the step on screen */
      if (box.reportgenTable && !box.reportgenTable.hidden) { showTable(box, box.reportgenTable); }
    }
    bar.prev.addEventListener("click", function () { show(Number(bar.slider.value) - 1); });
    bar.next.addEventListener("click", function () { show(Number(bar.slider.value) + 1); });
    bar.slider.addEventListener("input", function () { show(Number(bar.slider.value)); });
    [bar.prev, bar.slider, bar.next].forEach(function (control) { control.disabled = false; });
  }

  /* ---- zoom: detail of a long line on zoom (reportgen/site/zoom.py). A figure drawn from more
     than 4,000 points names its zoom file (spec.zoom: src, key, total, and per tile [x lo, x hi,
     points, first, last overview point]). When a zoom or pan leaves at most ZOOM_TILES tiles (and
     ZOOM_POINTS of their points) in view, the file is loaded once by <script src> (a fetch fails on
     file://) and the trace becomes the overview points outside those tiles plus every point the
     tiles hold, so panning still shows the rest; a wider range or autorange gives the overview
     back. Only one-trace line figures have one; the data table keeps the overview (it says so). */
  var ZOOM_TILES = 4, ZOOM_POINTS = 16000, ZOOM_WAIT_MS = 120;
  var zoomFiles = {};  /* src -> {state: "loading" | "ready" | "failed", waiting: [callbacks]} */

  function loadZoomFile(src, done) {
    var file = zoomFiles[src];
    if (file && file.state === "loading") { file.waiting.push(done); return; }
    if (file) { done(file.state === "ready"); return; }
    file = zoomFiles[src] = { state: "loading", waiting: [done] };
    var script = document.createElement("script");
    function finish(ok) {
      file.state = ok ? "ready" : "failed";
      file.waiting.splice(0).forEach(function (callback) { callback(ok); });
    }
    script.src = src;
    script.addEventListener("load", function () { finish(true); });
    script.addEventListener("error", function () { finish(false); });
    document.body.appendChild(script);
  }

  function zoomNumber(value) { return Number(value).toLocaleString("en"); }

  function zoomStatus(box, text) {  /* one live line under the figure's note: which points it shows */
    var state = box.reportgenZoom;
    if (!state.status) {
      var block = document.getElementById(box.getAttribute("data-figure")), after = block;
      if (block && block.nextElementSibling && block.nextElementSibling.classList.contains("note")) { after = block.nextElementSibling; }
      state.status = element("p", undefined, "note zoom-status");
      state.status.setAttribute("role", "status");
      after.parentNode.insertBefore(state.status, after.nextSibling);
    }
    state.status.textContent = text;
  }

  function plainValues(spec) {  /* a typed array or list of the figure -> a plain array (null: unreadable) */
    if (spec === undefined || spec === null) { return null; }
    var array = window.reportgenDecodeArray(spec);
    return array ? Array.prototype.slice.call(array.values) : null;
  }

  function tileValues(tile) {  /* a tile of the zoom file -> [x, y]; no x: the set index from i0 */
    var y = plainValues(tile.y), x = tile.x ? plainValues(tile.x) : null;
    if (!y) { return null; }
    if (!x) { x = y.map(function (v, k) { return tile.i0 + k; }); }
    return x.length === y.length ? [x, y] : null;
  }

  function coveredTiles(box, state) {  /* [first, last] tile in view, or null for the overview */
    var axis = box._fullLayout && box._fullLayout.xaxis, tiles = state.zoom.tiles;
    if (!axis || axis.autorange || !Array.isArray(axis.range) || typeof axis.r2c !== "function") { return null; }
    var a = axis.r2c(axis.range[0]), b = axis.r2c(axis.range[1]), first = -1, last = -1, points = 0;
    if (!isFinite(a) || !isFinite(b)) { return null; }
    if (a > b) { var swap = a; a = b; b = swap; }
    tiles.forEach(function (tile, i) {
      if (tile[0] !== null && tile[1] >= a && tile[0] <= b) { if (first < 0) { first = i; } last = i; }
    });
    if (first < 0 || last - first + 1 > ZOOM_TILES) { return null; }
    for (var i = first; i <= last; i++) { points += tiles[i][2]; }
    return points <= ZOOM_POINTS ? [first, last] : null;
  }

  function showOverview(box, state, text) {
    if (state.shown) {
      state.shown = "";
      window.Plotly.restyle(box, { x: [state.overview[0]], y: [state.overview[1]] }, [0]);
    }
    zoomStatus(box, text || "overview: " + zoomNumber(state.overview[1].length) + " of " +
      zoomNumber(state.zoom.total) + " points (MinMaxLTTB); zoom in for detail");
  }

  function showDetail(box, state, range) {
    var name = range[0] + "-" + range[1], tiles = state.zoom.tiles;
    if (state.shown === name) { return; }  /* the same tiles already drawn: nothing to redraw */
    var file = (window.reportgenZoom || {})[state.zoom.key], ox = state.overview[0], oy = state.overview[1];
    var x = ox.slice(0, tiles[range[0]][3]), y = oy.slice(0, tiles[range[0]][3]), shown = 0;
    for (var i = range[0]; i <= range[1]; i++) {
      var values = file && file.tiles && file.tiles[i] ? tileValues(file.tiles[i]) : null;
      if (!values) { showOverview(box, state, "zoom detail could not be read from " + state.zoom.src + ": the overview is shown"); return; }
      x = x.concat(values[0]); y = y.concat(values[1]); shown += values[1].length;
    }
    x = x.concat(ox.slice(tiles[range[1]][4])); y = y.concat(oy.slice(tiles[range[1]][4]));
    state.shown = name;
    window.Plotly.restyle(box, { x: [x], y: [y] }, [0]);
    zoomStatus(box, "detail: " + zoomNumber(shown) + " points of " + zoomNumber(state.zoom.total) +
      (state.zoom.exact ? " (every point of this stretch)" : " (MinMaxLTTB of this stretch)"));
  }

  function updateZoom(box, state) {
    var range = coveredTiles(box, state);
    if (!range) { showOverview(box, state); return; }
    loadZoomFile(state.zoom.src, function (ok) {
      if (!ok) { showOverview(box, state, "zoom detail could not be loaded (" + state.zoom.src + "): the overview is shown"); return; }
      range = coveredTiles(box, state);  /* the view may have moved while the file loaded */
      if (range) { showDetail(box, state, range); } else { showOverview(box, state); }
    });
  }

  function wireZoom(box, spec) {
    var trace = spec.data[0], axis = box._fullLayout && box._fullLayout.xaxis;
    var x = plainValues(trace.x), y = plainValues(trace.y);
    if (!x || !y || x.length !== y.length || !axis || !Array.isArray(spec.zoom.tiles)) { return; }
    if (axis.type === "date") { x = x.map(function (v) { return axis.d2c(v); }); }  /* one kind of x with the tiles' epoch ms */
    var state = box.reportgenZoom = { zoom: spec.zoom, overview: [x, y], shown: "", timer: 0, status: null };
    box.on("plotly_relayout", function (event) {
      var keys = Object.keys(event || {});
      if (!keys.some(function (key) { return key.indexOf("xaxis.range") === 0 || key === "xaxis.autorange"; })) { return; }
      window.clearTimeout(state.timer);  /* a pan or scroll zoom sends many: act once it rests */
      state.timer = window.setTimeout(function () { updateZoom(box, state); }, ZOOM_WAIT_MS);
    });
  }
  /* ---- end zoom */

  /* One figure plotly refuses (subnormal-only values: "Something went wrong with axis scaling")
     must not stop the others: it says so in its box, and the page goes on. */
  function draw(box) {
    var block = document.getElementById(box.getAttribute("data-figure"));
    if (!block || !window.Plotly || box.hasAttribute("data-failed")) { return; }
    try {
      var spec = JSON.parse(block.textContent);
      var theme = window.reportgenTheme ? window.reportgenTheme() : "light";
      window.Plotly.newPlot(box, spec.data, window.reportgenPlotLayout(applyTheme(spec.layout, theme)), window.reportgenPlotConfig());
      window.reportgenLabelPlot(box);  /* theme.js: the drawing is the image, the box a group */
      drawn.push(box);
      if (spec.steps && spec.steps.length > 1) { wireSteps(box, spec); }
      if (spec.zoom && spec.data.length === 1) { wireZoom(box, spec); }  /* zoom */
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
    boxes.forEach(function (box) {
      if (document.getElementById(box.getAttribute("data-figure"))) { addTableControl(box, buildGrids); }
      if (Number(box.getAttribute("data-steps")) > 1) { addStepBar(box); }
    });
    Array.prototype.forEach.call(document.querySelectorAll("section.output[data-ds]"), addPermalink);
    revealOutput();
    window.addEventListener("hashchange", revealOutput);
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
