/* The project catalog: rows from catalog-data.js (window.REPORTGEN_CATALOG), sorted, filtered,
   searched and paged in the browser; only the current page is put into the DOM, so 10,000 rows
   stay responsive. The view (sort, filter, search, page, size) lives in the URL hash. */
(function () {
  "use strict";
  var data = window.REPORTGEN_CATALOG;
  var LABELS = { id: "Job", description: "Description", end: "End (UTC)", start: "Start, approx.",
    status: "Status", nodes: "Nodes", outputs: "Outputs", workflow: "Workflow commit",
    params: "Parameters commit", log_errors: "Log errors" };
  var NUMERIC = { nodes: true, outputs: true, log_errors: true };
  var state = { sort: "end", dir: "desc", status: "", q: "", page: 1, size: 50 };
  var cols, idx, haystack, shown = [];

  function readHash() {
    var params = new URLSearchParams(window.location.hash.replace(/^#/, ""));
    if (params.has("sort") && idx[params.get("sort")] !== undefined) { state.sort = params.get("sort"); }
    if (params.get("dir") === "asc" || params.get("dir") === "desc") { state.dir = params.get("dir"); }
    state.status = params.get("status") || "";
    state.q = params.get("q") || "";
    state.page = Math.max(1, parseInt(params.get("page") || "1", 10) || 1);
    var size = parseInt(params.get("size") || "50", 10);
    state.size = [50, 100, 500].indexOf(size) >= 0 ? size : 50;
  }

  function writeHash() {
    var params = new URLSearchParams();
    params.set("sort", state.sort); params.set("dir", state.dir);
    if (state.status) { params.set("status", state.status); }
    if (state.q) { params.set("q", state.q); }
    if (state.page > 1) { params.set("page", String(state.page)); }
    if (state.size !== 50) { params.set("size", String(state.size)); }
    var hash = "#" + params.toString();
    if (window.location.hash !== hash) { window.history.replaceState(null, "", hash); }
  }

  function compute() {
    var q = state.q.toLowerCase(), st = idx.status, key = idx[state.sort];
    var dir = state.dir === "asc" ? 1 : -1, numeric = NUMERIC[state.sort];
    shown = [];
    for (var i = 0; i < data.rows.length; i += 1) {
      var row = data.rows[i];
      if (state.status && row[st] !== state.status) { continue; }
      if (q && haystack[i].indexOf(q) < 0) { continue; }
      shown.push(row);
    }
    shown.sort(function (a, b) {
      var x = a[key], y = b[key];
      var c = numeric ? x - y : String(x).localeCompare(String(y));
      return c * dir || String(a[idx.id]).localeCompare(String(b[idx.id]));
    });
  }

  function cell(tr, text, className) {
    var td = document.createElement("td");
    td.textContent = text;
    if (className) { td.className = className; }
    tr.appendChild(td);
    return td;
  }

  function header(table) {
    var thead = document.createElement("thead"), tr = document.createElement("tr");
    cols.forEach(function (name) {
      var th = document.createElement("th"); th.scope = "col";
      var button = document.createElement("button"); button.type = "button";
      button.textContent = LABELS[name] || name; button.setAttribute("data-sort", name);
      if (name === state.sort) { th.setAttribute("aria-sort", state.dir === "asc" ? "ascending" : "descending"); }
      button.addEventListener("click", function () {
        if (state.sort === name) { state.dir = state.dir === "asc" ? "desc" : "asc"; } else { state.sort = name; state.dir = "asc"; }
        state.page = 1; update();
      });
      th.appendChild(button); tr.appendChild(th);
    });
    thead.appendChild(tr); table.appendChild(thead);
  }

  function body(table, rows) {
    var tbody = document.createElement("tbody");
    rows.forEach(function (row) {
      var tr = document.createElement("tr"); tr.className = "row-link";
      cols.forEach(function (name) {
        var value = row[idx[name]];
        if (name === "id") {
          var td = cell(tr, "", ""), a = document.createElement("a");
          a.href = row[idx.href]; a.textContent = value; td.appendChild(a);
        } else if (name === "status") {
          var s = cell(tr, "", ""), span = document.createElement("span");
          span.className = "status status-" + value; span.textContent = value; s.appendChild(span);
        } else { cell(tr, value, NUMERIC[name] ? "num" : ""); }
      });
      tbody.appendChild(tr);
    });
    table.appendChild(tbody);
  }

  function pager(pages) {
    var nav = document.getElementById("catalog-pager");
    nav.textContent = "";
    function button(text, page, disabled) {
      var b = document.createElement("button"); b.type = "button"; b.textContent = text; b.disabled = disabled;
      b.addEventListener("click", function () { state.page = page; update(); });
      nav.appendChild(b);
    }
    button("\u00AB first", 1, state.page <= 1);
    button("\u2039 prev", state.page - 1, state.page <= 1);
    var info = document.createElement("span"); info.id = "catalog-info";
    info.textContent = "page " + state.page + " of " + pages + " \u00B7 " + shown.length + " of " + data.rows.length + " jobs";
    nav.appendChild(info);
    button("next \u203A", state.page + 1, state.page >= pages);
    button("last \u00BB", pages, state.page >= pages);
  }

  function update() {
    compute();
    var pages = Math.max(1, Math.ceil(shown.length / state.size));
    state.page = Math.min(state.page, pages);
    var box = document.getElementById("catalog"), table = document.createElement("table");
    table.className = "grid"; table.id = "catalog-table";
    header(table);
    body(table, shown.slice((state.page - 1) * state.size, state.page * state.size));
    box.textContent = "";
    box.appendChild(table);
    if (!shown.length) { var p = document.createElement("p"); p.className = "empty"; p.textContent = box.getAttribute("data-empty"); box.appendChild(p); }
    pager(pages);
    writeHash();
  }

  function syncControls() {
    document.getElementById("catalog-search").value = state.q;
    document.getElementById("catalog-status").value = state.status;
    document.getElementById("catalog-size").value = String(state.size);
  }

  function start() {
    if (!data) { return; }
    cols = data.columns.filter(function (c) { return c !== "href"; });
    idx = {}; data.columns.forEach(function (c, i) { idx[c] = i; });
    haystack = data.rows.map(function (row) {  // the shown columns only: the page link is no text to match
      return cols.map(function (c) { return row[idx[c]]; }).join("\u0001").toLowerCase();
    });
    readHash(); syncControls();
    var timer = null;
    document.getElementById("catalog-search").addEventListener("input", function (e) {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { state.q = e.target.value; state.page = 1; update(); }, 120);
    });
    document.getElementById("catalog-status").addEventListener("change", function (e) { state.status = e.target.value; state.page = 1; update(); });
    document.getElementById("catalog-size").addEventListener("change", function (e) { state.size = parseInt(e.target.value, 10); state.page = 1; update(); });
    document.getElementById("catalog-controls").addEventListener("submit", function (e) { e.preventDefault(); });
    window.addEventListener("hashchange", function () { readHash(); syncControls(); update(); });
    update();
  }

  document.addEventListener("DOMContentLoaded", start);
}());
