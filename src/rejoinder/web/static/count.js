// Rejoinder's counts: fills every [data-rejoinder-count="page-id"] with its discussion's
// comment count, also in elements added later, with one request per batch.
(function () {
  "use strict";
  var T = { count: ["No comments", "1 comment", "{n} comments"] };  // the reader-facing strings
  var script = document.currentScript;
  if (!script || !window.fetch) return;
  var base = script.src.replace(/\/count\.js([?#].*)?$/, "");
  var site = script.getAttribute("data-site");
  var seen = new WeakSet(), waiting = [], timer = 0;

  function text(n) {
    return T.count[Math.min(n, 2)].replace("{n}", n.toLocaleString());
  }
  function flush() {
    timer = 0;
    var batch = waiting.splice(0, 200), ids = [];
    batch.forEach(function (el) {
      var id = el.getAttribute("data-rejoinder-count");
      if (ids.indexOf(id) < 0) ids.push(id);
    });
    var query = new URLSearchParams(site ? { site: site } : {});
    ids.forEach(function (id) { query.append("page_id", id); });
    fetch(base + "/api/v1/counts?" + query, { credentials: "omit" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        var pages = data.pages || {};
        batch.forEach(function (el) {
          el.textContent = text(pages[el.getAttribute("data-rejoinder-count")] || 0);
        });
      }, function () { /* counts are a nicety: leave the elements as they were */ });
    if (waiting.length) flush();
  }
  function scan(node) {
    if (node.nodeType !== 1) return;
    var found = [].slice.call(node.querySelectorAll("[data-rejoinder-count]"));
    if (node.hasAttribute("data-rejoinder-count")) found.push(node);
    found.forEach(function (el) {
      if (seen.has(el)) return;
      seen.add(el);
      waiting.push(el);
      timer = timer || setTimeout(flush, 0);
    });
  }
  scan(document.documentElement);
  new MutationObserver(function (changes) {
    changes.forEach(function (change) { change.addedNodes.forEach(scan); });
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
