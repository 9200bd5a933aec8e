// Keeps the Active Sessions count and the list current without a reload:
// Server-Sent Events from /admin/events, and while the stream is down
// (dropped, refused when too many are open) polling of /admin/live every
// refresh, with new tries of the stream after 1, 2, 4... up to 30 seconds.
"use strict";
(() => {
  const live = document.getElementById("live");
  const count = document.getElementById("active-count");
  const rows = document.getElementById("rows");
  const status = document.getElementById("live-status");
  if (!live || !count || !rows) return;
  const every = Number(live.dataset.refreshMs) || 2000;
  let digest = new URL(live.dataset.events, location.href).searchParams.get("v") || "";
  // Once a form is sent the page is on its way out: a reload would cancel it.
  let leaving = false;
  let stream = null, poller = null, retry = null, backoff = 1000;

  const show = (state, text) => {
    if (!status) return;
    status.dataset.state = state;
    status.textContent = text;
  };
  const setCount = (n) => {
    count.textContent = Number(n).toLocaleString("en-US");
    count.classList.remove("stale");
  };
  const setRows = (d, html) => {
    if (d === digest) return;
    digest = d;
    rows.innerHTML = html;
  };

  const poll = async () => {
    if (leaving) return;
    try {
      const res = await fetch(live.dataset.poll, { cache: "no-store", headers: { Accept: "application/json" } });
      if (leaving) return;
      if (res.status === 401 || res.status === 403) {
        location.reload(); // signed out or no longer an admin: the server redirects
        return;
      }
      if (!res.ok) throw new Error(res.statusText);
      const data = await res.json();
      setCount(data.active);
      setRows(data.digest, data.rows);
      show("polling", `Updating every ${Math.round(every / 1000)} s`);
    } catch {
      count.classList.add("stale");
      show("offline", "Offline: retrying");
    }
  };
  const retryLater = () => {
    clearTimeout(retry);
    retry = setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, 30000);
  };
  const startPolling = () => {
    if (leaving) return;
    retryLater();
    if (poller) return;
    poller = setInterval(poll, every);
    poll();
  };
  const stopPolling = () => {
    clearInterval(poller);
    clearTimeout(retry);
    poller = retry = null;
  };

  function connect() {
    if (leaving || !window.EventSource) {
      startPolling();
      return;
    }
    if (stream) stream.close();
    const url = new URL(live.dataset.events, location.href);
    url.searchParams.set("v", digest);
    stream = new EventSource(url);
    stream.onopen = () => {
      backoff = 1000;
      stopPolling();
      show("live", "Live");
    };
    stream.addEventListener("count", (e) => setCount(e.data));
    stream.addEventListener("rows", (e) => {
      const nl = e.data.indexOf("\n");
      setRows(e.data.slice(0, nl), e.data.slice(nl + 1));
    });
    stream.addEventListener("unavailable", () => {
      count.classList.add("stale");
      show("offline", "Database unavailable: retrying");
    });
    stream.addEventListener("signedout", () => {
      stream.close();
      location.reload();
    });
    stream.onerror = () => {
      if (leaving) return;
      // Closed for good (refused) or reconnecting: poll meanwhile.
      if (stream.readyState === EventSource.CLOSED) stream = null;
      startPolling();
    };
  }

  document.addEventListener("submit", () => {
    leaving = true;
    if (stream) stream.close();
    stopPolling();
  });
  connect();
})();
