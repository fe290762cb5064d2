// Rejoinder's counts: fills every [data-rejoinder-count="page-id"], also those added later,
// one request per batch.
(function () {
  "use strict";
  var T = { count: ["No comments", "1 comment", "{n} comments"] };  // reader-facing strings
  var me = document.currentScript;
  if (!me) return;
  var base = me.src.replace(/\/count\.js([?#].*)?$/, ""), site = me.getAttribute("data-site");
  var seen = new WeakSet(), waiting = [], timer = 0;

  function flush() {
    timer = 0;
    var batch = waiting.splice(0, 200), query = new URLSearchParams(site ? { site: site } : {});
    batch.forEach(function (el) { query.append("page_id", el.getAttribute("data-rejoinder-count")); });
    fetch(base + "/api/v1/counts?" + query, { credentials: "omit" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        batch.forEach(function (el) {
          var n = (data.pages || {})[el.getAttribute("data-rejoinder-count")] || 0;
          el.textContent = T.count[Math.min(n, 2)].replace("{n}", n.toLocaleString());
        });
      }, function () { /* a count is a nicety: leave the element as it was */ });
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
