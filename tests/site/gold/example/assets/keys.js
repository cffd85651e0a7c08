/* Keyboard: "/" focuses the search box; j/k move between rows; Enter opens the current row.
   Also the copy buttons of the h5py snippets. */
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
