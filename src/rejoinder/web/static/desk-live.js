/* The desk's queues, live: every tab's count follows what readers and other moderators do,
   and a new held or reported comment brings a notice to refresh the queue shown. Uses
   Rejoinder.subscribe from live.js. Without it the desk is the same, refreshed by hand. */
(function () {
  "use strict";
  var status = document.getElementById("desk-live");
  if (!status || !window.Rejoinder || !window.Rejoinder.subscribe) return;
  var tab = status.getAttribute("data-tab");
  var fresh = 0;
  var notice = null;
  var paths = { held: "/admin", reported: "/admin/reported", published: "/admin/published",
                refused: "/admin/refused", all: "/admin/all" };

  function showCounts(counts) {
    Object.keys(paths).forEach(function (key) {
      var link = document.querySelector('.desk-bar nav a[href="' + paths[key] + '"] .count');
      if (link && typeof counts[key] === "number") link.textContent = counts[key];
    });
  }

  function announce() {
    var head = document.querySelector(".queue-head");
    if (!head) return;
    if (!notice) {
      notice = document.createElement("p");
      notice.className = "flash live-notice";
      head.parentNode.insertBefore(notice, head.nextSibling);
    }
    var text = status.getAttribute("data-new").replace("{count}", fresh);
    notice.textContent = text + " ";
    var link = document.createElement("a");
    link.href = window.location.href;
    link.textContent = status.getAttribute("data-refresh");
    notice.appendChild(link);
    status.textContent = text;
  }

  window.Rejoinder.subscribe("/admin/events", {
    ready: function (data) { showCounts(data.counts); },
    reset: function (data) { showCounts(data.counts); },
    queue: function (data) {
      showCounts(data.counts);
      if (data.reason === tab && (tab === "held" || tab === "reported")) {
        fresh += 1;
        announce();
      }
    }
  });
})();
