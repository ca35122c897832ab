// Live refresh without a full reload: fetch this view's live block and swap it in place.
// Pauses while the keyboard focus is inside the block (nothing moves under the user), while
// the tab is hidden, or when the user presses "Pause live refresh". No build step, no library.
"use strict";
(function () {
  var region = document.getElementById("live");
  var status = document.getElementById("live-status");
  var toggle = document.getElementById("live-toggle");
  if (!region || !status || !toggle || !window.fetch) {
    return;
  }
  var seconds = Number(region.getAttribute("data-live")) || 5;
  var paused = false;
  var busy = false;
  var refreshes = 0;
  toggle.hidden = false;
  toggle.addEventListener("click", function () {
    paused = !paused;
    toggle.setAttribute("aria-pressed", paused ? "true" : "false");
    toggle.textContent = paused ? "Resume live refresh" : "Pause live refresh";
    status.textContent = paused
      ? "Live refresh paused."
      : "Live: this view refreshes itself every " + seconds + " s.";
  });

  function openDetails() {
    var open = [];
    region.querySelectorAll("details[open][id]").forEach(function (d) { open.push(d.id); });
    return open;
  }

  function refresh() {
    if (paused || busy || document.hidden) {
      return;
    }
    var focused = document.activeElement;
    if (focused && focused !== region && region.contains(focused)) {
      return;
    }
    var open = openDetails();
    busy = true;
    fetch(window.location.href, {
      headers: { "X-Operator-Fragment": "1" },
      credentials: "same-origin",
      cache: "no-store",
    }).then(function (response) {
      if (response.status === 401) {
        paused = true;
        status.textContent = "Your session has ended: reload the page to sign in again.";
        return null;
      }
      if (!response.ok) {
        status.textContent = "Could not refresh (HTTP " + response.status + "); trying again.";
        return null;
      }
      return response.text();
    }).then(function (html) {
      if (html === null) {
        return;
      }
      region.innerHTML = html;
      open.forEach(function (id) {
        var d = document.getElementById(id);
        if (d) { d.open = true; }
      });
      refreshes += 1;
      region.setAttribute("data-refreshes", String(refreshes));
      status.textContent = "Live: updated at " + new Date().toLocaleTimeString() + ".";
    }).catch(function () {
      status.textContent = "Could not refresh (the server did not answer); trying again.";
    }).then(function () {
      busy = false;
    });
  }

  window.setInterval(refresh, seconds * 1000);
}());
