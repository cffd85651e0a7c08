/* search.html: find jobs of every project by their metadata, parameters and log error lines.

   Each project's records are in <project>/search-data.js (written with its catalog by
   reportgen/site/search.py), loaded by an injected <script src> (a request for JSON fails on
   file://), only once there is something to search, one project after another, so a big site
   costs nothing until it is searched.  A project's matches are put into the list in place as its
   file arrives; what is shown already stays (a focused result keeps the focus), and only a new
   search (words, project, scope) draws the list again.  Everything from the data is shown as
   text (DOM text nodes, reportgenElement); a link is only ever a relative path the build wrote.

   Matching: any case; every whitespace-separated word must occur in some field of the job (in
   the chosen scope: metadata, parameters, logs, or the job id alone); "a phrase" in quotes is one
   word; a node's name is a field of the logs (found even when its log has no marked line).  A
   matched field shows ~SNIPPET characters around its first match (see snippetWindow).
   Results: newest end first across the projects (jobs without an end time last), then by project
   (home page order) and as its data file lists them; a project's matches are merged in where they
   belong as its file arrives (see arrived).
   The search lives in the hash (#q=...&project=...&scope=...): a search is a link, restored on
   load and on Back/Forward. */
(function () {
  "use strict";
  var FORMAT = 1, PAGE = 100, SNIPPETS = 3, WAIT_MS = 80, TELL_MS = 1000;
  var el = window.reportgenElement, plural = window.reportgenPlural;  /* theme.js, loaded first on every page */
  var SCOPES = { "": true, metadata: true, parameters: true, logs: true, id: true };  /* id: the job id field only */
  /* A matched field of up to 240 characters (search.py's MAX_TEXT) shown whole made a result of
     three long log lines half a screen tall and hid the match in it: SNIPPET characters around the
     first match are shown, with an ellipsis at a cut end and the whole text in the title. */
  var SNIPPET = 100, SNAP = 15;  /* SNAP: how far a cut moves outwards to fall between two words */
  var IN_HEAD = { id: true, status: true, end: true };
  var KIND_SIGNS = { error: "\u2716 error", traceback: "\u2716 traceback", exception: "\u2716 exception", warning: "\u26a0 warning" };
  var box = document.getElementById("search-q"), projectSelect = document.getElementById("search-project");
  var scopeSelect = document.getElementById("search-scope"), list = document.getElementById("search-results");
  var statusLine = document.getElementById("search-status"), moreButton = document.getElementById("search-more");
  var projects = [], bySlug = {};
  var state = { q: "", project: "", scope: "" };
  var matches = [], shown = 0, loading = null, timer = 0, typing = false, told = 0, tellTimer = 0;

  Array.prototype.forEach.call(projectSelect.options, function (option) {
    if (!option.value) { return; }
    var project = { slug: option.value, name: option.textContent, src: option.getAttribute("data-src"), jobs: null, failed: "",
      order: projects.length };  /* home page order: where its matches go in the list */
    projects.push(project); bySlug[project.slug] = project;
  });

  /* ---------------------------------------------------------------- the data files */
  function own(object, key) { return Object.prototype.hasOwnProperty.call(object, key); }
  function text(value) { return typeof value === "string" ? value : value === undefined || value === null ? "" : String(value); }
  function field(scope, kind, value, extra) {
    var t = text(value);
    return { scope: scope, kind: kind, text: t, lower: t.toLowerCase(), extra: extra || null };
  }
  function prepare(job) {  /* one job's fields, each with its lower-case text, searched as they are */
    var fields = [field("metadata", "id", job.id), field("metadata", "description", job.description),
      field("metadata", "status", job.status), field("metadata", "end", job.end)];
    (Array.isArray(job.attrs) ? job.attrs : []).forEach(function (t) { fields.push(field("metadata", "attribute", t)); });
    (Array.isArray(job.params) ? job.params : []).forEach(function (t) { fields.push(field("parameters", "parameter", t)); });
    var lines = Array.isArray(job.lines) ? job.lines : [], nodes = {};
    lines.forEach(function (line) {
      if (Array.isArray(line) && line.length === 5) {
        fields.push(field("logs", "line", line[3], { node: text(line[0]), kind: text(line[1]), number: line[2], href: text(line[4]) }));
      }
    });
    /* each node name once: the job's nodes (search.py's record), then those its lines name */
    (Array.isArray(job.nodes) ? job.nodes : []).concat(lines.map(function (line) { return Array.isArray(line) ? line[0] : ""; }))
      .forEach(function (name) {
        var t = text(name);
        if (t && !own(nodes, "=" + t)) { nodes["=" + t] = true; fields.push(field("logs", "node", t)); }
      });
    return { id: text(job.id), href: text(job.href), status: text(job.status), end: text(job.end), fields: fields,
      leftOut: Array.isArray(job.left_out) ? job.left_out : null };
  }
  window.reportgenSearch = {
    add: function (data) {
      var project = data && typeof data.slug === "string" && own(bySlug, data.slug) ? bySlug[data.slug] : null;
      if (!project || project !== loading) { return; }  /* only the file asked for, once */
      if (data.format !== FORMAT || !Array.isArray(data.jobs)) {
        project.failed = "its data file is of another version: build the site again"; return;
      }
      project.jobs = data.jobs.map(prepare);
      project.cut = typeof data.cut === "number" ? data.cut : 0;  /* older jobs past the file's budget (search.py) */
    }
  };
  function wanted() { return state.project ? (own(bySlug, state.project) ? [bySlug[state.project]] : []) : projects; }
  function settled(project) { return project.jobs !== null || project.failed !== ""; }
  function busy() { return parseTerms(state.q).length > 0 && !wanted().every(settled); }  /* wanted data still to come */
  function loadNext() {  /* one project at a time, in home page order; each one searched as it arrives */
    if (loading || !state.q) { return; }
    var next = wanted().filter(function (p) { return !settled(p); })[0];
    if (!next) { return; }
    loading = next;
    var script = document.createElement("script");
    function done() {
      if (next.jobs === null && !next.failed) { next.failed = "its data file could not be loaded (" + next.src + ")"; }
      loading = null; script.remove();
      arrived(next); loadNext();
    }
    script.addEventListener("load", done);
    script.addEventListener("error", done);
    script.src = next.src;
    document.body.appendChild(script);
  }

  /* ---------------------------------------------------------------- matching */
  function parseTerms(q) {  /* words, and "quoted phrases" as one word; lower case, each once */
    var terms = [], pattern = /"([^"]*)"?|(\S+)/g, found;
    while ((found = pattern.exec(q)) !== null) {
      var term = (found[1] !== undefined ? found[1] : found[2]).trim().toLowerCase();
      if (term && terms.indexOf(term) < 0) { terms.push(term); }
    }
    return terms;
  }
  function inScope(f) { return !state.scope || (state.scope === "id" ? f.kind === "id" : f.scope === state.scope); }
  function matchJob(job, terms) {  /* the job's fields in scope holding any term, or null unless every term is in one */
    var hit = [], seen = {};
    job.fields.forEach(function (f, at) {
      if (!inScope(f)) { return; }
      var count = 0;
      terms.forEach(function (term) { if (f.lower.indexOf(term) >= 0) { count += 1; seen[term] = true; } });
      if (count) { hit.push({ field: f, count: count, at: at }); }
    });
    for (var i = 0; i < terms.length; i += 1) { if (!seen[terms[i]]) { return null; } }
    return hit;
  }
  function matchProject(project, terms) {  /* the project's matching jobs, in the order of its data file */
    var found = [];
    (project.jobs || []).forEach(function (job, at) {
      var hit = matchJob(job, terms);
      if (hit) { found.push({ project: project, job: job, hit: hit, at: at }); }
    });
    return found;
  }
  /* The results' order: newest end first (the "YYYY-MM-DD HH:MM:SS" texts compare as times), a
     job without an end time last, then the project's place on the home page, then its data file's
     order (which is newest first, then by id): one order whichever file arrives first */
  function newestFirst(a, b) {
    var x = a.job.end, y = b.job.end;
    if (x !== y) { return !x ? 1 : !y ? -1 : (x < y ? 1 : -1); }
    return a.project.order - b.project.order || a.at - b.at;
  }
  function search() {  /* a new search: every project loaded so far, the list drawn again */
    var terms = parseTerms(state.q);
    matches = [];
    if (terms.length) {
      wanted().forEach(function (project) { matches = matches.concat(matchProject(project, terms)); });
      matches.sort(newestFirst);
    }
    shown = PAGE;
    draw(terms);
  }
  function arrived(project) {  /* a project's file has loaded (or failed): add its matches where they belong */
    if (timer) { return; }  /* keys are still coming: their search follows, with this project in it */
    var terms = parseTerms(state.q);
    var found = terms.length && wanted().indexOf(project) >= 0 ? matchProject(project, terms) : [];
    if (found.length) {  /* merged by newestFirst: each new match put in at its place, first to last */
      var merged = [], i = 0, j = 0, places = [];
      while (i < matches.length || j < found.length) {
        if (j < found.length && (i >= matches.length || newestFirst(found[j], matches[i]) < 0)) {
          places.push(merged.length); merged.push(found[j]); j += 1;
        } else { merged.push(matches[i]); i += 1; }
      }
      matches = merged;
      places.forEach(function (at) { insert(at, 1, terms); });
    }
    finish(false);
  }

  /* ---------------------------------------------------------------- drawing */
  function safeHref(href) {  /* only a relative path, as the build writes them (never a scheme) */
    return href && !/^[\s\u0000-\u001f]*[a-zA-Z][a-zA-Z0-9+.-]*:/.test(href) && href.charAt(0) !== "/" ? href : "";
  }
  function termRanges(lower, terms) {  /* [start, end) of every occurrence of a term, first first */
    var ranges = [];
    terms.forEach(function (term) {
      for (var at = lower.indexOf(term); at >= 0; at = lower.indexOf(term, at + term.length)) { ranges.push([at, at + term.length]); }
    });
    return ranges.sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; });
  }
  function isSpace(value, at) { return /\s/.test(value.charAt(at)); }
  function isLowSurrogate(value, at) { var c = value.charCodeAt(at); return c >= 0xdc00 && c <= 0xdfff; }
  /* [start, end) of the text shown: a short text whole; of a longer one SNIPPET characters with a
     third of the room left over before the first match (the words that lead to it) and the rest
     after it, each cut end moved out to a space up to SNAP characters away, and never between the
     two halves of a surrogate pair (an emoji) */
  function snippetWindow(value, first) {
    var n = value.length;
    if (n <= SNIPPET) { return [0, n]; }
    var from = first ? Math.min(first[0], n) : 0, to = first ? Math.min(first[1], n) : 0;
    var start = Math.max(0, Math.min(from - Math.floor(Math.max(0, SNIPPET - (to - from)) / 3), n - SNIPPET));
    var end = Math.min(n, start + SNIPPET), k;
    for (k = start; k > 0 && k > start - SNAP; k -= 1) { if (isSpace(value, k - 1)) { start = k; break; } }
    for (k = end; k < n && k < end + SNAP; k += 1) { if (isSpace(value, k)) { end = k; break; } }
    if (start > 0 && isLowSurrogate(value, start)) { start -= 1; }
    if (end < n && isLowSurrogate(value, end)) { end += 1; }
    return [start, end];
  }
  /* A range of the lower-case text as a range of the text, when a letter's lower case is longer
     ("\u0130" is "i\u0307"): whole characters, the ones whose lower case the range touches */
  function toValueRange(value, range) {
    var start = -1, low = 0, i = 0;
    while (i < value.length) {
      var ch = String.fromCodePoint(value.codePointAt(i)), next = low + ch.toLowerCase().length;
      if (start < 0 && next > range[0]) { start = i; }
      i += ch.length;
      if (next >= range[1]) { break; }
      low = next;
    }
    return [start < 0 ? value.length : start, i];
  }
  /* The field's text (its snippet) with each occurrence of a term in <mark>, as DOM nodes */
  function marked(value, lower, terms) {
    var span = el("bdi", null, "search-text");  /* bdi: a right-to-left mark in the data stays inside it */
    var ranges = termRanges(lower, terms);
    if (lower.length !== value.length) { ranges = ranges.map(function (r) { return toValueRange(value, r); }); }
    var cut = snippetWindow(value, ranges.length ? ranges[0] : null);
    if (cut[0] > 0 || cut[1] < value.length) { span.title = value; }
    if (cut[0] > 0) { span.appendChild(document.createTextNode("\u2026")); }
    var pos = cut[0];
    ranges.forEach(function (range) {
      var start = Math.max(range[0], pos), end = Math.min(range[1], cut[1]);
      if (end <= start) { return; }  /* before what is shown already, or past the window */
      if (start > pos) { span.appendChild(document.createTextNode(value.slice(pos, start))); }
      span.appendChild(el("mark", value.slice(start, end)));
      pos = end;
    });
    if (pos < cut[1]) { span.appendChild(document.createTextNode(value.slice(pos, cut[1]))); }
    if (cut[1] < value.length) { span.appendChild(document.createTextNode("\u2026")); }
    return span;
  }
  function snippet(hit, terms) {
    var f = hit.field, item = el("li", null, "search-snippet search-" + f.kind);
    if (f.kind === "line") {
      var x = f.extra, label = "log " + x.node + ", line " + x.number + " " + (own(KIND_SIGNS, x.kind) ? KIND_SIGNS[x.kind] : x.kind);
      var href = safeHref(x.href), where = href ? el("a", label, "search-where") : el("span", label, "search-where");
      if (href) { where.href = href; }
      item.appendChild(where);
    } else {
      item.appendChild(el("span", f.kind, "search-where"));
    }
    item.appendChild(document.createTextNode(" "));
    item.appendChild(marked(f.text, f.lower, terms));
    return item;
  }
  function result(match, terms) {
    var job = match.job, item = el("li", null, "search-result"), head = el("p", null, "search-head");
    var href = safeHref(job.href), link = el(href ? "a" : "span", null, "search-job");
    link.appendChild(el("bdi", job.id));
    if (href) { link.href = href; }
    head.appendChild(link);
    head.appendChild(document.createTextNode(" "));
    head.appendChild(el("span", match.project.name, "search-project"));
    head.appendChild(document.createTextNode(" "));
    head.appendChild(el("span", job.status, "status status-" + (/^[a-z-]+$/.test(job.status) ? job.status : "unknown")));
    if (job.end) { head.appendChild(document.createTextNode(" ")); head.appendChild(el("span", job.end + " UTC", "meta")); }
    item.appendChild(head);
    var hits = match.hit.filter(function (h) { return !own(IN_HEAD, h.field.kind); })  /* shown in the head already */
      .sort(function (a, b) { return b.count - a.count || a.at - b.at; }).slice(0, SNIPPETS);
    if (hits.length) {
      var snippets = el("ul", null, "search-snippets");
      hits.forEach(function (h) { snippets.appendChild(snippet(h, terms)); });
      item.appendChild(snippets);
    }
    return item;
  }
  function describe() {
    var all = wanted(), jobs = matches.length;
    var done = all.filter(function (p) { return p.jobs !== null; }).length;  /* a failed project was not searched */
    if (!state.q || !parseTerms(state.q).length) {
      return "Type to search the jobs of " + (state.project ? "this project" : projects.length + " " + plural(projects.length, "project")) + ".";
    }
    var said = jobs + " " + plural(jobs, "job") + " " + plural(jobs, "matches", "match");
    if (jobs > shown) { said += " (showing the first " + shown + ")"; }
    said += "; searched " + done + " of " + all.length + " " + plural(all.length, "project") + ".";
    var cut = all.filter(function (p) { return p.jobs !== null && p.cut; });
    if (cut.length) {
      said += " Searched by metadata only: " + cut.map(function (p) {
        return "the " + p.cut.toLocaleString("en") + " oldest " + plural(p.cut, "job") + " of " + p.name;
      }).join("; ") + " (the project's search data is capped at 16 MB).";
    }
    var failed = all.filter(function (p) { return p.failed; });
    if (failed.length) {
      said += " Not searched: " + failed.map(function (p) { return p.name + " (" + p.failed + ")"; }).join("; ") + ".";
    }
    return said;
  }
  /* The list always shows matches.slice(0, shown), one <li> per match: draw() makes it anew for a
     new search; insert() and showMore() change only the <li>s that differ, so the others (and the
     focus in them) stay. */
  function results(from, to, terms) {
    var fragment = document.createDocumentFragment();
    matches.slice(from, to).forEach(function (match) { fragment.appendChild(result(match, terms)); });
    return fragment;
  }
  function draw(terms) {
    list.textContent = "";
    list.appendChild(results(0, shown, terms));
    finish(true);
  }
  function insert(at, count, terms) {  /* matches[at, at + count) are new: put the shown ones in, drop any pushed past the page */
    if (at >= shown) { return; }
    list.insertBefore(results(at, Math.min(at + count, shown), terms), list.children[at] || null);
    var lostFocus = false;
    while (list.children.length > shown) {
      lostFocus = lostFocus || list.lastElementChild.contains(document.activeElement);
      list.removeChild(list.lastElementChild);
    }
    if (lostFocus) { moreButton.hidden = false; moreButton.focus(); }  /* the focused result is now behind Show more */
  }
  function showMore() {
    var first = shown;
    shown += PAGE;
    list.appendChild(results(first, shown, parseTerms(state.q)));
    finish(true);
    var next = list.children[first];
    if (next) { var link = next.querySelector("a"); if (link) { link.focus(); } }  /* the keyboard goes on where it was */
  }
  function finish(now) {  /* after any change of the list: the button, the status line, data-pending */
    var loadingMore = busy();
    moreButton.hidden = matches.length <= shown;
    tell(now || !loadingMore);
    pending(timer !== 0 || loadingMore);
  }
  /* The status line is an aria-live region: each change of its text is read out.  While projects
     load it is throttled: changed at once for a new search, Show more, and when the last wanted
     project has settled, otherwise at most once per TELL_MS (the latest count, on a timer), so 50
     projects arriving are read out as one or two lines, not 50.  aria-busy says it is not final. */
  function tell(now) {
    window.clearTimeout(tellTimer); tellTimer = 0;
    var wait = told + TELL_MS - Date.now();
    if (!now && wait > 0) {
      tellTimer = window.setTimeout(function () { tellTimer = 0; tell(true); }, wait);
      return;
    }
    var said = describe();
    if (statusLine.textContent !== said) { statusLine.textContent = said; }  /* the same text: nothing to read again */
    if (busy()) { statusLine.setAttribute("aria-busy", "true"); } else { statusLine.removeAttribute("aria-busy"); }
    told = Date.now();
  }
  function pending(busy) {  /* for scripts and tests: "1" while a search waits for its keys or its data */
    list.setAttribute("data-pending", busy ? "1" : "0");
  }

  /* ---------------------------------------------------------------- the hash and the controls */
  function readHash() {
    var params = new URLSearchParams(window.location.hash.slice(1));
    var project = params.get("project") || "", scope = params.get("scope") || "";
    return { q: params.get("q") || "", project: own(bySlug, project) ? project : "", scope: own(SCOPES, scope) ? scope : "" };
  }
  function hashOf(view) {
    var params = new URLSearchParams();
    if (view.q) { params.set("q", view.q); }
    if (view.project) { params.set("project", view.project); }
    if (view.scope) { params.set("scope", view.scope); }
    var hash = params.toString();
    return hash ? "#" + hash : "";
  }
  function writeHash(push) {  /* pushState/replaceState: no hashchange, no scrolling */
    var hash = hashOf(state);
    if (hash === window.location.hash || (!hash && !window.location.hash)) { return; }
    var url = window.location.href.split("#")[0] + hash;
    if (push) { window.history.pushState(null, "", url); } else { window.history.replaceState(null, "", url); }
  }
  function restore() {
    window.clearTimeout(timer); timer = 0;
    state = readHash();
    box.value = state.q; projectSelect.value = state.project; scopeSelect.value = state.scope;
    typing = false;
    search(); loadNext();
  }
  box.addEventListener("input", function () {
    state.q = box.value;
    writeHash(!typing);  /* a search is one history entry however many keys it takes */
    typing = true;
    window.clearTimeout(timer);
    pending(true);
    timer = window.setTimeout(function () { timer = 0; search(); loadNext(); }, WAIT_MS);
  });
  box.addEventListener("blur", function () { typing = false; });
  box.addEventListener("search", function () { typing = false; });  /* Enter, or the clear button */
  [projectSelect, scopeSelect].forEach(function (select) {
    select.addEventListener("change", function () {
      state.project = projectSelect.value; state.scope = scopeSelect.value;
      typing = false; writeHash(true);
      search(); loadNext();
    });
  });
  document.getElementById("search-controls").addEventListener("submit", function (event) {
    event.preventDefault(); typing = false;
  });
  moreButton.addEventListener("click", showMore);
  window.addEventListener("popstate", restore);
  window.addEventListener("hashchange", restore);
  restore();
}());
