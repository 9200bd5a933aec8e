// Keeps the Active Sessions count current without reloading the page.
"use strict";
(() => {
  const count = document.getElementById("active-count");
  if (!count) return;
  const changed = document.getElementById("list-changed");
  const every = Number(count.dataset.refreshMs) || 5000;
  // Once a form is sent the page is on its way out: a reload would cancel it.
  let leaving = false;
  document.addEventListener("submit", () => { leaving = true; });

  const refresh = async () => {
    if (leaving) return;
    try {
      const res = await fetch("/admin/count", { cache: "no-store", headers: { Accept: "application/json" } });
      if (leaving) return;
      if (res.status === 401 || res.status === 403) {
        location.reload(); // signed out or no longer an admin: the server redirects
        return;
      }
      if (!res.ok) throw new Error(res.statusText);
      const { active } = await res.json();
      count.textContent = String(active);
      if (changed) changed.hidden = String(active) === count.dataset.listed;
      count.classList.remove("stale");
    } catch {
      count.classList.add("stale");
    }
  };
  setInterval(refresh, every);
})();
