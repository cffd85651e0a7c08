/* Times: UTC or local. The pages are built in UTC (the same input gives the same bytes, wherever
   it is built), and every time they show is a <time datetime="YYYY-MM-DDTHH:MM:SSZ"> element; a
   label that names the zone carries data-tz ("(UTC)"). The header's button switches the display
   to the browser's zone and back; the choice lives in localStorage like the theme. Local texts
   carry their offset ("2022-06-25 15:41:05 +03:00"), each its own (summer and winter differ), so a
   copied value is never ambiguous; labels name the zone ("(local, Europe/Moscow)"; its offset now,
   "(local, UTC+03:00)", when the browser gives no name: an offset in a label would contradict the
   values of the other half of the year where clocks change).
   Sorting, filtering and the address stay on the UTC values: only texts change. The catalog and
   the comparison draw their tables after load: they call window.reportgenTimes.apply(element)
   after each redraw, and build their cells with reportgenTimes.element(text). */
(function () {
  "use strict";
  var KEY = "reportgen-times";
  var remembered = null;  /* the choice when storage refuses it (private mode): kept while the page is open */
  var ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;
  var SHOWN = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;  /* how the build writes a UTC time (contexts.format_time) */
  var utcText = new WeakMap();  /* element -> the text the build wrote, to go back to */

  function stored() { try { return window.localStorage.getItem(KEY); } catch (e) { return remembered; } }
  function mode() { return stored() === "local" ? "local" : "utc"; }

  function pad(n, width) { var s = String(Math.abs(n)); while (s.length < width) { s = "0" + s; } return s; }

  /* "+03:00" for a Date's local offset on that date; "-09:30" west of Greenwich */
  function offsetText(date) {
    var minutes = -date.getTimezoneOffset(), sign = minutes < 0 ? "-" : "+";
    minutes = Math.abs(minutes);
    return sign + pad(Math.floor(minutes / 60), 2) + ":" + pad(minutes % 60, 2);
  }

  /* The moment of a datetime attribute, or null: only the build's own form is read, and a date
     that does not exist (02-30, 25:00) is refused rather than rolled over */
  function parse(iso) {
    var m = ISO.exec(String(iso || ""));
    if (!m) { return null; }
    var f = m.slice(1).map(Number), date = new Date(0);
    date.setUTCFullYear(f[0], f[1] - 1, f[2]);  /* not Date.UTC: it reads years 0-99 as 1900-1999 */
    date.setUTCHours(f[3], f[4], f[5], 0);
    if (isNaN(date.getTime()) || date.getUTCFullYear() !== f[0] || date.getUTCMonth() !== f[1] - 1 || date.getUTCDate() !== f[2] ||
        date.getUTCHours() !== f[3] || date.getUTCMinutes() !== f[4] || date.getUTCSeconds() !== f[5]) { return null; }
    return date;
  }

  function localText(date) {
    var year = date.getFullYear();
    if (year < 0 || year > 9999) { return null; }  /* a zone shift past the calendar's ends: keep UTC */
    return pad(year, 4) + "-" + pad(date.getMonth() + 1, 2) + "-" + pad(date.getDate(), 2) + " " + pad(date.getHours(), 2) + ":" +
      pad(date.getMinutes(), 2) + ":" + pad(date.getSeconds(), 2) + " " + offsetText(date);
  }

  function zoneName() {
    try { return window.Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return ""; }
  }

  function nowZone() { return "UTC" + offsetText(new Date()); }

  function setText(element, text) { if (element.textContent !== text) { element.textContent = text; } }

  /* Every <time datetime> and data-tz label under root (the document by default) in the chosen zone */
  function apply(root) {
    var local = mode() === "local", scope = root || document;
    Array.prototype.forEach.call(scope.querySelectorAll("time[datetime]"), function (element) {
      if (!utcText.has(element)) { utcText.set(element, element.textContent); }
      var date = local ? parse(element.getAttribute("datetime")) : null, text = date ? localText(date) : null;
      setText(element, text || utcText.get(element));  /* unreadable: the text stays as the build wrote it */
      if (text) { element.title = utcText.get(element) + " UTC"; } else { element.removeAttribute("title"); }
    });
    Array.prototype.forEach.call(scope.querySelectorAll("[data-tz]"), function (label) {
      if (!utcText.has(label)) { utcText.set(label, label.textContent); }
      var utc = utcText.get(label);
      setText(label, local ? utc.replace("UTC", "local, " + (zoneName() || nowZone())) : utc);
    });
  }

  /* A <time> for a UTC text as the build writes it ("2022-06-25 12:41:05"), or a text node for
     anything else (empty, "(unknown)"); in the chosen zone already */
  function element(text) {
    var value = text === null || text === undefined ? "" : String(text);
    if (!SHOWN.test(value)) { return document.createTextNode(value); }
    var time = document.createElement("time");
    time.setAttribute("datetime", value.replace(" ", "T") + "Z");
    time.textContent = value;
    apply(wrap(time));
    return time;
  }

  function wrap(node) {  /* querySelectorAll finds descendants only: a detached holder for one element */
    var holder = document.createElement("span"); holder.appendChild(node); return holder;
  }

  /* A label naming the zone: text before "(UTC", then the marked part ("(UTC)", "(UTC, approx.)") */
  function label(text) {
    var value = String(text), at = value.indexOf("(UTC"), fragment = document.createDocumentFragment();
    if (at < 0) { fragment.appendChild(document.createTextNode(value)); return fragment; }
    var zone = document.createElement("span");
    zone.setAttribute("data-tz", ""); zone.textContent = value.slice(at);
    apply(wrap(zone));
    fragment.appendChild(document.createTextNode(value.slice(0, at)));
    fragment.appendChild(zone);
    return fragment;
  }

  function describe(button) {
    var local = mode() === "local", zone = zoneName(), where = (zone ? zone + ", " : "") + nowZone();
    button.textContent = local ? "Local" : "UTC";
    button.setAttribute("data-mode", mode());
    button.title = local ? "Times in local time (" + where + "); click for UTC" : "Times in UTC; click for local time (" + where + ")";
    button.setAttribute("aria-label", button.title);
  }

  function choose(next) {
    remembered = next === "local" ? "local" : null;
    try {
      if (next === "local") { window.localStorage.setItem(KEY, "local"); } else { window.localStorage.removeItem(KEY); }
    } catch (e) { /* private mode: not persisted beyond this page */ }
    apply(document);
    document.dispatchEvent(new CustomEvent("reportgen-times", { detail: mode() }));
  }

  window.reportgenTimes = { apply: apply, element: element, label: label, mode: mode };

  document.addEventListener("DOMContentLoaded", function () {
    apply(document);
    var button = document.getElementById("times-toggle");
    if (!button) { return; }
    describe(button);
    button.addEventListener("click", function () { choose(mode() === "local" ? "utc" : "local"); describe(button); });
  });
}());
