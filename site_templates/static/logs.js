/* Logs per node: a filter box in each log, made the first time the log is opened or focused,
   never at page load (a job page holds hundreds of folded logs: loading only adds four listeners);
   its lines are read at the first keystroke, so printing, which opens every log, stays cheap.
   The box hides the lines that do not contain its text (plain substring, any case) and, when
   "Only errors and warnings" is ticked, the lines the build did not mark (ln-error, ln-traceback,
   ln-warning). A link to a line the filter hides (#node-<slug>-L12) clears that log's filter and
   shows the line. Elements are made with createElement only and nothing is loaded: the page CSP
   allows it, and it works from file://. */
(function () {
  "use strict";
  var MARKED = ["ln-error", "ln-traceback", "ln-warning"];
  var filters = [];  /* one per log opened so far: {log, input, only, count, lines, texts} */

  function lineText(line) {  /* the line's text without its number (the first child, a link) */
    var number = line.firstChild && line.firstChild.nodeType === 1 ? line.firstChild.textContent : "";
    return line.textContent.slice(number.length).toLowerCase();
  }
  function isMarked(line) {
    return MARKED.some(function (name) { return line.classList.contains(name); });
  }
  function apply(filter) {
    if (!filter.lines) {
      filter.lines = Array.prototype.slice.call(filter.log.querySelectorAll(".log-text .ln"));
      filter.texts = filter.lines.map(lineText);
    }
    var needle = filter.input.value.toLowerCase(), only = filter.only.checked, shown = 0;
    filter.lines.forEach(function (line, i) {
      var keep = (!needle || filter.texts[i].indexOf(needle) >= 0) && (!only || isMarked(line));
      line.classList.toggle("ln-out", !keep);
      if (keep) { shown += 1; }
    });
    var active = needle || only;
    filter.count.textContent = active ? shown + " of " + filter.lines.length + " lines shown" : "";
  }
  function clear(filter) {
    filter.input.value = ""; filter.only.checked = false; apply(filter);
  }
  function labelled(text, control) {
    var label = document.createElement("label");
    label.appendChild(document.createTextNode(text)); label.appendChild(control);
    return label;
  }
  function build(log) {
    var box = document.createElement("div"), input = document.createElement("input");
    var only = document.createElement("input"), count = document.createElement("span");
    var name = log.querySelector("summary code");
    box.className = "log-filter"; box.setAttribute("role", "search");
    box.setAttribute("aria-label", "Filter the lines of " + (name ? name.textContent : "this log"));
    input.type = "search"; input.className = "log-filter-text"; input.placeholder = "text in the line";
    input.setAttribute("autocomplete", "off"); input.spellcheck = false;
    only.type = "checkbox"; only.className = "log-filter-only";
    count.className = "log-filter-count"; count.setAttribute("aria-live", "polite");
    var onlyLabel = document.createElement("label");
    onlyLabel.appendChild(only); onlyLabel.appendChild(document.createTextNode(" Only errors and warnings"));
    box.appendChild(labelled("Filter lines ", input)); box.appendChild(onlyLabel); box.appendChild(count);
    var summary = log.querySelector("summary"), skip = log.querySelector("a.log-skip");
    var first = skip && skip.parentNode === log ? skip : summary;  /* "Skip past this log" stays the first stop */
    log.insertBefore(box, first ? first.nextSibling : log.firstChild);
    var filter = { log: log, input: input, only: only, count: count, lines: null, texts: null };
    input.addEventListener("input", function () { apply(filter); });
    only.addEventListener("change", function () { apply(filter); });
    filters.push(filter);
    return filter;
  }
  /* A line's number is a link (#node-<slug>-L12, to copy or share), not a Tab stop: a log of 500
     lines took 500 presses of Tab to pass (its "Skip past this log" link, the first stop inside it,
     passes it whole). Done as a log is opened or focused, as the filter box is made. */
  function untab(log) {
    Array.prototype.forEach.call(log.querySelectorAll("a.lnum"), function (link) { link.tabIndex = -1; });
  }
  function attach(log) {
    if (log && !log.hasAttribute("data-log-filter")) { log.setAttribute("data-log-filter", ""); untab(log); build(log); }
  }
  function logOf(node) {
    return node && node.closest ? node.closest("details.log") : null;
  }
  /* "toggle" does not bubble: listen in the capture phase, once for every log of the page */
  document.addEventListener("toggle", function (event) {
    if (event.target.open && event.target.matches && event.target.matches("details.log")) { attach(event.target); }
  }, true);
  document.addEventListener("focusin", function (event) { attach(logOf(event.target)); });

  function reveal(id) {  /* a link to a line the filter hides: clear that log's filter, show the line */
    var target = null;
    try { target = id && document.getElementById(decodeURIComponent(id)); } catch (e) { return; }  /* "#%E0" */
    attach(logOf(target));  /* a log open at load (a failed job's) fires no "toggle": the link makes its box */
    if (!target || !target.classList.contains("ln-out")) { return; }
    filters.forEach(function (filter) { if (filter.log === logOf(target)) { clear(filter); } });
    target.scrollIntoView({ block: "center" });
  }
  window.addEventListener("hashchange", function () { reveal(window.location.hash.slice(1)); });
  /* a log open at load (a failed job's) fires no "toggle": its lines leave the Tab order now */
  Array.prototype.forEach.call(document.querySelectorAll("details.log[open]"), untab);
  reveal(window.location.hash.slice(1));  /* a page opened at a line's link */

  /* Printing: theme.js opens every closed <details> for paper, and a job's workflow and parameters
     files were half its printout. A file block the reader opened is marked .reader-open (a click
     on its summary: mouse, Enter or Space), and site.css prints the others' names only. Why not
     mark the closed ones at "beforeprint": at the window Chromium runs theme.js's listener, which
     opens them, first, whatever the phase. */
  document.addEventListener("click", function (event) {
    var summary = event.target.closest ? event.target.closest("details.gitfile > summary") : null;
    if (summary) { summary.parentNode.classList.toggle("reader-open", !summary.parentNode.open); }  /* the state it toggles to */
  });
  document.addEventListener("click", function (event) {  /* the same hash again fires no hashchange */
    var link = event.target.closest ? event.target.closest("a[href^='#']") : null;
    if (link) { reveal(link.getAttribute("href").slice(1)); }
  });
}());
