// gradpath's pages work without this file; it only saves a step or two.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Booking: show the free times in the visitor's own time zone unless they chose one.
  const tz = document.getElementById("tz");
  if (tz && tz.form && !new URLSearchParams(location.search).has("tz")) {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && zone !== tz.value) {
      const url = new URL(location.href);
      url.searchParams.set("tz", zone);
      location.replace(url);
    }
  }
  // The finder's address carries only the filters in use (htmx would send the empty ones too).
  document.body.addEventListener("htmx:configRequest", (e) => {
    if (e.detail.verb !== "get") return;
    const params = e.detail.parameters;
    for (const [k, v] of Object.entries(params)) {
      if (v === "") delete params[k];
    }
    if (!params.max_tuition) delete params.currency; // a currency alone filters nothing
  });
  // The lead queue follows its changes live: a new or changed lead refreshes the table (the
  // first page only; a search or an older page stays as it is). Without this script, or
  // when the stream breaks, the page is as fresh as its last load.
  const live = document.getElementById("queue-live");
  if (live && window.EventSource && window.htmx) {
    const source = new EventSource(live.dataset.events);
    let pending = null;
    source.addEventListener("lead", () => {
      clearTimeout(pending); // a burst of events refreshes once
      pending = setTimeout(() => {
        htmx.ajax("GET", location.pathname + location.search, { target: "main", select: "main", swap: "outerHTML" })
          .then(() => {
            const note = document.getElementById("queue-live");
            if (note) {
              note.hidden = false;
              note.textContent = "Updated " + new Date().toLocaleTimeString() + ": the queue changed.";
            }
          });
      }, 300);
    });
    window.addEventListener("pagehide", () => source.close());
  }
  // A read-only address is selected whole when it gets focus, ready to copy.
  for (const el of document.querySelectorAll("input[readonly]")) {
    el.addEventListener("focus", () => el.select());
  }
});
