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
