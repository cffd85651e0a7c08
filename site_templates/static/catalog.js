/* The project catalog: rows from catalog-data.js (window.REPORTGEN_CATALOG), sorted, filtered,
   searched and paged in the browser; only the current page is put into the DOM, so 10,000 rows
   stay responsive. The view (sort, filter, search, page, size) lives in the URL hash, and each
   discrete change (sort, status, page, page size, a search) is one browser history entry, so Back
   undoes it; Back, Forward or an edited address re-read the hash. A tick box per row picks jobs to
   compare (compare.html#jobs=<slug>,...): the ticks live in this script, not in the hash, so they
   survive sorting, filtering and paging and add no history entry; they are also kept in the tab's
   sessionStorage, per project page, so a reload or Back from compare.html finds them again.
   Columns configured at build time (build --config: data.extra, cells after the fixed values of a
   row) sort numerically when their values are numbers, decimal texts included (see
   isNumericColumn), else as text in natural order (see compareText), with empty cells last either
   way; the "Columns" chooser hides and shows any column but the job id, kept in the hash (hide=a,b).
   Status changes: a failing job (FAILING) whose previous job with an outcome (by end time) was ok
   is marked "newly failing", an ok job after a failing one "recovered": from the rows
   alone, so the marks never depend on an earlier build; the status select filters on them.
   "First error" (first_error): the first failing node and its last exception or error line, as the
   job page's failure box names it; empty for an ok job, and sorted after the others either way.
   End from/to (from=YYYY-MM-DD&to=YYYY-MM-DD in the hash): the UTC days of the rows' end time,
   both included; a job without an end time is left out while either is set. */
(function () {
  "use strict";
  var data = window.REPORTGEN_CATALOG;
  var LABELS = { id: "Job", description: "Description", end: "End (UTC)", start: "Start, approx. (UTC)", duration: "Duration",
    status: "Status", nodes: "Nodes", outputs: "Outputs", workflow: "Workflow commit",
    params: "Parameters commit", log_errors: "Log errors", log_warnings: "Log warnings", first_error: "First error" };
  var FIRST_ERROR = "first_error";
  var NUMERIC = { nodes: true, outputs: true, log_errors: true, log_warnings: true };
  /* Duration: no field of the rows but end - start (both UTC, to the second), shown after Start */
  var DURATION = "duration", durations = new Map();  /* row -> seconds, or null when a time is missing */
  var EXTRA = {};  /* configured columns by key: {key, title, source} */
  var NONFINITE = /^(-?Infinity|NaN)$/;  /* how the build writes a non-finite float */
  /* A text that is a number as a person writes it in an attribute or a parameter ("10", "-3",
     "2.50", "007"), also how the build writes an integer past 2^53; strictly: no sign "+", no
     spaces, no exponent ("1e3"), no hex ("0x10"), no digit grouping ("1,000"), no ".5" or "5." */
  var DECIMAL = /^-?[0-9]+(\.[0-9]+)?$/;
  var state = { sort: "end", dir: "desc", status: "", q: "", from: "", to: "", page: 1, size: 50, hide: [] };
  var DAY = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/;  /* a from/to day as an <input type="date"> gives it */
  var plural = window.reportgenPlural;  /* theme.js, loaded first on every page */
  var FAILING = { "failed-nodes": true, incomplete: true, corrupt: true };  /* see docs/site.md, "Status changes" */
  var CHANGES = { "newly-failing": "newly failing", recovered: "recovered" };  /* select value -> badge text */
  var badges = [], rowIndex = new Map();  /* per row: "newly-failing", "recovered" or ""; a shown row's index */
  var cols, idx, haystack, shown = [], rendered = null, searching = false, timer = null;
  var here = { hash: null, duplicate: false };  /* the history entry shown (see isDuplicate) */
  var ticked = [];  /* compare runs: slugs of the ticked jobs, in the order they were ticked */
  var COMPARE_MIN = 2, COMPARE_MAX = 8;
  /* On file:// every page of every site shares one origin, so the key names this page's path */
  var TICKS_KEY = "reportgen-compare-ticks:" + window.location.pathname.replace(/index\.html$/, "");

  function namesElement(hash) {  /* "#main" (the skip link) is a place in the page, not a view */
    var id = hash.replace(/^#/, "");
    try { return id !== "" && document.getElementById(decodeURIComponent(id)) !== null; } catch (e) { return false; }
  }

  function isSortColumn(name) {  /* a shown column: not "href" (hidden), nor "constructor" of Object */
    return name !== null && cols.indexOf(name) >= 0 && (name === DURATION || Object.prototype.hasOwnProperty.call(idx, name));
  }

  function own(object, name) { return Object.prototype.hasOwnProperty.call(object, name); }

  function label(name) { return own(LABELS, name) ? LABELS[name] : own(EXTRA, name) ? String(EXTRA[name].title) : name; }

  function visible() { return cols.filter(function (c) { return c === "id" || state.hide.indexOf(c) < 0; }); }

  /* ---------------------------------------------------------------- configured columns' cells */
  function isEmpty(value) { return value === null || value === undefined || typeof value === "object"; }

  function cellText(value) { return isEmpty(value) ? "" : String(value); }

  function toNumber(value) { return typeof value === "boolean" ? (value ? 1 : 0) : Number(value); }

  /* A column is numeric when every value it has is a number: a JSON number or a DECIMAL text (an
     attribute is always text, so a column of "9", "10", "100" is numbers too), with at least one
     of them; "NaN" and "(-)Infinity" (a float's non-finite values as the build writes them, which a
     text cannot be told from) and booleans (as 0 and 1) go along with them but make no column
     numeric on their own. Anything else makes the whole column text: one "n/a" among numbers
     sorts the column as text, so no value is set apart from the others by a rule of its own. */
  function isNumericColumn(i) {
    var seen = false;
    for (var r = 0; r < data.rows.length; r += 1) {
      var v = data.rows[r][i];
      if (isEmpty(v) || typeof v === "boolean" || (typeof v === "string" && NONFINITE.test(v))) { continue; }
      if (typeof v === "number" || (typeof v === "string" && DECIMAL.test(v))) { seen = true; } else { return false; }
    }
    return seen;
  }

  /* Text in natural order: a run of digits compares as the number it is ("run9" before "run10",
     "v1.9" before "v1.10"), the way a person reads a list of names; the locale is fixed ("en") so
     every browser shows one order, and texts equal to it (case, "07" and "7") compare by their
     characters, so the order never depends on the rows' order in the data */
  function compareText(x, y) {
    var a = String(x), b = String(y);
    return a.localeCompare(b, "en", { numeric: true }) || (a === b ? 0 : (a < b ? -1 : 1));
  }

  /* Rows whose sorted cells are equal, by job id: the build's natural order (feeds.build_natural_key,
     which runs.html and the catalog's <noscript> list use), so without scripts a reader gets the
     jobs the script shows at first, in its order. Not compareText: its collation sets punctuation
     apart ("k-1" before "k1a") and the browser's default locale chose the order of ties before.
     Runs of digits (any script's) as numbers, the text between lowercased and compared by code
     point, a shorter id first; then the ids by code point, then the pages. */
  var DIGIT_RUN = /(\p{Nd}+)/u, ND = /^\p{Nd}$/u, naturalKeys = new Map();
  function digitValue(ch) {  /* Unicode assigns decimal digits in contiguous runs of 0..9 */
    var cp = ch.codePointAt(0), start = cp;
    while (start > 0 && ND.test(String.fromCodePoint(start - 1))) { start -= 1; }
    return (cp - start) % 10;
  }
  function naturalKey(id) {
    var key = naturalKeys.get(id);
    if (key) { return key; }
    key = String(id).split(DIGIT_RUN).map(function (part, i) {
      return i % 2 ? [0, BigInt(Array.from(part).map(digitValue).join(""))] : [1, part.toLowerCase()];
    }).filter(function (part) { return part[1] !== ""; });
    naturalKeys.set(id, key);
    return key;
  }
  function byCodePoint(a, b) {  /* Python's str order: UTF-16 units put U+E000..U+FFFF after astral ones */
    var x = Array.from(a), y = Array.from(b);
    for (var i = 0; i < x.length && i < y.length; i += 1) {
      if (x[i] !== y[i]) { return x[i].codePointAt(0) - y[i].codePointAt(0); }
    }
    return x.length - y.length;
  }
  function compareIds(a, b) {
    var x = naturalKey(a[idx.id]), y = naturalKey(b[idx.id]);
    for (var i = 0; i < x.length && i < y.length; i += 1) {
      var c = x[i][0] - y[i][0] || (x[i][0] ? byCodePoint(x[i][1], y[i][1]) : (x[i][1] < y[i][1] ? -1 : (x[i][1] > y[i][1] ? 1 : 0)));
      if (c) { return c; }
    }
    return x.length - y.length || byCodePoint(String(a[idx.id]), String(b[idx.id])) || byCodePoint(String(a[idx.href]), String(b[idx.href]));
  }

  /* An integer written as text (past 2^53, which a double cannot hold) or as a number, as a BigInt;
     null for anything else (a fraction, NaN, a boolean) */
  function exactInteger(value) {
    if (typeof value === "number") { return Number.isInteger(value) ? BigInt(value) : null; }
    return typeof value === "string" && /^-?[0-9]+$/.test(value) ? BigInt(value) : null;
  }

  /* How a numeric column compares, one rule for the whole column: "exact" when every number in it
     is an integer (a count, or a 64-bit id or nanosecond time past 2^53, which a double cannot
     hold: 2^60 + 1 sorts after 2^60), else "double". Mixing the two per pair of cells is no order
     at all (2^53 + 1 would sort after 2^53 while both equal "9007199254740992.0"), and the result
     would depend on the rows' order in the data. */
  function numericKind(i) {
    if (!isNumericColumn(i)) { return ""; }
    for (var r = 0; r < data.rows.length; r += 1) {
      var v = data.rows[r][i];
      if (isEmpty(v) || typeof v === "boolean" || (typeof v === "string" && NONFINITE.test(v))) { continue; }
      if (exactInteger(v) === null) { return "double"; }
    }
    return "exact";
  }

  /* A cell of an "exact" column as [rank, BigInt]: -Infinity, the integers (a boolean as 0 or 1), Infinity; NaN apart */
  function exactKey(value) {
    if (typeof value === "boolean") { return [0, value ? 1n : 0n]; }
    var n = exactInteger(value);
    if (n !== null) { return [0, n]; }
    var d = toNumber(value);
    return d !== d ? null : [d < 0 ? -1 : 1, 0n];
  }

  /* Empty cells last in both directions; in a numeric column NaN just before them */
  function compareExtra(x, y, numeric, dir) {
    var ex = isEmpty(x), ey = isEmpty(y);
    if (ex || ey) { return ex === ey ? 0 : (ex ? 1 : -1); }
    if (!numeric) { return compareText(x, y) * dir; }
    if (numeric === "exact") {
      var kx = exactKey(x), ky = exactKey(y);
      if (kx === null || ky === null) { return kx === ky ? 0 : (kx === null ? 1 : -1); }
      var c = kx[0] - ky[0] || (kx[1] === ky[1] ? 0 : (kx[1] < ky[1] ? -1 : 1));
      return c * dir;
    }
    var a = toNumber(x), b = toNumber(y), na = a !== a, nb = b !== b;
    if (na || nb) { return na === nb ? 0 : (na ? 1 : -1); }
    return (a === b ? 0 : (a < b ? -1 : 1)) * dir;
  }

  /* ---------------------------------------------------------------- the duration column */
  var UTC_TEXT = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;  /* contexts.format_time */
  function utcSeconds(text) {  /* null for an empty or unreadable time */
    var m = UTC_TEXT.exec(typeof text === "string" ? text : "");
    if (!m) { return null; }
    var date = new Date(0);
    date.setUTCFullYear(Number(m[1]), Number(m[2]) - 1, Number(m[3]));  /* not Date.UTC: years 0-99 */
    date.setUTCHours(Number(m[4]), Number(m[5]), Number(m[6]), 0);
    var t = date.getTime();
    return t === t ? t / 1000 : null;
  }

  function durationOf(row) {
    var end = utcSeconds(row[idx.end]), start = utcSeconds(row[idx.start]);
    return end === null || start === null ? null : end - start;
  }

  /* The job page's text for the same seconds (contexts.format_duration): the two largest units */
  function formatDuration(seconds) {
    var whole = Math.round(seconds), days = Math.floor(whole / 86400), rest = whole % 86400;
    var hours = Math.floor(rest / 3600), minutes = Math.floor(rest % 3600 / 60), secs = rest % 60;
    function two(n) { return (n < 10 ? "0" : "") + n; }
    if (days) { return days + " d " + two(hours) + " h"; }
    if (hours) { return hours + " h " + two(minutes) + " min"; }
    return minutes ? minutes + " min " + two(secs) + " s" : secs + " s";
  }

  function durationText(seconds) {  /* a negative one is said in words, not by a colour only */
    if (seconds === null || seconds === undefined) { return ""; }
    return seconds < 0 ? "\u26A0 start after end" : formatDuration(seconds);
  }

  function valueOf(row, name) {  /* an empty first error is no value: it sorts last, as an empty configured cell */
    if (name === DURATION) { return durations.get(row); }
    return name === FIRST_ERROR && row[idx[name]] === "" ? null : row[idx[name]];
  }

  function inRange(row) {  /* the end time's UTC day within from..to, both included */
    if (!state.from && !state.to) { return true; }
    var day = String(row[idx.end] || "").slice(0, 10);
    return DAY.test(day) && (!state.from || day >= state.from) && (!state.to || day <= state.to);
  }

  /* ---------------------------------------------------------------- status changes */
  /* Each job against the job before it in its project with an outcome (ok or failing: a no-data or
     unknown job in between is passed over), by end time (to the second), then by job id in natural
     order (j9 before j10); jobs without an end time take no part */
  function buildBadges() {
    var order = [], marks = data.rows.map(function () { return ""; }), before = null;
    data.rows.forEach(function (row, i) { if (row[idx.end]) { order.push(i); } });
    order.sort(function (a, b) {
      var x = data.rows[a], y = data.rows[b];
      return String(x[idx.end]).localeCompare(String(y[idx.end])) || compareIds(x, y);  /* the feeds' order (feeds.build_time_order) */
    });
    order.forEach(function (i) {
      var now = data.rows[i][idx.status], failing = own(FAILING, now);
      if (!failing && now !== "ok") { return; }  /* no outcome: neither marked nor the next one's "before" */
      if (before !== null && failing && !before) { marks[i] = "newly-failing"; }
      if (before === true && now === "ok") { marks[i] = "recovered"; }
      before = failing;
    });
    return marks;
  }

  function matchesStatus(row, i) {
    if (state.status === "status-change") { return badges[i] !== ""; }
    if (own(CHANGES, state.status)) { return badges[i] === state.status; }
    return row[idx.status] === state.status;
  }

  function changeOptions() {  /* after the statuses in the select: the changes, which filter on the badges */
    var select = document.getElementById("catalog-status"), group = document.createElement("optgroup");
    group.label = "Status changes";
    [["status-change", "newly failing or recovered"], ["newly-failing", "newly failing"], ["recovered", "recovered"]].forEach(function (o) {
      var option = document.createElement("option"); option.value = o[0]; option.textContent = o[1] + " (" + countChanges(o[0]) + ")";
      group.appendChild(option);
    });
    select.appendChild(group);
  }

  /* The statuses some job has, each with its count ("failed-nodes (8)"), "all" first; a status
     no job has is taken out of the list but kept: an address naming it (an old link) puts it back,
     with "(0)", and shows no job */
  var unused = [];  /* the options taken out */
  function statusOptions() {
    var select = document.getElementById("catalog-status"), counts = {};
    data.rows.forEach(function (row) { var s = "=" + row[idx.status]; counts[s] = (counts[s] || 0) + 1; });
    Array.prototype.slice.call(select.options).forEach(function (option) {
      if (option.value === "") { return; }
      var n = counts["=" + option.value] || 0;
      option.textContent = option.value + " (" + n + ")";
      if (!n) { unused.push(option); select.removeChild(option); }
    });
  }

  function countChanges(value) {
    return badges.filter(function (mark) { return value === "status-change" ? mark !== "" : mark === value; }).length;
  }

  function statusOption(name) {  /* name when one of the select's options (or put back), else "" (all) */
    var select = document.getElementById("catalog-status"), options = select.options;
    for (var i = 0; i < options.length; i += 1) { if (options[i].value === name) { return name; } }
    var back = unused.filter(function (option) { return option.value === name; })[0];
    if (!back) { return ""; }
    select.insertBefore(back, select.querySelector("optgroup"));
    return name;
  }

  function readHash() {  /* absent keys mean the defaults, so an edited address is the whole view */
    var params = new URLSearchParams(window.location.hash.replace(/^#/, ""));
    state.sort = isSortColumn(params.get("sort")) ? params.get("sort") : "end";
    state.dir = params.get("dir") === "asc" || params.get("dir") === "desc" ? params.get("dir") : "desc";
    state.status = params.get("status") ? statusOption(params.get("status")) : "";
    state.q = params.get("q") || "";
    state.from = DAY.test(params.get("from") || "") ? params.get("from") : "";
    state.to = DAY.test(params.get("to") || "") ? params.get("to") : "";
    state.page = Math.max(1, parseInt(params.get("page") || "1", 10) || 1);
    var size = parseInt(params.get("size") || "50", 10);
    state.size = [50, 100, 500].indexOf(size) >= 0 ? size : 50;
    var hide = (params.get("hide") || "").split(",");  /* kept in column order, known columns only, never the id */
    state.hide = cols.filter(function (c) { return c !== "id" && hide.indexOf(c) >= 0; });
  }

  function writeHash(mode) {  /* "push": a new history entry; "replace": rewrite this one; "none" */
    if (mode === "none") { return; }
    var params = new URLSearchParams();
    params.set("sort", state.sort); params.set("dir", state.dir);
    if (state.status) { params.set("status", state.status); }
    if (state.q) { params.set("q", state.q); }
    if (state.from) { params.set("from", state.from); }
    if (state.to) { params.set("to", state.to); }
    if (state.page > 1) { params.set("page", String(state.page)); }
    if (state.size !== 50) { params.set("size", String(state.size)); }
    if (state.hide.length) { params.set("hide", state.hide.join(",")); }
    var hash = "#" + params.toString(), entry = window.history.state;
    if (window.location.hash !== hash) {
      if (mode === "push" && !here.duplicate) {
        window.history.pushState({ base: window.location.hash }, "", hash);
      } else {  /* an entry that repeats the one before it is reused, not pushed after */
        window.history.replaceState(entry, "", hash);
      }
    }
    rendered = hash;
    seeEntry();
  }

  /* An entry this script pushed remembers the address it was pushed from ({base: hash}). When it
     shows that address again, it repeats the entry before it: a search typed and cleared again
     does so (see search). A browser cannot drop an entry (history.back() is asynchronous and would
     race the next change), so the next change reuses such an entry instead of pushing after it,
     and a Back or Forward step between it and its twin, which changes nothing on screen, takes
     one more step the same way (restore). */
  function isDuplicate(entry, hash) {
    return entry !== null && typeof entry === "object" && entry.base === hash;
  }

  function seeEntry() {
    here = { hash: window.location.hash, duplicate: isDuplicate(window.history.state, window.location.hash) };
  }

  function compute() {
    var q = state.q.toLowerCase(), name = state.sort;
    var dir = state.dir === "asc" ? 1 : -1, numeric = NUMERIC[state.sort];
    var extra = own(EXTRA, state.sort) || name === DURATION || name === FIRST_ERROR;
    shown = []; rowIndex = new Map();
    for (var i = 0; i < data.rows.length; i += 1) {
      var row = data.rows[i];
      if (state.status && !matchesStatus(row, i)) { continue; }
      if (q && haystack[i].indexOf(q) < 0) { continue; }
      if (!inRange(row)) { continue; }
      shown.push(row);
      rowIndex.set(row, i);
    }
    shown.sort(function (a, b) {
      var x = valueOf(a, name), y = valueOf(b, name);
      var c = extra ? compareExtra(x, y, numeric, dir) : (numeric ? x - y : String(x).localeCompare(String(y))) * dir;
      return c || compareIds(a, b);
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
    visible().forEach(function (name) {
      var th = document.createElement("th"); th.scope = "col";
      var button = document.createElement("button"); button.type = "button";
      if (window.reportgenTimes) { button.appendChild(window.reportgenTimes.label(label(name))); } else { button.textContent = label(name); }
      button.setAttribute("data-sort", name);
      if (own(EXTRA, name)) { button.title = String(EXTRA[name].source); }
      if (name === state.sort) { th.setAttribute("aria-sort", state.dir === "asc" ? "ascending" : "descending"); }
      button.addEventListener("click", function () {
        if (state.sort === name) { state.dir = state.dir === "asc" ? "desc" : "asc"; } else { state.sort = name; state.dir = "asc"; }
        state.page = 1; change();
      });
      th.appendChild(button); tr.appendChild(th);
    });
    thead.appendChild(tr); table.appendChild(thead);
  }

  function body(table, rows) {
    var tbody = document.createElement("tbody");
    rows.forEach(function (row) {
      var tr = document.createElement("tr"); tr.className = "row-link";
      visible().forEach(function (name) {
        var value = valueOf(row, name);
        if (name === "id") {
          var td = cell(tr, "", ""), a = document.createElement("a");
          td.appendChild(tickBox(row[idx.href], value));
          a.href = row[idx.href]; a.textContent = value; td.appendChild(a);
        } else if (name === "status") {
          var s = cell(tr, "", "status-cell"), span = document.createElement("span");
          span.className = "status status-" + value; span.textContent = value; s.appendChild(span);
          var mark = badges[rowIndex.get(row)];
          if (mark) {  /* a space first: read and copied as two words, not "failed-nodesnewly failing" */
            var badge = document.createElement("span"); badge.className = "badge badge-" + mark; badge.textContent = CHANGES[mark];
            s.appendChild(document.createTextNode(" ")); s.appendChild(badge);
          }
        } else if (own(EXTRA, name)) { extraCell(tr, value, NUMERIC[name]);
        } else if (name === FIRST_ERROR) { longCell(tr, value === null ? "" : String(value), "first-error");
        } else if (name === "workflow" || name === "params") { oneLineCell(tr, value);
        } else if (name === "end" || name === "start") { timeCell(tr, value);
        } else if (name === DURATION) { cell(tr, durationText(value), value < 0 ? "num duration skew" : "num duration");
        } else { cell(tr, value, NUMERIC[name] ? "num" : ""); }
      });
      tbody.appendChild(tr);
    });
    table.appendChild(tbody);
  }

  /* A time as a <time> element (assets/times.js shows it in UTC or the browser's zone); the
     sorting and the search stay on the UTC text of the row */
  function timeCell(tr, value) {
    if (!window.reportgenTimes) { return cell(tr, value, "time"); }
    var td = cell(tr, "", "time");
    td.appendChild(window.reportgenTimes.element(value));
    return td;
  }

  /* A long text (a list parameter of 40 values) is shown in two lines and an ellipsis, whole in
     its tooltip and to a screen reader: unclamped, one cell made every row a screen tall */
  var LONG_TEXT = 40;
  function longCell(tr, text, className) {
    if (text.length <= LONG_TEXT) { return cell(tr, text, className); }
    var td = cell(tr, "", className), clamp = document.createElement("span");
    clamp.className = "clamp"; clamp.textContent = text;
    td.title = text; td.appendChild(clamp);
    return td;
  }

  /* A commit ("5af7f81 Edit parameters (3)") is one line, its subject cut with an ellipsis and
     whole in the tooltip: wrapped, it made a row four lines tall */
  function oneLineCell(tr, text) {
    var td = cell(tr, "", "commit"), line = document.createElement("span");
    line.className = "one-line"; line.textContent = text;
    td.title = text; td.appendChild(line);
    return td;
  }

  /* ---------------------------------------------------------------- the site's search */
  /* The box searches the rows' own texts; a log line or a parameter is found by search.html, which
     this link opens with the same words, on this project when the page's folder is a project slug
     (search.html shows every project for a slug it does not know). */
  var PROJECT_SLUG = /^[a-z0-9_][a-z0-9._-]{0,200}$/;
  function projectSlug() {
    var parts = window.location.pathname.split("/"), slug = "";
    try { slug = decodeURIComponent(parts[parts.length - 2] || ""); } catch (e) { slug = ""; }
    return PROJECT_SLUG.test(slug) ? slug : "";
  }

  function siteSearchLink(words) {
    var holder = document.getElementById("catalog-search-more"), params = new URLSearchParams();
    var a = document.createElement("a"), slug = projectSlug();
    params.set("q", words);
    if (slug) { params.set("project", slug); }
    a.href = (holder ? holder.getAttribute("data-search") : "../search.html") + "#" + params.toString();
    a.className = "site-search-link";
    a.textContent = "Search logs and parameters of every job for ‘" + words + "’";
    return a;
  }

  function showSiteSearch() {  /* under the box while it holds words; in the empty table's place too */
    var holder = document.getElementById("catalog-search-more"), words = state.q.trim();
    if (!holder) { return; }
    holder.textContent = "";
    holder.hidden = words === "";
    if (words) { holder.appendChild(siteSearchLink(words)); }
  }

  /* An empty cell is an em dash; why it is empty is its tooltip and, for a screen reader, its text */
  function extraCell(tr, value, numeric) {
    if (!isEmpty(value)) { return longCell(tr, cellText(value), numeric ? "num" : ""); }
    var reason = value && typeof value.why === "string" ? value.why : "no value";
    var td = cell(tr, "", "empty"), dash = document.createElement("span"), says = document.createElement("span");
    dash.textContent = "\u2014"; dash.setAttribute("aria-hidden", "true");
    says.className = "visually-hidden"; says.textContent = "no value: " + reason;
    td.title = reason; td.appendChild(dash); td.appendChild(says);
    return td;
  }

  /* ---------------------------------------------------------------- the "Columns" chooser */
  function chooser() {
    var form = document.getElementById("catalog-controls");
    if (!form || document.getElementById("catalog-columns")) { return; }
    var details = document.createElement("details"), summary = document.createElement("summary");
    var fieldset = document.createElement("fieldset"), legend = document.createElement("legend");
    details.className = "catalog-columns"; details.id = "catalog-columns";
    summary.textContent = "Columns"; legend.textContent = "Show these columns (the job id always shows)";
    details.appendChild(summary); fieldset.appendChild(legend);
    cols.forEach(function (name) {
      if (name === "id") { return; }
      var item = document.createElement("label"), box = document.createElement("input");
      box.type = "checkbox"; box.setAttribute("data-column", name);
      box.addEventListener("change", function () {
        state.hide = cols.filter(function (c) {
          return c !== "id" && (c === name ? !box.checked : state.hide.indexOf(c) >= 0);
        });
        change();
      });
      item.appendChild(box); item.appendChild(document.createTextNode(" " + label(name)));
      fieldset.appendChild(item);
    });
    details.appendChild(fieldset);
    form.parentNode.insertBefore(details, form.nextSibling);
  }

  /* The pager's buttons are made anew on each redraw; its line of counts is made once, a live
     region (role=status), and only its text changes: a screen reader reads out what a search, a
     status or a date did ("10 of 12 jobs", "No job matches."), as search.html does its count. A
     region made anew each time is not read out. */
  function pager(pages) {
    var nav = document.getElementById("catalog-pager"), info = document.getElementById("catalog-info");
    if (!info) {
      info = document.createElement("span"); info.id = "catalog-info"; info.setAttribute("role", "status");
      nav.appendChild(info);
    }
    Array.prototype.slice.call(nav.children).forEach(function (child) { if (child !== info) { nav.removeChild(child); } });
    function button(text, name, page, disabled, after) {
      var b = document.createElement("button"); b.type = "button"; b.textContent = text; b.disabled = disabled;
      b.setAttribute("data-pager", name);
      b.addEventListener("click", function () { state.page = page; change(); });
      nav.insertBefore(b, after ? null : info);
    }
    button("\u00AB first", "first", 1, state.page <= 1);
    button("\u2039 prev", "prev", state.page - 1, state.page <= 1);
    var text = "page " + state.page + " of " + pages + " \u00B7 " + shown.length + " of " + data.rows.length + " " +
      plural(data.rows.length, "job") + (shown.length ? "" : ": " + document.getElementById("catalog").getAttribute("data-empty"));
    if (info.textContent !== text) { info.textContent = text; }  /* once per redraw, and only a change */
    button("next \u203A", "next", state.page + 1, state.page >= pages, true);
    button("last \u00BB", "last", pages, state.page >= pages, true);
  }

  /* The table and the pager are drawn anew on each change, which removes the button that was
     clicked: a keyboard or screen-reader user would be thrown back to the top of the page. So the
     control that had focus is named before the redraw and its new copy focused after it (a pager
     button that is now disabled, such as "next" on the last page, hands focus to the first enabled
     one). */
  function focusedControl() {
    var el = document.activeElement;
    if (!el || el.tagName !== "BUTTON") { return null; }
    if (el.hasAttribute("data-sort")) { return ["data-sort", el.getAttribute("data-sort")]; }
    if (el.hasAttribute("data-pager")) { return ["data-pager", el.getAttribute("data-pager")]; }
    return null;
  }

  function refocus(control) {
    if (!control) { return; }
    var scope = control[0] === "data-sort" ? document.getElementById("catalog") : document.getElementById("catalog-pager");
    var buttons = Array.prototype.slice.call(scope.querySelectorAll("button[" + control[0] + "]"));
    var same = buttons.filter(function (b) { return b.getAttribute(control[0]) === control[1] && !b.disabled; })[0];
    var target = same || buttons.filter(function (b) { return !b.disabled; })[0];
    if (target) { target.focus(); }
  }

  function update(mode) {
    var control = focusedControl();
    compute();
    var pages = Math.max(1, Math.ceil(shown.length / state.size));
    state.page = Math.min(state.page, pages);
    var box = document.getElementById("catalog"), table = document.createElement("table");
    table.className = "grid"; table.id = "catalog-table";
    header(table);
    body(table, shown.slice((state.page - 1) * state.size, state.page * state.size));
    var scroller = document.createElement("div");  /* a wide table scrolls here, never the page */
    scroller.className = "table-scroll"; scroller.appendChild(table);
    box.textContent = "";
    box.appendChild(scroller);
    if (!shown.length) {
      var p = document.createElement("p"), words = state.q.trim();
      p.className = "empty"; p.textContent = box.getAttribute("data-empty");
      if (words) { p.appendChild(document.createTextNode(" ")); p.appendChild(siteSearchLink(words)); p.appendChild(document.createTextNode(".")); }
      box.appendChild(p);
    }
    showSiteSearch();
    pager(pages);
    refocus(control);
    writeHash(mode);
  }

  function change() {  /* a discrete change: it ends any search in progress and is one entry */
    searching = false; update("push");
  }

  /* Typing a search is one history entry, not one per key: the first change of a search pushes
     an entry (so Back returns to the view before it) and the following keys replace that entry.
     The search ends, and the next typing starts a new entry, on Enter, when the box loses focus,
     or on any other change (sort, status, page, size, Back/Forward). Pushing at the start rather
     than on a pause keeps the address right at every moment: a link copied mid-search is the view,
     and Back pressed while typing returns to the view before the search. A search typed and
     cleared again leaves an entry equal to the one before it: see isDuplicate. */
  function search(value) {
    var before = window.location.hash;
    state.q = value; state.page = 1;
    update(searching ? "replace" : "push");
    searching = searching || window.location.hash !== before;  /* no entry yet: the next key pushes */
  }

  function restore() {  /* Back, Forward or an edited address: the hash is the view to show */
    window.clearTimeout(timer); timer = null; searching = false;  /* a search typed before Back is dropped */
    var left = here;
    seeEntry();
    if (left.hash === here.hash && here.duplicate !== left.duplicate) {  /* a step between twins */
      if (here.duplicate) { window.history.forward(); } else { window.history.back(); }
      return;
    }
    if (window.location.hash === rendered || namesElement(window.location.hash)) { return; }
    readHash(); syncControls(); update("replace");
  }

  function syncControls() {
    document.getElementById("catalog-search").value = state.q;
    document.getElementById("catalog-status").value = state.status;
    document.getElementById("catalog-size").value = String(state.size);
    document.getElementById("catalog-from").value = state.from;
    document.getElementById("catalog-to").value = state.to;
    Array.prototype.forEach.call(document.querySelectorAll("#catalog-columns input[data-column]"), function (box) {
      box.checked = state.hide.indexOf(box.getAttribute("data-column")) < 0;
    });
  }

  /* ---------------------------------------------------------------- compare runs */
  function slugOf(href) { return String(href).replace(/\.html$/, ""); }  /* href is "<slug>.html" (the manifest checks) */

  /* The stored ticks, trusted for nothing: storage another page or an extension wrote, or one
     left by an older build, gives only the slugs of this catalog's rows, once each, at most 8;
     anything unreadable gives none. Storage that throws (disabled, sandboxed) gives none too. */
  function readTicks() {
    var known = {}, kept = [];
    data.rows.forEach(function (row) { known["=" + slugOf(row[idx.href])] = true; });
    try {
      var stored = JSON.parse(window.sessionStorage.getItem(TICKS_KEY) || "[]");
      if (!Array.isArray(stored)) { return []; }
      stored.forEach(function (slug) {
        if (typeof slug === "string" && known["=" + slug] && kept.indexOf(slug) < 0 && kept.length < COMPARE_MAX) { kept.push(slug); }
      });
    } catch (e) { return []; }
    return kept;
  }

  function saveTicks() {  /* best effort: without storage the ticks last as long as the page */
    try {
      if (ticked.length) { window.sessionStorage.setItem(TICKS_KEY, JSON.stringify(ticked)); } else { window.sessionStorage.removeItem(TICKS_KEY); }
    } catch (e) { /* storage full, disabled or sandboxed */ }
  }

  function setTick(slug, on) {  /* false when refused: at most COMPARE_MAX jobs are ticked */
    var at = ticked.indexOf(slug);
    if (on && at < 0) {
      if (ticked.length >= COMPARE_MAX) { return false; }
      ticked.push(slug);
    } else if (!on && at >= 0) { ticked.splice(at, 1); }
    return true;
  }

  function tickBox(href, id) {
    var slug = slugOf(href), box = document.createElement("input");
    box.type = "checkbox"; box.className = "compare-tick"; box.value = slug;
    box.checked = ticked.indexOf(slug) >= 0;
    box.setAttribute("aria-label", "compare " + id);
    box.addEventListener("change", function () {
      var refused = !setTick(slug, box.checked);
      if (refused) { box.checked = false; }
      saveTicks();
      compareBar(refused ? "At most " + COMPARE_MAX + " jobs are compared: untick one to tick " + id + "." : "");
    });
    return box;
  }

  /* Ticks the unticked jobs of the page shown, top down, until COMPARE_MAX are ticked */
  function tickPage() {
    var boxes = document.querySelectorAll("#catalog-table input.compare-tick"), added = 0, left = 0;
    Array.prototype.forEach.call(boxes, function (box) {
      if (box.checked) { return; }
      if (setTick(box.value, true)) { box.checked = true; added += 1; } else { left += 1; }
    });
    saveTicks();
    compareBar(left ? "Ticked " + added + " more; at most " + COMPARE_MAX + " jobs are compared, so " + left +
      " of this page " + (left === 1 ? "is" : "are") + " left unticked." : "");
  }

  function compareBar(notice) {
    var link = document.getElementById("compare-link"), hint = document.getElementById("compare-hint");
    if (!link) { return; }
    var n = ticked.length, ready = n >= COMPARE_MIN && n <= COMPARE_MAX;
    link.textContent = "Compare (" + n + ")";
    if (ready) {
      link.href = "compare.html#jobs=" + ticked.join(",");
      link.removeAttribute("aria-disabled");
    } else {
      link.removeAttribute("href");
      link.setAttribute("aria-disabled", "true");
    }
    hint.textContent = notice || (n < COMPARE_MIN ? "Tick " + COMPARE_MIN + " to " + COMPARE_MAX + " jobs to compare them side by side." :
      n + " " + plural(n, "job") + " ticked" + (n === COMPARE_MAX ? " (the most that are compared)." : "."));
    document.getElementById("compare-clear").hidden = n === 0;
  }

  /* "Clear ticks" hides itself (nothing left to clear): focus moves first to "Tick all on this page"
     beside it, so a keyboard user is not thrown back to the top of the page. */
  function clearTicks() {
    ticked = [];
    Array.prototype.forEach.call(document.querySelectorAll("input.compare-tick"), function (box) { box.checked = false; });
    saveTicks();
    var clear = document.getElementById("compare-clear"), tickAll = document.getElementById("compare-tick-page");
    if (tickAll && document.activeElement === clear) { tickAll.focus(); }
    compareBar("");
  }

  function start() {
    if (!data) { return; }
    cols = data.columns.filter(function (c) { return c !== "href"; });
    idx = {}; data.columns.forEach(function (c, i) { idx[c] = i; });
    if (own(idx, "end") && own(idx, "start") && !own(idx, DURATION)) {
      cols.splice(cols.indexOf("start") + 1, 0, DURATION);
      NUMERIC[DURATION] = "double";
      data.rows.forEach(function (row) { durations.set(row, durationOf(row)); });
    }
    badges = buildBadges();
    statusOptions();
    changeOptions();
    (Array.isArray(data.extra) ? data.extra : []).forEach(function (c) {
      if (c && typeof c.key === "string" && own(idx, c.key) && !own(LABELS, c.key)) {
        EXTRA[c.key] = c; NUMERIC[c.key] = numericKind(idx[c.key]);
      }
    });
    haystack = data.rows.map(function (row, i) {  // the shown columns only: the page link is no text to match
      var texts = cols.map(function (c) {
        return c === DURATION ? durationText(durations.get(row)) : own(EXTRA, c) ? cellText(row[idx[c]]) : row[idx[c]];
      });
      if (badges[i]) { texts.push(CHANGES[badges[i]]); }
      return texts.join("\u0001").toLowerCase();
    });
    var box = document.getElementById("catalog-search");
    function flush() {  /* apply a search still waiting for its pause, then end the search */
      if (timer !== null) { window.clearTimeout(timer); timer = null; search(box.value); }
      searching = false;
    }
    box.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { timer = null; search(box.value); }, 120);
    });
    box.addEventListener("blur", flush);
    document.getElementById("catalog-status").addEventListener("change", function (e) { flush(); state.status = e.target.value; state.page = 1; change(); });
    document.getElementById("catalog-size").addEventListener("change", function (e) { flush(); state.size = parseInt(e.target.value, 10); state.page = 1; change(); });
    ["from", "to"].forEach(function (end) {  /* a day typed or picked; cleared: no bound */
      document.getElementById("catalog-" + end).addEventListener("change", function (e) {
        flush(); state[end] = DAY.test(e.target.value) ? e.target.value : ""; state.page = 1; change();
      });
    });
    document.getElementById("catalog-controls").addEventListener("submit", function (e) { e.preventDefault(); flush(); });
    document.getElementById("compare-clear").addEventListener("click", clearTicks);
    var tickAll = document.getElementById("compare-tick-page");
    if (tickAll) { tickAll.addEventListener("click", tickPage); }
    ticked = readTicks();  /* a reload, or Back from compare.html: the ticks of this tab */
    window.addEventListener("popstate", restore);
    window.addEventListener("hashchange", restore);  /* both may fire for one step: restore is idempotent */
    chooser();
    var opened = namesElement(window.location.hash);
    readHash(); syncControls(); seeEntry();  /* a reload keeps the entry's state */
    update(opened ? "none" : "replace");  /* loading adds no entry; it only spells out the view */
    compareBar("");
  }

  document.addEventListener("DOMContentLoaded", start);
}());
