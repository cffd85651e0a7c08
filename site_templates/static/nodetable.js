/* The node table of a job split into node pages (more than 64 nodes): a page of rows at a time,
   a filter box ("/" focuses it, as the catalog's search box) and "only nodes with problems".
   Every row stays in the HTML, so without JavaScript the table is whole and each node reachable;
   here rows are only hidden, and keys.js and render.js still find every one (a link made before
   the split is sent on from its row).  A row that is the target of the address
   (job.html#node-<slug>) or gets focus (j/k of keys.js) is first put on the page shown. */
(function () {
  "use strict";
  var table = document.querySelector("table.node-table");
  if (!table || !table.tBodies.length) { return; }
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);
  var controls = document.getElementById("node-table-controls"), nav = document.getElementById("node-table-pager");
  var search = document.getElementById("catalog-search"), problems = document.getElementById("node-table-problems");
  var size = document.getElementById("node-table-size"), status = document.getElementById("node-table-status");
  var texts = null;  /* each row's text in lower case, made on the first filtering */
  var state = { page: 0, shown: rows };

  function button(text, step) {
    var b = document.createElement("button"); b.type = "button"; b.textContent = text;
    b.addEventListener("click", function () { state.page += step === "first" ? -state.page : step === "last" ? 1e9 : step; show(); });
    nav.appendChild(b);
    return b;
  }
  var info = document.createElement("span");
  var buttons = [button("\u00AB first", "first"), button("\u2039 prev", -1)];
  nav.appendChild(info);
  buttons.push(button("next \u203A", 1), button("last \u00BB", "last"));
  var empty = document.createElement("p"); empty.className = "empty"; empty.textContent = table.getAttribute("data-empty");
  empty.hidden = true; table.parentNode.insertBefore(empty, nav);

  function perPage() { return Number(size.value) || rows.length || 1; }

  function matching() {
    var query = search.value.trim().toLowerCase(), only = problems.checked;
    if (!query && !only) { return rows; }
    texts = texts || rows.map(function (row) { return row.textContent.toLowerCase(); });
    return rows.filter(function (row, i) {
      return (!only || row.querySelector("td[data-problems]")) && (!query || texts[i].indexOf(query) >= 0);
    });
  }

  function show() {  /* only the rows whose state changes are touched: 20,000 rows stay quick */
    var per = perPage(), pages = Math.max(1, Math.ceil(state.shown.length / per));
    state.page = Math.max(0, Math.min(state.page, pages - 1));
    var visible = new Set(state.shown.slice(state.page * per, (state.page + 1) * per));
    rows.forEach(function (row) { var hide = !visible.has(row); if (row.hidden !== hide) { row.hidden = hide; } });
    info.textContent = "page " + (state.page + 1) + " of " + pages + " \u00B7 " + state.shown.length + " of " + rows.length + " nodes";
    status.textContent = state.shown.length === rows.length ? "" : state.shown.length + " match";
    buttons[0].disabled = buttons[1].disabled = state.page === 0;
    buttons[2].disabled = buttons[3].disabled = state.page >= pages - 1;
    nav.hidden = pages === 1 && state.shown.length === rows.length;
    empty.hidden = state.shown.length > 0;
  }

  function filter() { state.shown = matching(); state.page = 0; show(); }

  function bringIn(row) {  /* the page that holds row, clearing a filter that hides it */
    var at = state.shown.indexOf(row);
    if (at < 0) { search.value = ""; problems.checked = false; state.shown = rows; at = rows.indexOf(row); }
    state.page = Math.floor(at / perPage());
    show();
  }

  function revealTarget() {
    var id = "", row = null;
    try { id = decodeURIComponent(window.location.hash.slice(1)); } catch (e) { return; }  /* "#%E0" */
    row = id ? document.getElementById(id) : null;
    if (!row || row.parentNode !== table.tBodies[0]) { return; }
    if (row.hidden) { bringIn(row); }
    row.scrollIntoView({ block: "center" });
  }

  search.addEventListener("input", filter);
  problems.addEventListener("change", filter);
  size.addEventListener("change", function () { state.page = 0; show(); });
  controls.addEventListener("submit", function (event) { event.preventDefault(); });
  /* j/k of keys.js mark the next row "current" and focus its link, which a hidden row cannot take */
  new MutationObserver(function (changes) {
    changes.forEach(function (change) {
      var row = change.target;
      if (row.hidden && row.classList.contains("current")) { bringIn(row); var link = row.querySelector("a"); if (link) { link.focus(); } }
    });
  }).observe(table.tBodies[0], { subtree: true, attributes: true, attributeFilter: ["class"] });
  window.addEventListener("hashchange", revealTarget);
  controls.hidden = false;
  show();
  revealTarget();
})();
