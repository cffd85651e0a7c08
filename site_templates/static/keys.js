/* Keyboard: "/" focuses the search box; j/k move between rows; Enter opens the current row.
   Also the copy buttons of the h5py snippets, and links to a log line: the folded log that
   holds the target is opened (Chromium does this itself; older Firefox and Safari do not). */
(function () {
  "use strict";
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("tr.row-link")); }
  function move(step) {
    var all = rows(); if (!all.length) { return; }
    var at = all.findIndex(function (r) { return r.classList.contains("current"); });
    var next = Math.max(0, Math.min(all.length - 1, at + step));
    if (at >= 0) { all[at].classList.remove("current"); }
    all[next].classList.add("current");
    var link = all[next].querySelector("a"); if (link) { link.focus(); }
  }
  document.addEventListener("keydown", function (event) {
    var tag = (event.target && event.target.tagName) || "";
    if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA" || event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (event.key === "/") {
      var search = document.getElementById("catalog-search");
      if (search) { event.preventDefault(); search.focus(); }
    } else if (event.key === "j") { move(1); } else if (event.key === "k") { move(-1); }
  });
  function revealTarget() {
    var id = window.location.hash.slice(1), target = null;
    try { target = id && document.getElementById(decodeURIComponent(id)); } catch (e) { return; }  /* "#%E0" */
    if (!target) { return; }  /* a catalog's hash is its view state, not an id */
    var folded = false;
    for (var box = target.closest("details"); box; box = box.parentElement && box.parentElement.closest("details")) {
      if (!box.open) { box.open = true; folded = true; }
    }
    if (folded) { target.scrollIntoView({block: "center"}); }
  }
  window.addEventListener("hashchange", revealTarget);
  revealTarget();
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button.copy") : null;
    if (!button) { return; }
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) { return; }
    source.select();
    var done = function () { button.textContent = "Copied"; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(source.value).then(done, function () { document.execCommand("copy"); done(); });
    } else { document.execCommand("copy"); done(); }
  });
}());
