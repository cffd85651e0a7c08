/* Keyboard: "/" focuses the page's search or filter box (the first search box of a search form:
   the catalog's, a split job's node table's, the trends page's output filter); j/k move between
   rows; Enter opens the current row; x ticks or unticks the current row for comparison (a
   catalog's tick box: the click runs the catalog's own handler, so its limit, storage and hint
   apply as to a mouse click); a control with data-key and data-key-help (the catalog's Compare
   link: "c") is clicked by its key while enabled;
   "?" opens a help dialog listing the keys this page supports (built here, so every page that
   loads this script has it, with no template change and no fetch: it works from file://).
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
  function tick() {
    var row = document.querySelector("tr.row-link.current"), box = row && row.querySelector("input.compare-tick");
    if (box) { box.click(); }
  }
  /* A control a page names with data-key="c" (the catalog's Compare link) and data-key-help: its
     key clicks it while it is enabled (not aria-disabled), and "?" lists it */
  function keyed() { return Array.prototype.slice.call(document.querySelectorAll("[data-key][data-key-help]")); }
  function follow(key) {
    var target = keyed().filter(function (el) { return el.getAttribute("data-key") === key; })[0];
    if (!target || target.getAttribute("aria-disabled") === "true") { return false; }
    target.click();
    return true;
  }
  function searchBox() { return document.querySelector('form[role="search"] input[type="search"]'); }
  function helpKeys() {  /* only the keys that do something on this page */
    var keys = [], search = searchBox();
    if (search) { keys.push([["/"], search.getAttribute("data-key-help") || "focus the search box"]); }
    if (rows().length) { keys.push([["j", "k"], "move to the next / previous row"], [["Enter"], "open the current row's page"]); }
    if (document.querySelector("tr.row-link input.compare-tick")) { keys.push([["x"], "tick or untick the current row to compare it"]); }
    keyed().forEach(function (el) { keys.push([[el.getAttribute("data-key")], el.getAttribute("data-key-help")]); });
    if (document.getElementById("trends-point")) {  /* a trends page (its figures' live region): known before any figure is drawn */
      keys.push([["\u2190", "\u2192"], "in a focused trend figure: the previous / next job's point"],
        [["Home", "End"], "in a focused trend figure: the first / last point"],
        [["Enter"], "in a focused trend figure: open the point's job"]);
    }
    keys.push([["?"], "show this help"], [["Esc"], "close this help"]);
    return keys;
  }
  function buildHelp() {
    var dialog = document.createElement("dialog"), title = document.createElement("h2");
    dialog.id = "keys-help"; dialog.className = "keys-help"; dialog.setAttribute("aria-labelledby", "keys-help-title");
    title.id = "keys-help-title"; title.textContent = "Keyboard shortcuts";
    var list = document.createElement("dl");
    helpKeys().forEach(function (entry) {
      var dt = document.createElement("dt"), dd = document.createElement("dd");
      entry[0].forEach(function (key, i) {
        if (i) { dt.appendChild(document.createTextNode(" / ")); }
        var kbd = document.createElement("kbd"); kbd.textContent = key; dt.appendChild(kbd);
      });
      dd.textContent = entry[1];
      list.appendChild(dt); list.appendChild(dd);
    });
    var close = document.createElement("button");
    close.type = "button"; close.className = "keys-help-close"; close.textContent = "Close";
    close.addEventListener("click", function () { dialog.close(); });
    dialog.appendChild(title); dialog.appendChild(list); dialog.appendChild(close);
    document.body.appendChild(dialog);
    return dialog;
  }
  var help = null, returnTo = null;
  function openHelp() {
    help = help || buildHelp();
    if (help.open) { return; }
    returnTo = document.activeElement;
    help.addEventListener("close", function () {  /* Escape or the button: back where the user was */
      if (returnTo && returnTo.focus && document.contains(returnTo)) { returnTo.focus(); }
    }, { once: true });
    help.showModal();  /* modal: Escape closes it, focus stays inside, the page behind is inert */
    help.querySelector("button").focus();
  }
  document.addEventListener("keydown", function (event) {
    var tag = (event.target && event.target.tagName) || "";
    /* AltGr is reported as Ctrl+Alt on Windows: "?" is AltGr+W on a Brazilian ABNT2 keyboard */
    var altGrQuestion = event.key === "?" && event.ctrlKey && event.altKey;
    if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA" || (event.target && event.target.isContentEditable) ||
        event.metaKey || ((event.ctrlKey || event.altKey) && !altGrQuestion)) { return; }
    if (help && help.open) { return; }  /* the page behind the help is inert: j/k would focus nothing */
    if (event.key === "?") {  /* Shift+/ on a US layout; other layouts type "?" their own way */
      event.preventDefault(); openHelp();
    } else if (event.key === "/") {
      var search = searchBox();
      if (search) { event.preventDefault(); search.focus(); }
    } else if (event.key === "j") { move(1); } else if (event.key === "k") { move(-1); } else if (event.key === "x") { tick(); } else if (follow(event.key)) { event.preventDefault(); }
  });
  function toNodePage(id) {
    /* A job too big for one page lists its nodes as links to their own pages: a link made
       before the split to a log line (job.html#node-x-L12) goes on to node x's page.  "-L"
       never occurs in a node's slug (lowercase), nor "-tail" at its end. */
    var cut = id.search(/(-tail)?-L[0-9]+$/);
    if (cut <= 0) { return; }
    var links = document.querySelectorAll("a[data-anchor]");
    for (var i = 0; i < links.length; i++) {
      if (links[i].getAttribute("data-anchor") === id.slice(0, cut)) {
        window.location.replace(links[i].href.split("#")[0] + "#" + id); return;
      }
    }
  }
  function revealTarget() {
    var id = window.location.hash.slice(1), target = null;
    try { target = id && document.getElementById(decodeURIComponent(id)); } catch (e) { return; }  /* "#%E0" */
    if (!target) { toNodePage(id); return; }  /* a catalog's hash is its view state, not an id */
    var folded = false;
    for (var box = target.closest("details"); box; box = box.parentElement && box.parentElement.closest("details")) {
      if (!box.open) { box.open = true; folded = true; }
    }
    if (folded) { target.scrollIntoView({block: "center"}); }
  }
  window.addEventListener("hashchange", revealTarget);
  revealTarget();
  /* Copy (the h5py snippets): the clipboard API first (file:// is a secure context), so the focus
     stays on the button; only the old execCommand fallback must select the text, in its hidden
     textarea (aria-hidden: a screen reader heard nothing there), and the focus goes back to the
     button at once. "Copied" is said through one live region of the page, made at load (a region
     made and filled at once is not read out by every screen reader). */
  var copyStatus = null;
  if (document.querySelector("button.copy")) {
    copyStatus = document.createElement("span");
    copyStatus.className = "visually-hidden copy-status"; copyStatus.setAttribute("role", "status");
    document.body.appendChild(copyStatus);
  }
  function copied(button, ok) {
    button.textContent = ok ? "Copied" : "Copy";
    if (!copyStatus) { return; }
    copyStatus.textContent = "";  /* the same words again are a change too: read out again */
    window.setTimeout(function () {
      copyStatus.textContent = ok ? "Copied" : "Could not copy: select the snippet and copy it yourself";
    }, 50);
  }
  function copyBySelection(button, source) {
    var ok = false;
    source.select();
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    button.focus();
    return ok;
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button.copy") : null;
    if (!button) { return; }
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) { return; }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(source.value).then(function () { copied(button, true); },
        function () { copied(button, copyBySelection(button, source)); });
    } else { copied(button, copyBySelection(button, source)); }
  });
}());
