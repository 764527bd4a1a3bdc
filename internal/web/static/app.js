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
  // A read-only address is selected whole when it gets focus, ready to copy.
  for (const el of document.querySelectorAll("input[readonly]")) {
    el.addEventListener("focus", () => el.select());
  }
});
