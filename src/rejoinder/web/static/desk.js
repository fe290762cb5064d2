/* The desk's keyboard: j/k move between items, a approve, r reject, x select, ? help.
   No dependencies; every action is a plain form, so the desk works the same without this. */
(function () {
  "use strict";
  // On a phone the tabs are one line that scrolls sideways: bring the current one into view.
  var tab = document.querySelector('.desk-bar nav a[aria-current="page"]');
  if (tab && tab.parentNode.scrollWidth > tab.parentNode.clientWidth) {
    var bar = tab.parentNode;
    bar.scrollLeft = Math.max(0, tab.offsetLeft - bar.offsetLeft - (bar.clientWidth - tab.offsetWidth) / 2);
  }
  var items = Array.prototype.slice.call(document.querySelectorAll(".queue > .item"));
  var dialog = document.getElementById("keys");
  var opener = document.querySelector(".keys-open");

  function current() {
    var active = document.activeElement;
    return active && active.closest ? active.closest(".queue > .item") : null;
  }

  function focusAt(index, scroll) {
    if (!items.length) return;
    var item = items[Math.max(0, Math.min(items.length - 1, index))];
    item.focus({ preventScroll: true });
    if (scroll) item.scrollIntoView({ block: "nearest" });
  }

  function typing(target) {
    if (!target) return false;
    if (target.isContentEditable || target.tagName === "TEXTAREA" || target.tagName === "SELECT") return true;
    return target.tagName === "INPUT" && target.type !== "checkbox";
  }

  function press(item, key) {
    var button = item && item.querySelector('button[data-key="' + key + '"]');
    if (!button) return false;
    if (button.form.requestSubmit) button.form.requestSubmit(button);
    else button.click();
    return true;
  }

  function openHelp() {
    if (!dialog) return;
    if (dialog.showModal) dialog.showModal();
    else dialog.setAttribute("open", "");
  }

  if (opener && dialog) {
    opener.hidden = false;
    opener.addEventListener("click", openHelp);
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    if (dialog && dialog.open) return; // Escape closes the dialog by itself
    if (typing(event.target)) return;
    var item = current();
    var index = items.indexOf(item);
    switch (event.key) {
      case "j":
        focusAt(index + 1, true);
        break;
      case "k":
        focusAt(index < 0 ? 0 : index - 1, true);
        break;
      case "a":
        if (!press(item, "a")) return;
        break;
      case "r":
        if (!press(item, "r")) return;
        break;
      case "x": {
        var box = item && item.querySelector("input.pick");
        if (!box) return;
        box.checked = !box.checked;
        break;
      }
      case "?":
        openHelp();
        break;
      default:
        return;
    }
    event.preventDefault();
  });

  // After an action the page comes back at the next item (#item-N): start there, or at the top.
  var match = /^#item-(\d+)$/.exec(window.location.hash);
  var start = match ? document.getElementById("item-" + match[1]) : null;
  if (start && items.indexOf(start) >= 0) focusAt(items.indexOf(start), true);
  else if (items.length && !document.querySelector("form.search input:focus")) focusAt(0, false);
})();

/* The queues, live (docs/LIVE.md): every tab's count follows what readers and other
   moderators do, and a new held or reported comment brings a notice to refresh the queue
   shown. Without it the desk is the same, refreshed by hand. */
(function () {
  "use strict";
  var status = document.getElementById("desk-live");
  if (!status || !window.EventSource) return;
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

  var handlers = {
    ready: function (data) { showCounts(data.counts); },
    reset: function (data) { showCounts(data.counts); },
    queue: function (data) {
      showCounts(data.counts);
      if (data.reason === tab && (tab === "held" || tab === "reported")) {
        fresh += 1;
        announce();
      }
    }
  };
  // EventSource reconnects by itself; when the server refuses (a restart, its stream
  // limit) it gives up, and a new one is opened a little later.
  function open() {
    var source = new EventSource("/admin/events");
    Object.keys(handlers).forEach(function (type) {
      source.addEventListener(type, function (event) {
        try { handlers[type](JSON.parse(event.data)); } catch (e) { /* not ours */ }
      });
    });
    source.addEventListener("error", function () {
      if (source.readyState === EventSource.CLOSED) setTimeout(open, 15000 + Math.random() * 15000);
    });
  }
  open();
})();
