// Keep a console page's job states current without reloading it: poll the JSON of jobs/progress/ and put
// the new HTML in place. The page says where to poll in #console-refresh; without JavaScript it reloads
// itself instead (a <noscript> refresh).
(function () {
  "use strict";
  const root = document.getElementById("console-refresh");
  if (!root || !window.fetch) return;
  const url = new URL(root.dataset.pollUrl, window.location.href);
  const runIds = new Set(Array.from(document.querySelectorAll("[data-run][data-field]"), (el) => el.dataset.run));
  if (runIds.size) url.searchParams.set("runs", Array.from(runIds).join(","));
  const newest = Number(root.dataset.newestRun || 0);

  function cellsOf(html) {
    const template = document.createElement("template");
    template.innerHTML = html;
    return Array.from(template.content.querySelectorAll("td"));
  }

  function apply(data) {
    for (const [key, html] of Object.entries(data.jobs || {})) {
      const row = document.querySelector('tr[data-job="' + CSS.escape(key) + '"]');
      if (!row) continue;
      for (const cell of cellsOf(html)) {
        const old = row.querySelector("td." + cell.classList[0]);
        if (old && old.innerHTML !== cell.innerHTML) old.replaceWith(cell);
      }
    }
    for (const [id, fields] of Object.entries(data.runs || {})) {
      for (const [name, html] of Object.entries(fields)) {
        document.querySelectorAll('[data-run="' + id + '"][data-field="' + name + '"]').forEach((el) => {
          if (el.innerHTML !== html) el.innerHTML = html;
        });
      }
    }
    const notice = document.getElementById("console-newer");
    if (notice && newest && data.newest_run > newest) notice.hidden = false;
    root.dataset.refreshed = String(Date.now());
  }

  async function poll() {
    let active = 0;
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (response.ok) {
        const data = await response.json();
        active = data.active;
        apply(data);
      }
    } catch (error) {
      // The server is restarting or the network dropped: the next poll tries again.
    }
    setTimeout(poll, active ? 2000 : 10000);
  }
  setTimeout(poll, 2000);
})();
